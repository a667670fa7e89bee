"""Run a benchmark under the project's virtualenv, whatever Python started it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from benchmarks.harness import ROOT

VENV = ROOT / ".venv" / "bin"


def run_in_project_venv(script: str) -> None:
    """Re-run ``script`` with its arguments under .venv when this Python lacks the project's
    dependencies (exit with a hint when there is no .venv). Call it before importing them."""
    try:
        import psycopg2  # noqa: F401
        import redis  # noqa: F401
    except ImportError:
        if (VENV / "python").exists() and Path(sys.prefix).resolve() != VENV.parent.resolve():
            os.execv(VENV / "python", [VENV / "python", script, *sys.argv[1:]])  # noqa: S606
        sys.exit("error: run this with the project's virtualenv: .venv/bin/python " + script)

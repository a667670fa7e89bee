"""What the in-process benchmarks (dashboard, scoring latency) share: run under the project's
virtualenv, and a PostgreSQL database of their own with Django set up and migrated on it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
SECRET_KEY = "benchmark-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"  # noqa: S105


def run_in_project_venv(script: str) -> None:
    """Re-run ``script`` under .venv when started with a Python that lacks the project."""
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        if (VENV / "python").exists() and Path(sys.prefix).resolve() != VENV.parent.resolve():
            os.execv(VENV / "python", [VENV / "python", script, *sys.argv[1:]])  # noqa: S606
        sys.exit("error: run this with the project's virtualenv: .venv/bin/python " + script)
    sys.path.insert(0, str(ROOT))


def django_on_database(name: str, *, media: str, reuse: bool = False, **env: str) -> None:
    """Create ``name`` afresh (kept as it is with ``reuse``), point Django at it, migrate. Tasks run
    in this process (no REDIS_URL); ``env`` adds settings."""
    import psycopg2

    try:
        conn = psycopg2.connect(dbname="postgres", connect_timeout=3, **PG)
    except psycopg2.OperationalError as exc:
        sys.exit(f"error: PostgreSQL is not answering on 127.0.0.1:5432 ({exc})".strip())
    conn.autocommit = True
    if not reuse:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name}")
            cur.execute(f"CREATE DATABASE {name}")
    conn.close()
    os.environ.update(
        DATABASE_URL=f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{name}",
        DJANGO_SETTINGS_MODULE="sebenzai.settings",
        SECRET_KEY=SECRET_KEY,
        DEBUG="0",
        MEDIA_ROOT=str(ROOT / "var" / media),
        **env,
    )
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

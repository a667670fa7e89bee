"""The figures kept for later: each run's JSON (and, when given, its printed table) in
``benchmarks/out/``, named after the benchmark and the time."""

from __future__ import annotations

import json
import time

from benchmarks.harness import ROOT

OUT = ROOT / "benchmarks" / "out"


def results_save(name: str, data: dict, *, table: str | None = None) -> None:
    """``out/<name>-<stamp>.json``, and ``.md`` with ``table``."""
    OUT.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (OUT / f"{name}-{stamp}.json").write_text(json.dumps(data, indent=2))
    if table is not None:
        (OUT / f"{name}-{stamp}.md").write_text(table + "\n")

"""What the benchmarks share, once. Every module is standard library at import time except
``postgres`` and ``django_db`` (psycopg2): import those after ``venv.run_in_project_venv``.

- ``venv``: re-run a benchmark under the project's .venv when another Python started it;
- ``postgres``: the server's address flags; databases created, cloned, analyzed and dropped;
- ``django_db``: Django set up in this process on a migrated database of the benchmark's own;
- ``services``: commands run to completion, servers kept in sessions of their own, free ports;
- ``usage``: CPU seconds by role from /proc, and this process's resident memory;
- ``output``: the figures kept in ``benchmarks/out/``.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the checkout the benchmarks belong to


class BenchError(Exception):
    """A failure worth one readable line."""

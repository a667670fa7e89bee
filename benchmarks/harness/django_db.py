"""Django set up in this process on a PostgreSQL database of the benchmark's own, migrated, with
Celery tasks run in-process (no REDIS_URL): for benchmarks that time the app's code directly
(dashboard, scoring latency)."""

from __future__ import annotations

import os
import sys

from benchmarks.harness import ROOT, BenchError
from benchmarks.harness.postgres import Postgres, database_recreate, postgres_check

SECRET_KEY = "benchmark-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"  # noqa: S105


def django_on_database(name: str, *, media: str, reuse: bool = False, **env: str) -> None:
    """Create ``name`` afresh (kept as it is with ``reuse``), point Django at it, migrate. Media
    go to ``var/<media>``; ``env`` adds settings."""
    pg = Postgres()
    try:
        postgres_check(pg)
    except BenchError as exc:
        sys.exit(f"error: {exc}")
    if not reuse:
        database_recreate(pg, name)
    os.environ.update(
        DATABASE_URL=pg.url(name),
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

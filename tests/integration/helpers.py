"""Helpers of the integration tests: the repository root, the mark that skips without PostgreSQL
and Redis, a worker process's environment, and waiting for a condition."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

needs_services = pytest.mark.skipif(
    not (settings.USING_POSTGRES and settings.REDIS_URL),
    reason="needs PostgreSQL and Redis (scripts/test uses them when they answer)",
)


def worker_env(broker_url: str, queue: str = "celery") -> dict[str, str]:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sebenzai.settings",
        "DATABASE_URL": url,
        "REDIS_URL": broker_url,
        "CELERY_QUEUE": queue,  # jobs the worker itself sends come back to it
        "SECRET_KEY": "integration-" + "s" * 50,
        "DEBUG": "0",
        "MEDIA_ROOT": settings.MEDIA_ROOT,
    }


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()

"""A real Celery worker process on the real broker, reading the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from sebenzai.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]

needs_services = pytest.mark.skipif(
    not (settings.USING_POSTGRES and settings.REDIS_URL),
    reason="needs PostgreSQL and Redis (scripts/test uses them when they answer)",
)


def worker_env(queue: str) -> dict[str, str]:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sebenzai.settings",
        "DATABASE_URL": url,
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": "integration-" + "s" * 50,
        "DEBUG": "0",
        "MEDIA_ROOT": settings.MEDIA_ROOT,
    }


@pytest.fixture
def celery_worker_process(transactional_db):
    """Start ``celery worker`` on a queue of its own; route this process's tasks to it."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    celery_bin = str(Path(sys.executable).with_name("celery"))
    process = subprocess.Popen(
        [
            celery_bin,
            "-A",
            "sebenzai",
            "worker",
            "-Q",
            queue,
            "-c",
            "1",
            "--pool=prefork",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "warning",
        ],
        cwd=ROOT,
        env=worker_env(queue),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    old = celery_app.conf.task_always_eager, celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = False, queue
    try:
        _wait_until_ready(queue)
        yield process
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = old
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        connection.close()


def _wait_until_ready(queue: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        replies = celery_app.control.ping(timeout=0.5)
        if replies:
            return
    raise RuntimeError(f"the Celery worker for {queue} did not answer within {timeout:.0f} s")


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()

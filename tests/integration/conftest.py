"""A real Celery worker process on the real broker, reading the test database."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from sebenzai import jobs
from sebenzai.celery import app as celery_app
from tests.integration.helpers import ROOT, worker_env


def _conf_set(name: str, value: object) -> None:
    """Set a Celery setting. The app reads Django settings under the CELERY_ namespace, where the
    namespaced key wins: setting only ``conf.task_always_eager`` silently changes nothing."""
    celery_app.conf[f"CELERY_{name.upper()}"] = celery_app.conf[name] = value


def _use_broker(url: str) -> None:
    """Point this process's Celery app at ``url``: new connection and producer pools, and a new
    control mailbox (it caches its producer pool)."""
    if celery_app.conf.broker_url == url:
        return
    _conf_set("broker_url", url)
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app.__dict__.pop("control", None)


@pytest.fixture
def celery_worker_on(transactional_db):
    """Start ``celery worker`` on queues of its own on the given broker (a base queue and one
    per kind of job, sebenzai/jobs.py), and route this process's tasks to them; returns the
    worker process. ``kinds``: only those kinds' queues (``None`` for the base queue)."""
    started = []
    old = (
        celery_app.conf.task_always_eager,
        celery_app.conf.task_default_queue,
        celery_app.conf.broker_url,
    )

    def start(
        broker_url: str, queue: str | None = None, kinds: tuple[str | None, ...] | None = None
    ) -> subprocess.Popen:
        """A new worker; on ``queue`` to take over another's (``process.queue``)."""
        queue = queue or f"test-{uuid.uuid4().hex[:8]}"
        names = (
            jobs.queue_names(queue)
            if kinds is None
            else [jobs.queue_name(kind, queue) for kind in kinds]
        )
        node = f"{queue}-{uuid.uuid4().hex[:6]}@{socket.gethostname()}"  # two may share a base
        celery_bin = str(Path(sys.executable).with_name("celery"))
        command = [celery_bin, "-A", "sebenzai", "worker", "-Q", ",".join(names), "-c", "1", "-n", node,
                   "--pool=prefork", "--without-gossip", "--without-mingle", "-l", "warning"]  # fmt: skip
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=worker_env(broker_url, queue),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        process.queue = queue
        started.append(process)
        _use_broker(broker_url)
        _conf_set("task_always_eager", False)
        _conf_set("task_default_queue", queue)
        _wait_until_ready(node)
        return process

    try:
        yield start
    finally:
        _conf_set("task_always_eager", old[0])
        _conf_set("task_default_queue", old[1])
        _use_broker(old[2])
        for process in started:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        connection.close()


@pytest.fixture
def celery_worker_process(celery_worker_on):
    """A worker on the machine's Redis (REDIS_URL)."""
    return celery_worker_on(settings.REDIS_URL)


@pytest.fixture
def queue_without_worker(transactional_db):
    """This process's jobs go to a fresh queue on the machine's Redis that no worker reads (the
    messages wait there); returns the queue's name."""
    old = (
        celery_app.conf.task_always_eager,
        celery_app.conf.task_default_queue,
        celery_app.conf.broker_url,
    )
    queue = f"test-idle-{uuid.uuid4().hex[:8]}"
    _use_broker(settings.REDIS_URL)
    _conf_set("task_always_eager", False)
    _conf_set("task_default_queue", queue)
    try:
        yield queue
    finally:
        with celery_app.connection_for_write() as broker:
            for name in jobs.queue_names(queue):
                broker.default_channel.queue_delete(name)
        _conf_set("task_always_eager", old[0])
        _conf_set("task_default_queue", old[1])
        _use_broker(old[2])


def _wait_until_ready(node: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if celery_app.control.ping(destination=[node], timeout=0.5):
            return
    raise RuntimeError(f"the Celery worker {node} did not answer within {timeout:.0f} s")

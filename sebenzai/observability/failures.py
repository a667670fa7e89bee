"""Failed Celery jobs, counted where every web node can read them.

Workers run in other processes, often on other hosts, so a count kept in a worker's memory
could not be scraped from a web node: with a broker (REDIS_URL) each failure is one HINCRBY in a
hash on the broker's Redis, which every worker and web node reaches already, one hash per base
queue (so a test's private queues count apart). With no broker, jobs run inside the web process
that sent them, and the count is that process's own."""

from __future__ import annotations

import logging
import threading
from collections import Counter

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

# Short: a scrape or a failing job must never wait long on a Redis that is away.
TIMEOUT_SECONDS = 0.5

_clients: dict[str, redis.Redis] = {}
_local: Counter[str] = Counter()
_lock = threading.Lock()


def broker_redis(url: str) -> redis.Redis:
    """This process's client of the broker's Redis at ``url`` (a pool made on first use)."""
    with _lock:
        if url not in _clients:
            _clients[url] = redis.Redis.from_url(
                url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
            )
        return _clients[url]


def failures_key(base_queue: str) -> str:
    return f"sebenzai:jobs_failed:{base_queue}"


def job_failure_record(*, name: str) -> None:
    """Count one failure of job ``name``; never raises (the job has failed already)."""
    if not settings.REDIS_URL:
        with _lock:
            _local[name] += 1
        return
    try:
        broker_redis(settings.REDIS_URL).hincrby(
            failures_key(settings.CELERY_TASK_DEFAULT_QUEUE), name, 1
        )
    except redis.RedisError as error:
        logger.warning("failed job %s not counted: %s", name, type(error).__name__)


def job_failures_local() -> dict[str, int]:
    """The counts of this process (no broker)."""
    with _lock:
        return dict(_local)

"""The health of the services behind the web process: the database, the cache's Redis and the
Celery broker, checked on demand for staff.

Each check answers ``{"status": "ok" | "down" | "unused", "latency_ms", "error", "fallback"}``:
``unused`` when the service is not configured (no CACHE_URL: the cache is per-process by design;
no REDIS_URL: Celery runs tasks in-process); ``fallback`` says that this process is currently
going without the service (the cache serving from its per-process copy; scoring jobs left to the
sweeper). Breakers are per process: another gunicorn worker may know better or worse.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.core.cache import caches
from django.db import connection
from django.utils import timezone

from sebenzai.celery import app as celery_app

from .broker import broker_breaker
from .cache import FallbackRedisCache

CHECK_TIMEOUT_SECONDS = 1.0


def timed_check(check: Callable[[], None]) -> dict:
    started = time.perf_counter()
    try:
        check()
    except Exception as error:  # noqa: BLE001 - whatever stops the service counts as down
        return {"status": "down", "latency_ms": None, "error": type(error).__name__}
    latency = round((time.perf_counter() - started) * 1000, 1)
    return {"status": "ok", "latency_ms": latency, "error": None}


def _unused() -> dict:
    return {"status": "unused", "latency_ms": None, "error": None}


def _database_ping() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _broker_ping(timeout: float) -> None:
    options = {"socket_connect_timeout": timeout, "socket_timeout": timeout}
    with celery_app.connection_for_write(transport_options=options) as broker:
        broker.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)


def services_health(*, timeout: float = CHECK_TIMEOUT_SECONDS) -> dict:
    """Check the database, the cache's Redis and the broker now, each within about ``timeout``
    seconds (the database within its own connect timeout: a request that got this far has used
    it already; the cache within its socket timeouts). Never raises."""
    backend = caches["default"]
    if isinstance(backend, FallbackRedisCache):
        cache = {**timed_check(backend.redis_ping), "fallback": backend.breaker.is_open}
    else:
        cache = {**_unused(), "fallback": False}
    if celery_app.conf.task_always_eager:
        broker = {**_unused(), "fallback": False}
    else:
        broker = {
            **timed_check(lambda: _broker_ping(timeout)),
            "fallback": broker_breaker().is_open,
        }
    return {
        "database": {**timed_check(_database_ping), "fallback": False},
        "cache": cache,
        "broker": broker,
        "checked_at": timezone.now().isoformat(),
    }

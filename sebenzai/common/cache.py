"""A Redis cache that keeps serving while Redis is away, and the circuit breaker behind it.

The rate limits (``throttles.py``) count in the cache on every worker request; with the plain
``RedisCache`` an unreachable Redis turned each of those requests into a 500. ``FallbackRedisCache``
serves an operation that meets a connection error or a timeout from a per-process ``LocMemCache``
instead, so the limits loosen to per-process counts for the outage rather than failing closed.

The breaker keeps the outage cheap: once Redis is found down, this process stops asking it for
``BREAKER_SECONDS`` (rather than each request paying a connect timeout), then lets one caller at
a time try again, and goes back to Redis the first time it answers. One warning is logged when
an outage begins, one line when it ends. State is per process, shared by all its threads (Django
makes one cache object per thread). What was written during the outage stays in the process: the
per-process copy is emptied on recovery, so a later outage never serves it stale.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)  # not errors of the command itself
DEFAULT_BREAKER_SECONDS = 5.0


class CircuitBreaker:
    """Remembers that a service was just found down, so callers skip it for ``seconds`` instead
    of each waiting on it; after that one caller at a time is let through to try it again.
    Thread-safe; the state is the process's own."""

    def __init__(self, name: str, seconds: float) -> None:
        self.name = name
        self.seconds = seconds
        self.skipped = 0  # calls that went without the service during the current outage
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._retry_at = 0.0

    @property
    def is_open(self) -> bool:
        """True while the service is taken to be down."""
        return self._down_since is not None

    def allows(self) -> bool:
        """Whether to call the service now: always while it is up; while it is down, yes for the
        first caller after each back-off (the probe), no for everyone else."""
        if self._down_since is None:
            return True
        with self._lock:
            now = time.monotonic()
            if self._down_since is None or now >= self._retry_at:
                self._retry_at = now + self.seconds
                return True
            self.skipped += 1
            return False

    def failed(self, error: BaseException) -> None:
        """The service did not answer: open (or keep open) for another back-off."""
        with self._lock:
            now = time.monotonic()
            self._retry_at = now + self.seconds
            if self._down_since is not None:
                self.skipped += 1
                return
            self._down_since, self.skipped = now, 1
        logger.warning(
            "%s is unreachable (%s); going without it, trying again every %g s",
            self.name, error, self.seconds,
        )  # fmt: skip

    def succeeded(self) -> bool:
        """The service answered: close. Says whether this ended an outage."""
        if self._down_since is None:
            return False
        with self._lock:
            if self._down_since is None:
                return False
            outage, self._down_since = time.monotonic() - self._down_since, None
        logger.warning(
            "%s is back after %.1f s; %d calls went without it", self.name, outage, self.skipped
        )
        return True


_breakers: dict[str, CircuitBreaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(name: str, seconds: float) -> CircuitBreaker:
    """The process's one breaker called ``name`` (made on first use)."""
    with _breakers_lock:
        return _breakers.setdefault(name, CircuitBreaker(name, seconds))


class FallbackRedisCache(RedisCache):
    """``RedisCache`` that serves from a per-process ``LocMemCache`` while Redis is unreachable.

    Settings: ``LOCATION`` and ``OPTIONS`` as for ``RedisCache`` (keep the socket timeouts short:
    each probe of a dead Redis waits that long); ``BREAKER_SECONDS``, how long to go without Redis
    after finding it down. A pooled connection broken by a Redis restart is retried once on a
    fresh one, so recovery does not count as a new outage.
    """

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._options = {"retry_on_error": [RedisConnectionError], **self._options}
        seconds = float(params.get("BREAKER_SECONDS", DEFAULT_BREAKER_SECONDS))
        location = server if isinstance(server, str) else ",".join(server)
        # named without any password in the URL: the name goes into the logs
        self.breaker = breaker_for(f"Redis cache {re.sub(r'//[^@/]*@', '//', location)}", seconds)
        local = {k: v for k, v in params.items() if k not in ("OPTIONS", "BREAKER_SECONDS")}
        self.fallback = LocMemCache(f"redis-fallback:{location}", local)

    def redis_ping(self) -> None:
        """Ask Redis itself, whatever the breaker says; raises when it does not answer."""
        self._cache.get_client(write=True).ping()

    def _serve(self, operation: str, *args: Any) -> Any:
        if self.breaker.allows():
            try:
                result = getattr(super(), operation)(*args)
            except UNREACHABLE as error:
                self.breaker.failed(error)
            else:
                if self.breaker.succeeded():
                    self.fallback.clear()
                return result
        return getattr(self.fallback, operation)(*args)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._serve("add", key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._serve("get", key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._serve("set", key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._serve("touch", key, timeout, version)

    def delete(self, key, version=None):
        return self._serve("delete", key, version)

    def get_many(self, keys, version=None):
        return self._serve("get_many", keys, version)

    def has_key(self, key, version=None):
        return self._serve("has_key", key, version)

    def incr(self, key, delta=1, version=None):
        return self._serve("incr", key, delta, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._serve("set_many", data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._serve("delete_many", keys, version)

    def clear(self):
        return self._serve("clear")

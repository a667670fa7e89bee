"""The cache that outlives Redis, the broker's breaker, and the services' health for staff
(Trust, item 2). The outage end to end, on gunicorn and a real Redis, is in
tests/integration/test_redis_outage.py."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.cache import caches
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework.test import APIClient

from accounts.models import Role
from annotations.models import Annotation, ScoreState
from consensus.services import unscored_task_ids
from sebenzai.celery import app as celery_app
from sebenzai.common import broker, health
from sebenzai.common import cache as cache_module
from sebenzai.common.cache import FallbackRedisCache
from tests.helpers import client_for, lease, submit

ROOT = Path(__file__).resolve().parents[1]
SHORT = {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}


@pytest.fixture(autouse=True)
def fresh_breakers(monkeypatch):
    """Breakers are per process; each test starts with none."""
    monkeypatch.setattr(cache_module, "_breakers", {})


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again on leaving: nothing listens there


def _unreachable(seconds: float = 60.0) -> FallbackRedisCache:
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    return FallbackRedisCache(url, {"BREAKER_SECONDS": seconds, "OPTIONS": SHORT})


class FlakyRedis:
    """Stands in for Django's RedisCacheClient: a dict while ``error`` is None, else that error,
    as redis-py raises it when Redis is away. Counts the calls that reached it."""

    def __init__(self) -> None:
        self.data: dict[str, object] = {}
        self.error: Exception | None = None
        self.calls = 0

    def _reach(self) -> None:
        self.calls += 1
        if self.error is not None:
            raise self.error

    def get(self, key, default):
        self._reach()
        return self.data.get(key, default)

    def set(self, key, value, timeout):
        self._reach()
        self.data[key] = value

    def incr(self, key, delta):
        self._reach()
        if key not in self.data:
            raise ValueError(f"Key {key!r} not found.")
        self.data[key] += delta
        return self.data[key]


def _flaky(seconds: float) -> tuple[FallbackRedisCache, FlakyRedis]:
    backend = _unreachable(seconds)
    fake = FlakyRedis()
    backend.__dict__["_cache"] = fake  # the cached_property RedisCache builds its client in
    return backend, fake


# --- the cache ---------------------------------------------------------------------------------


def test_an_unreachable_redis_serves_every_operation_from_the_process_without_raising():
    backend = _unreachable()

    assert backend.add("hits", 0, timeout=60) is True
    assert backend.incr("hits") == 1
    assert backend.incr("hits", 4) == 5
    assert backend.add("hits", 0) is False
    backend.set("history", [1.5, 2.5], timeout=60)
    assert backend.get("history") == [1.5, 2.5]
    assert backend.get("missing", "default") == "default"
    assert backend.get_many(["hits", "history"]) == {"hits": 5, "history": [1.5, 2.5]}
    assert backend.has_key("hits")
    assert backend.delete("hits") is True
    with pytest.raises(ValueError, match="not found"):  # as with Redis: incr needs the key
        backend.incr("hits")
    assert backend.breaker.is_open


def test_a_down_redis_costs_one_warning_per_outage_not_one_per_request(caplog):
    backend = _unreachable()
    with caplog.at_level(logging.WARNING, logger="sebenzai.common.cache"):
        for _ in range(50):
            backend.get("throttle_user_1", [])
            backend.set("throttle_user_1", [time.time()], 60)
    warnings = [r for r in caplog.records if r.name == "sebenzai.common.cache"]
    assert len(warnings) == 1
    assert "unreachable" in warnings[0].getMessage()


@pytest.mark.parametrize("error", [RedisConnectionError("refused"), RedisTimeoutError("slow")])
def test_while_the_breaker_is_open_redis_is_not_asked_at_all(error):
    backend, redis = _flaky(seconds=60)
    redis.error = error

    for _ in range(20):
        backend.set("k", 1, 60)
        assert backend.get("k") == 1

    assert redis.calls == 1  # found down once, then left alone for the back-off


def test_after_the_back_off_the_breaker_tries_redis_again_and_goes_back_to_it(caplog):
    backend, redis = _flaky(seconds=0.2)
    redis.error = RedisConnectionError("refused")
    backend.set("written-during-the-outage", 1, 60)
    assert backend.breaker.is_open

    redis.error = None  # Redis is back
    assert backend.get("written-during-the-outage") == 1  # still within the back-off
    time.sleep(0.25)
    with caplog.at_level(logging.WARNING, logger="sebenzai.common.cache"):
        assert backend.get("written-during-the-outage") is None  # asked Redis, which never had it

    assert not backend.breaker.is_open
    assert any("is back" in r.getMessage() for r in caplog.records)
    backend.set("k", 2, 60)
    assert redis.data == {backend.make_key("k"): 2}
    redis.error = RedisConnectionError("refused")  # the next outage: the process copy was emptied
    assert backend.get("written-during-the-outage") is None


def test_a_failed_probe_keeps_the_breaker_open_for_another_back_off():
    backend, redis = _flaky(seconds=0.2)
    redis.error = RedisConnectionError("refused")
    backend.get("k")
    time.sleep(0.25)
    backend.get("k")  # the probe
    backend.get("k")
    assert redis.calls == 2
    assert backend.breaker.is_open


def test_an_error_of_the_command_itself_is_not_taken_for_an_outage():
    backend, redis = _flaky(seconds=60)
    with pytest.raises(ValueError, match="not found"):
        backend.incr("never-set")
    assert not backend.breaker.is_open


def test_threads_of_a_process_share_its_breaker_and_its_fallback_copy():
    url = f"redis://:secret@127.0.0.1:{_closed_port()}/0"
    first = FallbackRedisCache(url, {"OPTIONS": SHORT})
    second = FallbackRedisCache(url, {"OPTIONS": SHORT})  # Django makes one per thread
    first.set("k", "v", 60)
    assert second.breaker is first.breaker
    assert second.breaker.is_open
    assert second.get("k") == "v"
    assert "secret" not in first.breaker.name  # the name is logged


def test_the_settings_use_the_fallback_cache_with_short_timeouts_when_cache_url_is_set():
    code = "import json, sebenzai.settings as s; print(json.dumps(s.CACHES['default']))"
    env = {**os.environ, "CACHE_URL": "redis://127.0.0.1:1/1", "SECRET_KEY": "test-" + "k" * 60}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=True, timeout=60).stdout  # fmt: skip
    cache = json.loads(out)
    assert cache["BACKEND"] == "sebenzai.common.cache.FallbackRedisCache"
    assert 0 < cache["OPTIONS"]["socket_connect_timeout"] <= 1
    assert 0 < cache["OPTIONS"]["socket_timeout"] <= 1
    assert 0 < cache["BREAKER_SECONDS"] <= 30


# --- the broker ---------------------------------------------------------------------------------


@pytest.fixture
def score_publish(monkeypatch):
    """``consensus.score``'s publish, recorded; raises as kombu does while ``down``; runs the
    job (in-process, as tests do) when ``through``."""
    calls: list[dict] = []
    state = {"down": False, "through": False}
    real = celery_app.tasks["consensus.score"].apply_async

    def apply_async(args=None, kwargs=None, **options):
        calls.append(options)
        if state["down"]:
            raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")
        return real(args, kwargs, **options) if state["through"] else None

    monkeypatch.setattr(celery_app.tasks["consensus.score"], "apply_async", apply_async)
    return calls, state


def test_a_broker_just_found_down_is_not_tried_again_until_the_back_off_ends(
    score_publish, monkeypatch
):
    calls, state = score_publish
    monkeypatch.setattr(broker, "BROKER_BREAKER_SECONDS", 0.2)
    state["down"] = True

    assert broker.task_send("consensus.score", "t1") is False  # found down: full retry policy
    started = time.monotonic()
    assert not any(broker.task_send("consensus.score", f"t{i}") for i in range(20))
    assert time.monotonic() - started < 0.1
    assert calls == [{}]

    time.sleep(0.25)
    state["down"] = False
    assert broker.task_send("consensus.score", "t2") is True  # the probe: one attempt only
    assert calls[1] == {"retry_policy": {"max_retries": 0}}
    assert broker.task_send("consensus.score", "t3") is True
    assert calls[2] == {}
    assert not broker.broker_breaker().is_open


def test_answers_sent_while_the_broker_is_known_down_stay_pending_for_the_sweeper(
    make_project, worker_clients, django_capture_on_commit_callbacks, score_publish
):
    calls, state = score_publish
    project = make_project(images=1)
    state["down"] = True
    broker.task_send("consensus.score", "warm-up")  # the broker is found down

    with django_capture_on_commit_callbacks(execute=True):
        for client in worker_clients[:3]:
            work = lease(client, project)
            assert submit(client, work["assignment"], {"label": "car"}).status_code == 201
    answers = Annotation.objects.filter(task__project=project)
    assert len(calls) == 1  # the third answer's scoring was not even tried
    assert set(answers.values_list("score_state", flat=True)) == {ScoreState.PENDING}

    state.update(down=False, through=True)  # the broker is back; the sweeper runs
    for task_id in unscored_task_ids(older_than_seconds=0):
        celery_app.tasks["consensus.score"].delay(task_id)
    assert set(answers.values_list("score_state", flat=True)) == {ScoreState.SCORED}


# --- the health check and its endpoint ----------------------------------------------------------


@pytest.fixture
def broker_at():
    """Point this process's Celery app at a broker URL, as a web process with REDIS_URL is."""
    conf = celery_app.conf
    old = (conf.task_always_eager, conf.broker_url)

    def point(url: str) -> None:
        for name, value in (("task_always_eager", False), ("broker_url", url)):
            conf[f"CELERY_{name.upper()}"] = conf[name] = value
        celery_app._pool = None

    yield point
    for name, value in zip(("task_always_eager", "broker_url"), old, strict=True):
        conf[f"CELERY_{name.upper()}"] = conf[name] = value
    celery_app._pool = None


def test_the_health_check_says_ok_for_the_database_and_unused_for_what_is_not_configured(db):
    report = health.services_health()

    assert report["database"]["status"] == "ok"
    assert report["database"]["latency_ms"] >= 0
    assert report["cache"] == {"status": "unused", "latency_ms": None, "error": None,
                               "fallback": False}  # fmt: skip
    assert report["broker"]["status"] == "unused"


def test_the_health_check_reports_a_down_cache_and_broker_quickly_and_the_fallback(
    db, settings, broker_at
):
    port = _closed_port()
    settings.CACHES = {
        "default": {
            "BACKEND": "sebenzai.common.cache.FallbackRedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/1",
            "OPTIONS": SHORT,
        }
    }
    broker_at(f"redis://127.0.0.1:{port}/0")
    caches["default"].get("anything")  # this process finds Redis down

    started = time.monotonic()
    report = health.services_health(timeout=0.5)

    assert time.monotonic() - started < 3
    assert report["database"]["status"] == "ok"
    assert report["cache"] == {"status": "down", "latency_ms": None,
                               "error": "ConnectionError", "fallback": True}  # fmt: skip
    assert report["broker"]["status"] == "down"
    assert report["broker"]["fallback"] is False  # nothing was published yet


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "status"),
    [("anonymous", 401), ("worker", 403), ("requester", 403), ("staff", 200)],
)
def test_only_staff_may_read_the_services_health(make_user, role, status):
    client = APIClient()
    if role != "anonymous":
        kind = Role.WORKER if role == "worker" else Role.REQUESTER
        client = client_for(make_user(kind, role, staff=role == "staff"))

    response = client.get("/api/v1/staff/health/")

    assert response.status_code == status
    if status == 200:
        assert set(response.json()) == {"database", "cache", "broker", "checked_at"}
        assert response.json()["database"]["status"] == "ok"
    else:
        assert set(response.json()["error"]) == {"code", "message", "field"}

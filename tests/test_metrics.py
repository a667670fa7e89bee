"""GET /metrics: who may scrape it, and that its figures follow the database and the broker. The
multiprocess sums under gunicorn and the request id in a real worker's logs are in
tests/integration/test_metrics_processes.py and test_request_id.py."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.core.cache import cache
from django.db import OperationalError
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from annotations.models import Annotation, ScoreState
from exports.models import Export, ExportFormat, ExportState
from sebenzai import jobs
from sebenzai.celery import app as celery_app
from sebenzai.metrics import collectors
from sebenzai.metrics.tallies import answers_total
from tests.helpers import lease, submit

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[1]
TOKEN = "m" * 40


def scrape(client: Client | None = None, **headers: str) -> dict[tuple[str, tuple], float]:
    """The samples of one scrape as {(name, sorted labels): value}."""
    response = (client or Client()).get("/metrics", **headers)
    assert response.status_code == 200, response.content
    text = response.content.decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def staff_client(make_user) -> Client:
    client = Client()
    client.force_login(make_user(staff=True))
    return client


def test_anonymous_scrapes_are_refused_with_the_json_error():
    response = Client().get("/metrics")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "no-cache" in response["Cache-Control"]


def test_a_signed_in_worker_is_forbidden(make_user):
    client = Client()
    client.force_login(make_user())
    response = client.get("/metrics")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_staff_and_the_metrics_token_may_scrape(make_user, settings):
    settings.METRICS_TOKEN = TOKEN
    response = staff_client(make_user).get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "no-cache" in response["Cache-Control"]
    assert scrape(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")


@pytest.mark.parametrize("header", [f"Bearer {TOKEN}x", "Bearer ", f"Bearer {TOKEN[:-1]}"])
def test_a_wrong_token_is_refused(settings, header):
    settings.METRICS_TOKEN = TOKEN
    response = Client().get("/metrics", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_no_token_is_accepted_when_none_is_configured(settings):
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


def test_metrics_is_exempt_from_the_https_redirect(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.METRICS_TOKEN = TOKEN
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200


def test_requests_are_timed_by_route_pattern_never_by_path(make_user, project, worker_client):
    work = lease(worker_client, project)
    submit(worker_client, work["assignment"], {"label": "car"})
    samples = scrape(staff_client(make_user))
    routes = {dict(labels).get("route") for name, labels in samples if "duration" in name}
    submit_route = "/api/v1/work/assignments/<uuid:assignment_id>/submit/"
    assert submit_route in routes
    assert not any(work["assignment"] in str(route) for route in routes)
    count = ("sebenzai_http_request_duration_seconds_count",
             (("method", "POST"), ("route", submit_route), ("status", "2xx")))  # fmt: skip
    assert samples[count] >= 1


def test_answers_and_scoring_lag_follow_the_database(make_user, project, worker_clients):
    client = staff_client(make_user)
    before = scrape(client)
    for worker in worker_clients[:3]:
        work = lease(worker, project)
        assert submit(worker, work["assignment"], {"label": "car"}).status_code == 201
    after = scrape(client)
    assert after[("sebenzai_answers_total", ())] == before[("sebenzai_answers_total", ())] + 3
    assert after[("sebenzai_answers_last_minute", ())] == 3
    # The test's transaction never commits, so no scoring job ran: they wait, since just now.
    assert 0 < after[("sebenzai_scoring_lag_seconds", ())] < 5
    Annotation.objects.update(score_state=ScoreState.SCORED)
    assert scrape(client)[("sebenzai_scoring_lag_seconds", ())] == 0

    # Two answers waiting to be scored, the older submitted two minutes ago; one old answer
    # falls out of the last minute.
    answers = list(Annotation.objects.order_by("created_at"))
    waiting_since = timezone.now() - timedelta(seconds=120)
    Annotation.objects.filter(pk=answers[0].pk).update(
        score_state=ScoreState.PENDING, created_at=waiting_since
    )
    Annotation.objects.filter(pk=answers[1].pk).update(score_state=ScoreState.PENDING)
    later = scrape(client)
    assert 120 <= later[("sebenzai_scoring_lag_seconds", ())] < 130
    assert later[("sebenzai_answers_last_minute", ())] == 2


def test_exports_in_flight_count_queued_and_building_exports(make_user, project):
    def export(version: int, state: str) -> None:
        Export.objects.create(project=project, version=version, format=ExportFormat.COCO,
                              options={}, state=state)  # fmt: skip

    export(1, ExportState.PENDING)
    export(2, ExportState.RUNNING)
    export(3, ExportState.RUNNING)
    export(4, ExportState.READY)
    samples = scrape(staff_client(make_user))
    assert samples[("sebenzai_exports_in_flight", (("state", "pending"),))] == 1
    assert samples[("sebenzai_exports_in_flight", (("state", "running"),))] == 2


def test_without_a_broker_queues_read_empty_and_failures_are_this_processes(make_user, settings):
    settings.REDIS_URL = ""  # the embedded default, also where the suite runs beside a Redis
    before = scrape(staff_client(make_user))
    job = ("sebenzai_jobs_failed_total", (("job", jobs.SCORE),))
    result = celery_app.tasks[jobs.SCORE].apply(args=[str(uuid.uuid4()) + "-not-a-task"])
    assert result.failed()
    samples = scrape(staff_client(make_user))
    assert samples[("sebenzai_broker_up", ())] == 0
    assert samples[("sebenzai_queue_depth", (("queue", "celery.scoring"),))] == 0
    assert samples[job] == before.get(job, 0) + 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed once the socket is: nothing listens there


def test_a_broker_that_is_down_shows_as_down_and_the_scrape_still_answers(make_user, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    client = staff_client(make_user)
    started = time.monotonic()
    samples = scrape(client)
    assert time.monotonic() - started < 1.0
    assert samples[("sebenzai_broker_up", ())] == 0
    assert not any(name == "sebenzai_queue_depth" for name, _ in samples)
    assert samples[("sebenzai_database_up", ())] == 1  # the database's figures are still there


def _redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


REDIS_DB_11 = "redis://127.0.0.1:6379/11"


@pytest.mark.skipif(not _redis_answers(REDIS_DB_11), reason="needs Redis on 127.0.0.1:6379")
def test_queue_depth_is_the_length_of_each_queue_on_the_broker(make_user, settings):
    base = f"test-metrics-{uuid.uuid4().hex[:8]}"  # queues of this test only
    settings.REDIS_URL, settings.CELERY_TASK_DEFAULT_QUEUE = REDIS_DB_11, base
    broker = redis.Redis.from_url(REDIS_DB_11)
    try:
        broker.lpush(f"{base}.scoring", *["message"] * 3)
        broker.lpush(f"{base}.exports", "message")
        broker.hset(f"sebenzai:jobs_failed:{base}", jobs.EXPORT_BUILD, 2)
        samples = scrape(staff_client(make_user))
    finally:
        broker.delete(f"{base}.scoring", f"{base}.exports", f"sebenzai:jobs_failed:{base}")
    assert samples[("sebenzai_broker_up", ())] == 1
    assert samples[("sebenzai_queue_depth", (("queue", f"{base}.scoring"),))] == 3
    assert samples[("sebenzai_queue_depth", (("queue", f"{base}.exports"),))] == 1
    assert samples[("sebenzai_queue_depth", (("queue", base),))] == 0
    assert samples[("sebenzai_jobs_failed_total", (("job", jobs.EXPORT_BUILD),))] == 2


def test_the_answers_total_counts_every_answer_with_few_rows_read_each_scrape(
    project, worker_clients, django_assert_num_queries
):
    cache.clear()
    for worker in worker_clients:
        work = lease(worker, project)
        assert submit(worker, work["assignment"], {"label": "car"}).status_code == 201
    now = timezone.now()
    ids = list(Annotation.objects.order_by("pk").values_list("pk", flat=True))
    Annotation.objects.filter(pk__in=ids[:4]).update(created_at=now - timedelta(hours=1))

    assert answers_total(now=now) == 6  # the first: a full count up to the watermark
    with django_assert_num_queries(1):  # then only the answers after it
        assert answers_total(now=now + timedelta(minutes=1)) == 6

    # Later the watermark moves past the two recent answers: counted once, not lost or doubled.
    later = now + timedelta(minutes=30)
    Annotation.objects.filter(pk=ids[4]).update(created_at=later - timedelta(seconds=5))
    assert answers_total(now=later) == 6
    assert answers_total(now=later + timedelta(minutes=30)) == 6
    # Deleted answers are forgotten when the cached count is made afresh.
    Annotation.objects.filter(pk=ids[0]).delete()
    cache.clear()
    assert answers_total(now=later) == 5


def test_a_short_metrics_token_stops_the_process_with_one_line():
    done = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "DEBUG": "1", "METRICS_TOKEN": "secret"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert done.stderr.strip() == (
        "error: METRICS_TOKEN is too short: use 32 or more random characters."
    )


def test_a_database_that_fails_shows_as_down_and_the_scrape_still_answers(make_user, monkeypatch):
    client = staff_client(make_user)  # signed in before the database goes

    def down(**kwargs):
        raise OperationalError("connection to 10.0.0.5 refused")

    monkeypatch.setattr(collectors, "answers_total", down)
    samples = scrape(client)
    assert samples[("sebenzai_database_up", ())] == 0
    assert ("sebenzai_answers_total", ()) not in samples
    assert ("sebenzai_broker_up", ()) in samples

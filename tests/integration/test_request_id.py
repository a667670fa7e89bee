"""A real Celery worker process, logging JSON: the scoring job caused by a submit logs the
submit's X-Request-ID; a job sent outside any request logs none, and its failure is counted
where the web's /metrics reads it."""

from __future__ import annotations

import json
import uuid

import pytest
from django.conf import settings
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from annotations.models import Task, TaskState
from sebenzai import jobs
from sebenzai.celery import app as celery_app
from sebenzai.common.broker import task_send
from sebenzai.observability.failures import failures_key
from tests.helpers import lease
from tests.integration.helpers import needs_services, wait_for

pytestmark = [pytest.mark.integration, needs_services]


@pytest.fixture
def json_worker(monkeypatch, celery_worker_on):
    """A worker on the machine's Redis writing JSON logs at INFO (Celery's per-job lines)."""
    monkeypatch.setenv("LOG_FORMAT", "json")
    monkeypatch.setenv("LOG_LEVEL", "INFO")
    return celery_worker_on(settings.REDIS_URL)


def _log_lines(process) -> list[dict]:
    """Stop the worker and read its log lines. The fixture merges stdout into stderr: Celery's
    start-up banner (stdout; ``--quiet`` drops it) and its shutdown notice are printed, not
    logged, so only lines that open an object are read, and each of them must parse."""
    process.terminate()
    output, _ = process.communicate(timeout=30)
    return [json.loads(raw) for raw in output.decode().splitlines() if raw.startswith("{")]


def test_the_scoring_job_logs_the_request_id_of_the_submit_that_caused_it(
    json_worker, make_project, worker_clients, settings
):
    project = make_project(images=1)
    task = Task.objects.get(project=project)
    submits = []
    for client in worker_clients[:3]:
        work = lease(client, project)
        request_id = f"submit-{uuid.uuid4().hex[:12]}"
        response = client.post(
            f"/api/v1/work/assignments/{work['assignment']}/submit/",
            {"payload": {"label": "car"}, "duration_ms": 4000},
            format="json",
            HTTP_X_REQUEST_ID=request_id,
        )
        assert response.status_code == 201
        assert response["X-Request-ID"] == request_id
        submits.append(request_id)
    assert wait_for(lambda: Task.objects.get(pk=task.pk).state == TaskState.ACCEPTED)

    # A job sent outside any request (as beat sends them) that fails: no id, and counted.
    task_send(jobs.SCORE, "not-a-task-id")
    key = failures_key(json_worker.queue)
    broker = celery_app.connection_for_write().default_channel.client
    try:
        assert wait_for(lambda: broker.hget(key, jobs.SCORE), timeout=30)
        settings.CELERY_TASK_DEFAULT_QUEUE = json_worker.queue
        staff = Client()
        staff.force_login(_staff_user())
        text = staff.get("/metrics").content.decode()
    finally:
        broker.delete(key)
    lines = _log_lines(json_worker)

    scored = [line for line in lines if "consensus.score[" in line["message"]]
    succeeded = [line for line in scored if "succeeded" in line["message"]]
    assert succeeded, lines
    assert {line["request_id"] for line in succeeded} <= set(submits)
    assert submits[-1] in {line["request_id"] for line in succeeded}  # the third answer decides
    (failed,) = [line for line in scored if line["level"] == "ERROR"]
    assert failed["request_id"] is None
    assert "ValidationError" in failed["exception"]
    samples = {
        (sample.name, tuple(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert samples[("sebenzai_jobs_failed_total", (("job", jobs.SCORE),))] == 1


def _staff_user():
    from accounts.services import user_create

    user = user_create(username="metrics_staff", password="correct-horse-42", role="worker")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user

"""Each kind of job on its own queue (sebenzai/jobs.py): every job is routed where its kind says,
and, with real worker processes as the compose file runs them (one for scoring, one for exports
and webhooks), a webhook hanging on a dead host does not delay scoring."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from django.conf import settings

from annotations.models import Task, TaskState
from exports.webhooks import webhook_set
from sebenzai import jobs
from sebenzai.celery import app as celery_app
from tests.helpers import lease, submit
from tests.integration.helpers import needs_services, wait_for

EXPECTED_KIND = {
    jobs.SCORE: jobs.SCORING,
    jobs.SUSPEND_WORKER: jobs.SCORING,
    jobs.MODEL_VOTES: jobs.SCORING,
    jobs.EXPORT_BUILD: jobs.EXPORTS,
    jobs.WEBHOOK_DELIVER: jobs.WEBHOOKS,
    jobs.RUN_MODEL: jobs.MODELS,
    jobs.SWEEP_UNSCORED: None,
    jobs.EXPIRE_LEASES: None,
    jobs.EXPORT_SWEEP: None,
    jobs.SWEEP_MODELS: None,
    jobs.RESCORE_PROJECT: None,
    jobs.RESCORE_ACTIVE: None,
}


@pytest.mark.parametrize(("name", "kind"), EXPECTED_KIND.items())
def test_every_job_is_routed_to_its_kinds_queue(name, kind):
    assert name in celery_app.tasks  # a name nobody registers would route nowhere useful
    route = celery_app.amqp.router.route({}, name)
    assert route["queue"].name == jobs.queue_name(kind, settings.CELERY_TASK_DEFAULT_QUEUE)


class BlackHole:
    """A host that takes the connection and never answers (a dead receiver behind a firewall
    that accepts): a webhook delivery to it holds its worker until egress gives up and closes
    the connection, which is noted."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self.accepted: list[float] = []
        self.closed: list[float] = []
        self._held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            self._held.append(conn)
            self.accepted.append(time.monotonic())
            threading.Thread(target=self._drain, args=(conn,), daemon=True).start()

    def _drain(self, conn: socket.socket) -> None:
        try:
            while conn.recv(65536):
                pass
        except OSError:
            return
        self.closed.append(time.monotonic())

    def close(self) -> None:
        self._server.close()
        for conn in self._held:
            conn.close()


@pytest.fixture
def black_hole():
    hole = BlackHole()
    yield hole
    hole.close()


@pytest.mark.integration
@needs_services
def test_a_webhook_to_a_dead_host_does_not_delay_scoring(
    celery_worker_on, black_hole, make_project, requester_client, worker_clients, settings,
    monkeypatch,
):  # fmt: skip
    # given the compose file's split: a worker for scoring, another for exports and webhooks
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE", "1")  # the receiver is on loopback
    settings.WEBHOOK_ALLOW_PRIVATE = True
    base = f"test-split-{time.monotonic_ns() % 10**8}"
    celery_worker_on(settings.REDIS_URL, queue=base, kinds=(None, jobs.SCORING))
    celery_worker_on(settings.REDIS_URL, queue=base, kinds=(jobs.EXPORTS, jobs.WEBHOOKS))
    project = make_project(images=2)
    decided, task = Task.objects.filter(project=project).order_by("pk")
    Task.objects.filter(pk=decided.pk).update(
        state=TaskState.ACCEPTED, accepted_label={"label": "car"}, confidence=0.9, answers_count=3
    )
    webhook_set(project=project, url=f"http://127.0.0.1:{black_hole.port}/hook")
    # and the webhooks' worker held by a delivery that the receiver never answers
    response = requester_client.post(
        f"/api/v1/projects/{project.pk}/exports/", {"format": "jsonl"}, format="json"
    )
    assert response.status_code == 202, response.content
    assert wait_for(lambda: black_hole.accepted), "the export's webhook was never delivered"
    # when the crowd answers the project's task
    for client in worker_clients[:3]:
        work = lease(client, project)
        assert work["task"] == str(task.pk)
        assert submit(client, work["assignment"], {"label": "taxi"}).status_code == 201
    # then it is scored and accepted while the delivery still hangs: before the webhooks' worker
    # gave up on the receiver (one worker on one queue could only score after that)
    assert wait_for(lambda: Task.objects.get(pk=task.pk).state == TaskState.ACCEPTED, timeout=20)
    accepted_seen = time.monotonic()
    assert wait_for(lambda: black_hole.closed, timeout=20), "egress never gave up"
    assert accepted_seen < black_hole.closed[0]

"""A database error while scoring is retried with backoff; a task that keeps failing is
quarantined after its attempt budget while other tasks go on being scored (RELIABILITY P6, P7)."""

import pytest
from django.db import OperationalError

from annotations.models import Annotation, ScoreState, Task, TaskState
from consensus import tasks as consensus_tasks
from tests.conftest import lease, submit

pytestmark = pytest.mark.django_db


def _answer(clients, project, capture) -> None:
    for client in clients:
        work = lease(client, project)
        with capture(execute=True):
            assert submit(client, work["assignment"], {"label": "car"}).status_code == 201


def test_the_score_job_retries_database_errors_with_backoff():
    job = consensus_tasks.consensus_score_task
    assert OperationalError in job.autoretry_for
    assert job.retry_backoff
    assert job.max_retries >= 3


def test_a_task_that_keeps_failing_is_quarantined_and_others_are_still_scored(
    make_project, worker_clients, django_capture_on_commit_callbacks, monkeypatch, settings
):
    poison = make_project(images=1)
    healthy = make_project(images=1)
    poison_task = Task.objects.get(project=poison)
    real_score = consensus_tasks.consensus_score
    calls = []

    def flaky(*, task_id):
        if str(task_id) == str(poison_task.pk):
            calls.append(task_id)
            raise OperationalError("server closed the connection unexpectedly")
        return real_score(task_id=task_id)

    monkeypatch.setattr(consensus_tasks, "consensus_score", flaky)
    # (eager mode runs the retries at once; the answer's commit logs the final error, robustly)
    _answer(worker_clients[:3], poison, django_capture_on_commit_callbacks)
    _answer(worker_clients[3:6], healthy, django_capture_on_commit_callbacks)

    budget = settings.SEBENZAI["SCORE_MAX_ATTEMPTS"]
    assert len(calls) == budget  # tried up to the budget, then not again
    states = set(Annotation.objects.filter(task=poison_task).values_list("score_state", flat=True))
    assert states == {ScoreState.FAILED}  # quarantined, visible to admins
    assert Task.objects.get(project=healthy).state == TaskState.ACCEPTED

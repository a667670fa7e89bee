"""A database error while scoring is retried with backoff; a task that keeps failing is
quarantined after its attempt budget while other tasks go on being scored (docs/reliability.md P6, P7);
staff see the quarantined tasks on the project dashboard and can give one a fresh attempt."""

import pytest
from django.db import OperationalError
from django.test import Client

from annotations.models import Annotation, ScoreState, Task, TaskState
from consensus import tasks as consensus_tasks
from consensus.dashboard import dashboard_figures, scoring_failures
from consensus.services import consensus_score
from tests.helpers import lease, submit

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


# --- the admin sees a quarantined task and can give it a fresh attempt (P7) ----------------------


@pytest.fixture
def quarantined(make_project, worker_clients, django_capture_on_commit_callbacks, monkeypatch):
    """A task whose three answers failed to score in every attempt (the scorer raised)."""
    project = make_project(images=1)
    task = Task.objects.get(project=project)

    def poisoned(*, task_id):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(consensus_tasks, "consensus_score", poisoned)
    _answer(worker_clients[:3], project, django_capture_on_commit_callbacks)
    assert set(task.annotations.values_list("score_state", flat=True)) == {ScoreState.FAILED}
    return task


def _retry(client, task, capture):
    with capture(execute=True):
        return client.post(f"/api/v1/staff/tasks/{task.pk}/scoring/retry/", {}, format="json")


def _scorer_counting(monkeypatch) -> list:
    """The poison is gone: the real scorer again, counting its calls."""
    calls = []

    def real(*, task_id):
        calls.append(task_id)
        return consensus_score(task_id=task_id)

    monkeypatch.setattr(consensus_tasks, "consensus_score", real)
    return calls


def test_a_quarantined_task_is_counted_and_listed_on_the_staff_dashboard(
    quarantined, make_user, make_client
):
    # given a quarantined task; when staff look at the project's figures, page, live and API
    staff = make_user(staff=True)
    figures = dashboard_figures(project=quarantined.project)
    browser = Client()
    browser.force_login(staff)
    page = browser.get(f"/staff/projects/{quarantined.project_id}/").content.decode()
    live = browser.get(f"/staff/projects/{quarantined.project_id}/live/").json()
    api = make_client(staff).get(f"/api/v1/staff/projects/{quarantined.project_id}/dashboard/")
    # then each counts its answers and names the task, linking to its review page
    listed = [{"task": str(quarantined.pk), "gold": False, "answers": 3}]
    assert figures["score_failed"] == {"answers": 3, "tasks": 1, "listed": listed}
    assert figures["score_failed"] == scoring_failures(project=quarantined.project)
    assert api.json()["score_failed"] == figures["score_failed"]
    assert live["figures"]["score_failed"] == figures["score_failed"]
    for html in (page, live["html"]):
        assert '<b class="failed-answers">3</b>' in html
        assert f'href="/staff/review/{quarantined.pk}/"' in html
        assert f'data-url="/api/v1/staff/tasks/{quarantined.pk}/scoring/retry/"' in html


def test_staff_retry_scores_a_quarantined_task_once_and_a_repeat_does_nothing(
    quarantined, make_user, make_client, django_capture_on_commit_callbacks, monkeypatch
):
    # given a quarantined task whose poison is gone
    staff = make_client(make_user(staff=True))
    calls = _scorer_counting(monkeypatch)
    # when staff retry its scoring, twice
    first = _retry(staff, quarantined, django_capture_on_commit_callbacks)
    second = _retry(staff, quarantined, django_capture_on_commit_callbacks)
    # then the first re-queues its answers and they are scored once; the second finds nothing
    assert first.status_code == 202
    assert first.json() == {"task": str(quarantined.pk), "requeued_answers": 3}
    assert second.status_code == 200
    assert second.json()["requeued_answers"] == 0
    assert len(calls) == 1
    answers = quarantined.annotations.values_list("score_state", "score_attempts")
    assert set(answers) == {(ScoreState.SCORED, 1)}
    quarantined.refresh_from_db()
    assert quarantined.state == TaskState.ACCEPTED
    assert dashboard_figures(project=quarantined.project)["score_failed"]["answers"] == 0


def test_a_retry_while_the_poison_remains_gets_a_fresh_budget_then_quarantines_again(
    quarantined, make_user, make_client, django_capture_on_commit_callbacks, monkeypatch, settings
):
    # given a quarantined task that still crashes the scorer
    calls = []

    def poisoned(*, task_id):
        calls.append(task_id)
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(consensus_tasks, "consensus_score", poisoned)
    # when staff retry it
    response = _retry(
        make_client(make_user(staff=True)), quarantined, django_capture_on_commit_callbacks
    )
    # then it is tried the full budget again, no more, and is back in quarantine
    assert response.status_code == 202
    assert len(calls) == settings.SEBENZAI["SCORE_MAX_ATTEMPTS"]
    states = set(quarantined.annotations.values_list("score_state", flat=True))
    assert states == {ScoreState.FAILED}


def test_only_staff_can_retry_a_quarantined_task(
    quarantined, requester_client, worker_client, django_capture_on_commit_callbacks
):
    # given the project's owner and a worker who answered it; when they ask for a retry
    for client in (requester_client, worker_client):
        response = _retry(client, quarantined, django_capture_on_commit_callbacks)
        # then they are refused and the answers stay quarantined
        assert response.status_code == 403
    states = set(quarantined.annotations.values_list("score_state", flat=True))
    assert states == {ScoreState.FAILED}


def test_retrying_a_task_that_does_not_exist_is_not_found(make_user, make_client):
    staff = make_client(make_user(staff=True))
    response = staff.post(
        "/api/v1/staff/tasks/00000000-0000-4000-8000-000000000000/scoring/retry/", {}
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"

"""Blocking a worker from a project: their undecided answers stop counting, tasks are re-scored,
and a second block changes nothing."""

import pytest

from annotations.models import Assignment, AssignmentState, ProjectBlock, Task, TaskState
from consensus.blocking import worker_block
from consensus.models import ConsensusResult
from tests.consensus.test_review import answer
from tests.helpers import lease, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def spammed(make_project, worker_clients, django_capture_on_commit_callbacks):
    """A task in review because the third worker (the spammer) answered 'truck'."""
    project = make_project(images=2, redundancy_min=3, redundancy_max=3, acceptance_threshold=0.9)
    labels = [{"label": "car"}, {"label": "car"}, {"label": "truck"}]
    task = answer(worker_clients, project, labels, django_capture_on_commit_callbacks)
    assert task.state == TaskState.REVIEW
    return task


def test_blocking_frees_the_slot_reopens_and_rescores_without_the_worker(
    spammed, worker_clients, make_user, django_capture_on_commit_callbacks, make_client
):
    admin, spammer = make_user(staff=True), worker_clients[2].user
    version = ConsensusResult.objects.get(task=spammed).version

    with django_capture_on_commit_callbacks(execute=True):
        outcome = worker_block(project=spammed.project, worker=spammer, blocked_by=admin)

    task = Task.objects.get(pk=spammed.pk)
    assert outcome.created
    assert outcome.rescored == [str(task.pk)]
    assert (task.state, task.answers_count, task.slots_taken) == (TaskState.OPEN, 2, 2)
    result = ConsensusResult.objects.get(task=task)
    assert result.version == version + 1
    assert result.answers == 2
    # another worker takes the freed slot, and the task is accepted without the spammer
    newcomer = worker_clients[3]
    assert lease(newcomer, spammed.project)["task"] == str(task.pk)
    answer([newcomer], spammed.project, [{"label": "car"}], django_capture_on_commit_callbacks)
    assert Task.objects.get(pk=task.pk).state == TaskState.ACCEPTED


def test_blocking_twice_changes_nothing_the_second_time(
    spammed, worker_clients, make_user, django_capture_on_commit_callbacks
):
    admin, spammer = make_user(staff=True), worker_clients[2].user
    with django_capture_on_commit_callbacks(execute=True):
        worker_block(project=spammed.project, worker=spammer, blocked_by=admin)
    snapshot = list(Task.objects.values_list("state", "answers_count", "slots_taken"))
    version = ConsensusResult.objects.get(task=spammed).version

    with django_capture_on_commit_callbacks(execute=True):
        again = worker_block(project=spammed.project, worker=spammer, blocked_by=admin)

    assert not again.created
    assert again.rescored == []
    assert list(Task.objects.values_list("state", "answers_count", "slots_taken")) == snapshot
    assert ConsensusResult.objects.get(task=spammed).version == version
    assert ProjectBlock.objects.count() == 1


def test_blocking_gives_back_the_workers_live_lease(
    spammed, worker_clients, make_user, django_capture_on_commit_callbacks
):
    admin, spammer = make_user(staff=True), worker_clients[2].user
    work = lease(worker_clients[2], spammed.project)  # the second image
    assert work is not None

    with django_capture_on_commit_callbacks(execute=True):
        worker_block(project=spammed.project, worker=spammer, blocked_by=admin)

    assert Assignment.objects.get(pk=work["assignment"]).state == AssignmentState.SKIPPED
    assert Task.objects.get(pk=work["task"]).slots_taken == 0
    assert lease(worker_clients[2], spammed.project) is None


def test_block_api_is_201_then_200(spammed, worker_clients, make_user, make_client):
    client = make_client(make_user(staff=True))
    url = f"/api/v1/staff/projects/{spammed.project_id}/workers/{worker_clients[2].user.pk}/block/"
    first = client.post(url, {"reason": "random answers"}, format="json")
    second = client.post(url, {}, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert client.post(url, {"reason": 5}, format="json").json()["error"]["field"] == "reason"
    missing = f"/api/v1/staff/projects/{spammed.project_id}/workers/999999/block/"
    assert client.post(missing, {}, format="json").status_code == 404


def test_a_blocked_workers_answer_is_refused_as_blocked(
    spammed, worker_clients, make_user, django_capture_on_commit_callbacks
):
    spammer = worker_clients[2]
    work = lease(spammer, spammed.project)
    with django_capture_on_commit_callbacks(execute=True):
        worker_block(project=spammed.project, worker=spammer.user, blocked_by=make_user(staff=True))
    response = submit(spammer, work["assignment"], {"label": "car"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "blocked"


@pytest.mark.parametrize("role", ["requester", "staff"])
def test_only_a_worker_account_can_be_blocked(spammed, make_user, make_client, requester, role):
    client = make_client(make_user(staff=True))
    target = requester if role == "requester" else make_user(staff=True)
    url = f"/api/v1/staff/projects/{spammed.project_id}/workers/{target.pk}/block/"
    response = client.post(url, {}, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "not_a_worker",
        "field": "worker",
        "message": "Only a worker account can be blocked.",
    }
    assert not ProjectBlock.objects.exists()

"""Leasing: open slots, one worker once per task, expiry, skip."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from annotations.models import Assignment, AssignmentState, Task
from annotations.services.assignments import leases_expire, task_lease_next
from tests.helpers import lease, submit

pytestmark = pytest.mark.django_db


def test_asking_twice_returns_the_same_live_lease(worker_client, project):
    first = lease(worker_client, project)
    assert lease(worker_client, project)["assignment"] == first["assignment"]


def test_a_task_is_never_leased_beyond_its_target(make_project, worker_clients):
    project = make_project(images=1, redundancy_min=2)
    leased = [lease(c, project) for c in worker_clients[:3]]
    assert leased[2] is None
    assert Task.objects.get(project=project).slots_taken == 2


def test_tasks_nearest_completion_are_served_first(make_project, worker_clients):
    project = make_project(images=2, redundancy_min=3)
    first = lease(worker_clients[0], project)
    assert lease(worker_clients[1], project)["task"] == first["task"]


def test_a_worker_never_gets_a_task_they_skipped_or_answered(make_project, worker_client):
    project = make_project(images=2, redundancy_min=3)
    first = lease(worker_client, project)
    assert (
        worker_client.post(f"/api/v1/work/assignments/{first['assignment']}/skip/").status_code
        == 200
    )
    second = lease(worker_client, project)
    assert second["task"] != first["task"]
    assert submit(worker_client, second["assignment"], {"label": "car"}).status_code == 201
    assert lease(worker_client, project) is None


def test_an_expired_lease_frees_its_slot_and_a_late_answer_is_refused(make_project, worker_clients):
    project = make_project(images=1, redundancy_min=1)
    work = lease(worker_clients[0], project)
    assert lease(worker_clients[1], project) is None
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        assert leases_expire() == 1
        assert lease(worker_clients[1], project) is not None
        late = submit(worker_clients[0], work["assignment"], {"label": "car"})
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "already_expired"
    assert Assignment.objects.get(pk=work["assignment"]).state == AssignmentState.EXPIRED


def test_a_late_answer_before_the_reaper_ran_is_refused_as_expired(make_project, worker_client):
    project = make_project(images=1, redundancy_min=1)
    work = lease(worker_client, project)
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        late = submit(worker_client, work["assignment"], {"label": "car"})
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "assignment_expired"
    assert Task.objects.get(project=project).slots_taken == 0


def test_paused_projects_serve_no_work(make_project, worker_client, requester_client):
    project = make_project(images=2)
    assert (
        requester_client.patch(
            f"/api/v1/projects/{project.pk}/", {"status": "paused"}, format="json"
        ).status_code
        == 200
    )
    assert lease(worker_client) is None


def test_gold_is_mixed_in_and_served_to_every_worker_once(make_project, make_user):
    project = make_project(images=2, gold_ratio=0.5)
    gold = Task.objects.filter(project=project).first()
    gold.is_gold, gold.gold_answer = True, {"label": "car"}
    gold.save()
    workers = [make_user() for _ in range(5)]

    class AlwaysGold:
        def random(self) -> float:
            return 0.0

    served = [task_lease_next(worker=w, project=project, rng=AlwaysGold()).task_id for w in workers]
    assert served == [gold.pk] * 5

"""Prefetch: the page holds the tasks after the one shown (up to PREFETCH_DEPTH, 2). They count
in the redundancy, are given back on leave, and none is taken at the end of a project."""

import pytest

from annotations.models import Assignment, AssignmentState, Task
from tests.helpers import lease, submit

pytestmark = pytest.mark.django_db


def _release(client, assignment: str):
    return client.post(f"/api/v1/work/assignments/{assignment}/release/", {}, format="json")


def _ids(*leases: dict) -> list[str]:
    return [lease["assignment"] for lease in leases]


@pytest.fixture
def few_to_spare(settings):
    settings.SEBENZAI = {**settings.SEBENZAI, "PREFETCH_MIN_OPEN_TASKS": 2}


def test_beyond_the_tasks_held_comes_another_and_asking_again_gives_the_same(
    make_project, worker_client, few_to_spare
):
    project = make_project(images=4)
    shown = lease(worker_client, project)
    ahead = lease(worker_client, project, holding=_ids(shown))
    assert ahead["task"] != shown["task"]
    # The reply was lost: asked again, the page gets the same lease rather than a new task.
    assert lease(worker_client, project, holding=_ids(shown)) == ahead
    # A reload asks holding nothing: the task shown comes back first.
    assert lease(worker_client, project)["assignment"] == shown["assignment"]


def test_a_worker_never_holds_more_than_two_ahead(make_project, worker_client, few_to_spare):
    project = make_project(images=6)
    shown = lease(worker_client, project)
    first = lease(worker_client, project, holding=_ids(shown))
    second = lease(worker_client, project, holding=_ids(shown, first))
    assert len({shown["task"], first["task"], second["task"]}) == 3
    assert lease(worker_client, project, holding=_ids(shown, first, second)) is None
    # Holding back one it has, the page is given that one, not a new task.
    assert lease(worker_client, project, holding=_ids(second, first)) == shown
    assert Assignment.objects.filter(state=AssignmentState.LEASED).count() == 3


def test_an_answer_not_sent_yet_holds_its_place(make_project, worker_client, few_to_spare):
    project = make_project(images=6)
    answered = lease(worker_client, project)
    shown = lease(worker_client, project, holding=_ids(answered))
    ahead = lease(worker_client, project, holding=_ids(answered, shown))
    # Its answer still on its way, the answered task counts: nothing more until it lands.
    assert lease(worker_client, project, holding=_ids(answered, shown, ahead)) is None
    assert submit(worker_client, answered["assignment"], {"label": "car"}).status_code == 201
    more = lease(worker_client, project, holding=_ids(answered, shown, ahead))
    assert more["task"] not in (answered["task"], shown["task"], ahead["task"])


def test_once_the_shown_task_is_answered_the_prefetched_one_is_next(
    make_project, worker_client, few_to_spare
):
    project = make_project(images=6)
    shown = lease(worker_client, project)
    ahead = lease(worker_client, project, holding=_ids(shown))
    assert submit(worker_client, shown["assignment"], {"label": "car"}).status_code == 201
    assert lease(worker_client, project)["assignment"] == ahead["assignment"]


def test_a_prefetched_lease_counts_in_the_redundancy(make_project, worker_clients, few_to_spare):
    project = make_project(images=3, redundancy_min=1)
    first = lease(worker_clients[0], project)
    lease(worker_clients[0], project, holding=_ids(first))
    assert Task.objects.filter(slots_taken=1).count() == 2
    assert lease(worker_clients[1], project) is not None
    assert lease(worker_clients[2], project) is None  # every slot held: none over-assigned
    assert all(t.slots_taken <= t.target_redundancy for t in Task.objects.all())


def test_no_prefetch_at_the_end_of_a_project(make_project, worker_clients):
    # PREFETCH_MIN_OPEN_TASKS is 10: with three tasks, a second lease would hold a slot another
    # worker can fill now.
    project = make_project(images=3, redundancy_min=1)
    shown = lease(worker_clients[0], project)
    assert lease(worker_clients[0], project, holding=_ids(shown)) is None
    assert lease(worker_clients[1], project) is not None


def test_holding_only_expired_leases_is_an_ordinary_request(make_project, worker_client):
    project = make_project(images=3)
    shown = lease(worker_client, project)
    Assignment.objects.filter(pk=shown["assignment"]).update(state=AssignmentState.EXPIRED)
    fresh = lease(worker_client, project, holding=_ids(shown))
    assert fresh is not None
    assert fresh["task"] != shown["task"]


def test_a_released_lease_frees_its_slot_at_once(make_project, worker_clients, few_to_spare):
    project = make_project(images=3, redundancy_min=1)
    shown = lease(worker_clients[0], project)
    ahead = lease(worker_clients[0], project, holding=_ids(shown))
    response = _release(worker_clients[0], ahead["assignment"])
    assert response.status_code == 200
    assert response.json()["state"] == AssignmentState.EXPIRED
    assert Task.objects.get(pk=ahead["task"]).slots_taken == 0
    assert lease(worker_clients[1], project)["task"] in (ahead["task"], _third(project, shown))


def _third(project, *leases) -> str:
    taken = {lease["task"] for lease in leases}
    return str(Task.objects.filter(project=project).exclude(pk__in=taken).first().pk)


def test_only_a_live_lease_of_ones_own_can_be_released(make_project, worker_clients):
    project = make_project(images=2)
    mine = lease(worker_clients[0], project)
    assert _release(worker_clients[1], mine["assignment"]).status_code == 404
    assert submit(worker_clients[0], mine["assignment"], {"label": "car"}).status_code == 201
    answered = _release(worker_clients[0], mine["assignment"])
    assert answered.status_code == 409
    assert answered.json()["error"]["field"] == "assignment"
    assert Assignment.objects.get(pk=mine["assignment"]).state == AssignmentState.SUBMITTED


def test_a_release_does_not_count_as_a_skip(make_project, worker_client, settings):
    settings.SEBENZAI = {
        **settings.SEBENZAI,
        "MAX_SKIPS_IN_A_ROW": 2,
        "PREFETCH_MIN_OPEN_TASKS": 1,
    }
    project = make_project(images=6)
    for _ in range(3):
        shown = lease(worker_client, project)
        assert _release(worker_client, shown["assignment"]).status_code == 200
    assert lease(worker_client, project) is not None  # no 429 cool-down


@pytest.mark.parametrize("holding", ["soon", ["soon"], [None], {"a": 1}, ["0" * 32] * 21])
def test_holding_must_be_a_short_list_of_assignment_ids(worker_client, project, holding):
    response = worker_client.post(
        "/api/v1/work/next/", {"project": str(project.pk), "holding": holding}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["field"].startswith("holding")


def test_gold_is_prefetched_like_any_task_and_looks_the_same(make_project, worker_client, settings):
    settings.SEBENZAI = {**settings.SEBENZAI, "PREFETCH_MIN_OPEN_TASKS": 1}
    project = make_project(images=4, gold_ratio=1.0)
    Task.objects.filter(project=project).exclude(
        pk=Task.objects.filter(project=project).first().pk
    ).update(is_gold=True, gold_answer={"label": "car"})
    shown = lease(worker_client, project)
    ahead = lease(worker_client, project, holding=_ids(shown))
    gold = {str(t.pk) for t in Task.objects.filter(project=project, is_gold=True)}
    assert ahead["task"] in gold
    assert set(ahead) == set(shown)


def test_a_release_may_come_as_a_beacon_form_and_nothing_else_is_taken(make_project, worker_client):
    project = make_project(images=2)
    shown = lease(worker_client, project)
    url = f"/api/v1/work/assignments/{shown['assignment']}/release/"
    assert worker_client.post(url, [], format="json").status_code == 400
    assert worker_client.post(url, {"why": "bored"}, format="json").status_code == 400
    beacon = worker_client.post(url, "csrfmiddlewaretoken=x", content_type=FORM)
    assert beacon.status_code == 200
    assert Assignment.objects.get(pk=shown["assignment"]).state == AssignmentState.EXPIRED


FORM = "application/x-www-form-urlencoded"

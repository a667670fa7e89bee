"""The staff API: only staff reach it; decisions through HTTP; bad input is a 4xx naming the field."""

import pytest

from accounts.models import Role
from annotations.models import Annotation, Task, TaskState
from consensus.models import ConsensusResult, ReviewDecision

pytestmark = pytest.mark.django_db


def staff_routes(project, task) -> list[tuple[str, str]]:
    return [
        ("get", f"/api/v1/staff/projects/{project}/dashboard/"),
        ("get", f"/api/v1/staff/projects/{project}/review/"),
        ("get", f"/api/v1/staff/projects/{project}/workers/"),
        ("post", f"/api/v1/staff/projects/{project}/workers/1/block/"),
        ("get", f"/api/v1/staff/tasks/{task}/review/"),
        ("post", f"/api/v1/staff/tasks/{task}/review/"),
    ]


@pytest.mark.parametrize("role", [Role.WORKER, Role.REQUESTER])
def test_workers_and_requesters_are_refused_every_staff_route(
    role, disputed, make_user, make_client
):
    client = make_client(make_user(role))
    for method, url in staff_routes(disputed.project_id, disputed.pk):
        response = getattr(client, method)(url, {"action": "reject", "version": 1}, format="json")
        assert response.status_code == 403, (method, url)
    assert Task.objects.get(pk=disputed.pk).state == TaskState.REVIEW


def test_an_anonymous_caller_is_refused(client, disputed):
    response = client.get(f"/api/v1/staff/projects/{disputed.project_id}/dashboard/")
    assert response.status_code in (401, 403)


def test_staff_read_every_route(disputed, make_user, make_client):
    client = make_client(make_user(staff=True))
    for method, url in staff_routes(disputed.project_id, disputed.pk):
        if method == "get":
            assert client.get(url).status_code == 200, url


def test_review_item_shows_each_answer_with_its_workers_skill(disputed, make_user, make_client):
    client = make_client(make_user(staff=True))
    body = client.get(f"/api/v1/staff/tasks/{disputed.pk}/review/").json()
    assert body["fused"] == {"label": "car"}
    assert body["version"] == ConsensusResult.objects.get(task=disputed).version
    assert sorted(a["payload"]["label"] for a in body["answers"]) == ["car", "car", "taxi"]
    assert all(
        0 < a["skill"]["low"] <= a["skill"]["mean"] <= a["skill"]["high"] for a in body["answers"]
    )


def test_the_queue_lists_the_disputed_task(disputed, accepted, make_user, make_client):
    client = make_client(make_user(staff=True))
    body = client.get(f"/api/v1/staff/projects/{disputed.project_id}/review/").json()
    assert [t["task"] for t in body["tasks"]] == [str(disputed.pk)]


def test_a_pick_through_the_api_is_recorded_and_a_stale_repeat_is_409(
    disputed, make_user, make_client
):
    client = make_client(make_user(staff=True))
    taxi = Annotation.objects.get(task=disputed, payload={"label": "taxi"})
    url = f"/api/v1/staff/tasks/{disputed.pk}/review/"
    version = ConsensusResult.objects.get(task=disputed).version
    body = {"action": "pick", "version": version, "annotation": str(taxi.pk)}

    first = client.post(url, body, format="json")
    stale = client.post(url, {"action": "reject", "version": version - 1}, format="json")

    assert first.status_code == 201, first.content
    assert first.json()["replaced"]["state"] == TaskState.REVIEW
    assert stale.status_code == 409
    assert "already settled" in stale.json()["error"]["message"]
    assert ReviewDecision.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "pick", "version": 1}, "annotation"),
        ({"action": "edit", "version": 1}, "label"),
        ({"action": "approve", "version": 1}, "action"),
        ({"action": "reject", "version": "1"}, "version"),
        ({"action": "reject"}, "version"),
        ({"action": "reject", "version": 1, "points": 50}, "points"),
        ({"action": "edit", "version": 1, "label": {"label": "plane"}}, "label.label"),
        ({"action": "pick", "version": 1, "annotation": "nope"}, "annotation"),
    ],
)
def test_bad_decisions_are_400_naming_the_field_and_store_nothing(
    body, field, disputed, make_user, make_client
):
    client = make_client(make_user(staff=True))
    ConsensusResult.objects.filter(task=disputed).update(version=1)
    response = client.post(f"/api/v1/staff/tasks/{disputed.pk}/review/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["field"] == field
    assert not ReviewDecision.objects.exists()


def test_an_unknown_task_is_404(make_user, make_client):
    client = make_client(make_user(staff=True))
    url = "/api/v1/staff/tasks/00000000-0000-0000-0000-000000000000/review/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "reject", "version": 0}, format="json").status_code == 404


def test_a_decision_is_replaced_and_reopened_through_the_api_and_the_item_shows_it_in_force(
    disputed, make_user, make_client
):
    client = make_client(make_user(staff=True))
    url = f"/api/v1/staff/tasks/{disputed.pk}/review/"
    taxi = Annotation.objects.get(task=disputed, payload={"label": "taxi"})

    def post(body: dict) -> dict:
        version = client.get(url).json()["version"]
        response = client.post(url, {**body, "version": version}, format="json")
        assert response.status_code == 201, response.content
        return client.get(url).json()

    picked = post({"action": "pick", "annotation": str(taxi.pk)})
    replaced = post({"action": "accept_fused"})
    reopened = post({"action": "reopen"})

    assert (picked["decision"]["action"], picked["accepted_label"]) == ("pick", {"label": "taxi"})
    assert (replaced["decision"]["action"], replaced["accepted_label"]) == (
        "accept_fused",
        {"label": "car"},
    )
    assert replaced["decision"]["replaced"]["label"] == {"label": "taxi"}
    assert (reopened["decision"]["action"], reopened["state"]) == ("reopen", TaskState.REVIEW)
    assert reopened["accepted_label"] is None
    assert ReviewDecision.objects.filter(task=disputed).count() == 3

"""A worker cannot tell a gold task from an ordinary one: everything they can read about it —
the next-task body, the image, submit and skip answers, error bodies, /me/ — has the same keys
and, ids and times aside, the same values; no gold or consensus name, and never the answer."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from rest_framework.test import APIClient

from annotations.models import Task
from tests.helpers import lease, submit

pytestmark = pytest.mark.django_db

GOLD_ANSWERS = {
    "classification": {"label": "taxi"},
    "bbox": {"boxes": [{"label": "taxi", "bbox": [13.37, 7.77, 21.21, 9.99]}]},
}
ANSWERS = {  # what the workers submit: deliberately not the gold answer
    "classification": {"label": "car"},
    "bbox": {"boxes": [{"label": "car", "bbox": [30.5, 20.5, 10.5, 10.5]}]},
}
BAD_ANSWERS = {
    "classification": {"label": "zebra"},
    "bbox": {"boxes": [{"label": "car", "bbox": [1, 1, 0, 5]}]},
}
PER_RESPONSE = ("date", "x-request-id")
FORBIDDEN = ("gold", "consensus", "confidence", "accepted", "agreement", "skill", "grade")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:\d\d)")


@pytest.fixture(params=sorted(GOLD_ANSWERS))
def twins(request, requester_client, make_project) -> dict[str, Any]:
    """Two projects alike in everything, one image each (the same pixels); one task is gold."""
    kind = request.param
    normal = make_project(kind, images=1, name="Streets")
    gold = make_project(kind, images=1, name="Streets")
    task = Task.objects.get(project=gold)
    response = requester_client.post(
        f"/api/v1/projects/{gold.pk}/gold/",
        {"gold": [{"task": str(task.pk), "answer": GOLD_ANSWERS[kind]}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    return {"kind": kind, "normal": normal, "gold": gold}


def worker_view(client: APIClient, skipper: APIClient, project, kind: str) -> dict[str, Any]:
    """Everything one worker (and a second who skips) can read while working on ``project``."""
    work = lease(client, project)
    assignment = f"/api/v1/work/assignments/{work['assignment']}"
    image = client.get(work["image_url"])
    seen = {
        "next": work,
        # The headers but the two that differ on every response (neither says anything of gold).
        "image": {k.lower(): v for k, v in image.items() if k.lower() not in PER_RESPONSE},
        "bad submit": submit(client, work["assignment"], BAD_ANSWERS[kind]).json(),
        "submit": submit(client, work["assignment"], ANSWERS[kind]).json(),
        "second submit": submit(client, work["assignment"], ANSWERS[kind]).json(),
        "skip after submit": client.post(f"{assignment}/skip/").json(),
        "next again": _body(client.post("/api/v1/work/next/", {"project": str(project.pk)})),
        "results": client.get(f"/api/v1/projects/{project.pk}/results/").json(),
        "progress": client.get(f"/api/v1/projects/{project.pk}/progress/").json(),
        "me": {k: v for k, v in client.get("/api/v1/me/").json().items() if k != "username"},
    }
    skipped = lease(skipper, project)
    seen["skip"] = skipper.post(f"/api/v1/work/assignments/{skipped['assignment']}/skip/").json()
    return seen


def _body(response) -> Any:
    return {"status": response.status_code, "body": response.json() if response.content else None}


def masked(value: Any) -> Any:
    """The body with ids and times replaced, so two tasks' bodies compare equal iff alike."""
    text = TIMESTAMP.sub("<time>", UUID.sub("<id>", json.dumps(value, sort_keys=True)))
    return json.loads(text)


def key_paths(value: Any, prefix: str = "") -> set[str]:
    if isinstance(value, dict):
        paths = set()
        for key, item in value.items():
            paths |= {f"{prefix}.{key}"} | key_paths(item, f"{prefix}.{key}")
        return paths
    if isinstance(value, list):
        return set().union(*(key_paths(item, f"{prefix}[]") for item in value)) if value else set()
    return set()


def test_a_gold_task_reads_exactly_like_an_ordinary_one(worker_clients, twins):
    # given one worker on the ordinary task and another on the gold one
    kind = twins["kind"]
    normal = worker_view(worker_clients[0], worker_clients[2], twins["normal"], kind)
    gold = worker_view(worker_clients[1], worker_clients[3], twins["gold"], kind)
    # then every response has the same keys and, ids and times aside, the same values
    assert normal.keys() == gold.keys()
    for name in normal:
        assert key_paths(normal[name]) == key_paths(gold[name]), name
        assert masked(normal[name]) == masked(gold[name]), name


def test_nothing_a_worker_reads_names_gold_or_consensus_or_holds_the_answer(worker_clients, twins):
    kind = twins["kind"]
    seen = worker_view(worker_clients[1], worker_clients[3], twins["gold"], kind)
    text = json.dumps(seen).lower()
    for word in FORBIDDEN:
        assert word not in text, word
    answer = GOLD_ANSWERS[kind]
    assert json.dumps(answer) not in text
    assert json.dumps(answer, separators=(",", ":")) not in text
    for number in re.findall(r"\d+\.\d+", json.dumps(answer)):
        assert number not in text, number


def test_the_next_task_body_has_a_fixed_key_set(worker_client, twins):
    body = lease(worker_client, twins["gold"])
    assert set(body) == {
        "assignment",
        "task",
        "project",
        "image_url",
        "width",
        "height",
        "kind",
        "labels",
        "instructions",
        "expires_at",
        "proposal",
    }


def test_a_worker_cannot_read_the_gold_answer_through_any_requester_route(worker_client, twins):
    gold = twins["gold"]
    task = Task.objects.get(project=gold)
    for url in (
        f"/api/v1/projects/{gold.pk}/",
        f"/api/v1/projects/{gold.pk}/results/",
        f"/api/v1/projects/{gold.pk}/progress/",
        "/api/v1/projects/",
    ):
        response = worker_client.get(url)
        assert response.status_code == 403, url
        assert "gold" not in response.content.decode().lower()
    assert worker_client.get(f"/api/v1/tasks/{task.pk}/image/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_points_right_after_a_submit_do_not_tell_gold_apart(
    make_project, requester_client, make_user, make_client
):
    # given an ordinary task and a gold task, each answered once, correctly, with scoring on
    normal = make_project(images=1, name="Streets")
    gold = make_project(images=1, name="Streets")
    task = Task.objects.get(project=gold)
    requester_client.post(
        f"/api/v1/projects/{gold.pk}/gold/",
        {"gold": [{"task": str(task.pk), "answer": {"label": "taxi"}}]},
        format="json",
    )
    on_normal, on_gold = make_client(make_user()), make_client(make_user())
    for client, project in ((on_normal, normal), (on_gold, gold)):
        work = lease(client, project)
        assert submit(client, work["assignment"], {"label": "taxi"}).status_code == 201
    # then /me/ reads the same for both workers
    assert (
        on_normal.get("/api/v1/me/").json()["points"] == on_gold.get("/api/v1/me/").json()["points"]
    )

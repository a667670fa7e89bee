"""Scoring box and polygon tasks through the service."""

import pytest

from annotations.models import Task, TaskState
from consensus.models import WorkerSkill
from tests.helpers import lease, submit
from workers.models import PointsEntry

pytestmark = pytest.mark.django_db


def _answer_all(clients, project, payloads, django_capture_on_commit_callbacks):
    for client, payload in zip(clients, payloads, strict=False):
        work = lease(client, project)
        with django_capture_on_commit_callbacks(execute=True):
            response = submit(client, work["assignment"], payload)
        assert response.status_code == 201, response.content


def _boxes(*items):
    return {"boxes": [{"label": label, "bbox": bbox} for label, bbox in items]}


def test_three_close_boxes_are_fused_into_one_accepted_box(
    make_project, worker_clients, django_capture_on_commit_callbacks
):
    project = make_project("bbox", images=1, acceptance_threshold=0.6)
    answers = [
        _boxes(("car", [10, 10, 20, 20])),
        _boxes(("car", [11, 10, 20, 20])),
        _boxes(("taxi", [10, 11, 20, 20])),  # the wrong class is outvoted, not a second object
    ]
    _answer_all(worker_clients, project, answers, django_capture_on_commit_callbacks)
    task = Task.objects.get(project=project)
    assert task.state == TaskState.ACCEPTED, task.confidence
    [fused] = task.accepted_label["boxes"]
    assert fused["label"] == "car"
    assert fused["bbox"] == pytest.approx([10.33, 10.33, 20, 20], abs=0.5)
    paid = dict(PointsEntry.objects.values_list("worker__username", "points"))
    assert set(paid) == {"w0", "w1"}


def test_polygon_answers_are_fused_and_gold_is_graded_by_f1(
    make_project, worker_clients, requester_client, django_capture_on_commit_callbacks
):
    project = make_project("polygon", images=2, acceptance_threshold=0.6)
    gold_task, task = Task.objects.filter(project=project).order_by("created_at", "id")
    square = [[5, 5], [30, 5], [30, 30], [5, 30]]
    response = requester_client.post(
        f"/api/v1/projects/{project.pk}/gold/",
        {
            "gold": [
                {
                    "task": str(gold_task.pk),
                    "answer": {"polygons": [{"label": "car", "points": square}]},
                }
            ]
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    answer = {"polygons": [{"label": "car", "points": square}]}
    _answer_all(worker_clients[:3], project, [answer] * 3, django_capture_on_commit_callbacks)
    task.refresh_from_db()
    assert task.state == TaskState.ACCEPTED
    assert task.accepted_label["polygons"][0]["label"] == "car"


def test_an_image_nobody_drew_on_is_accepted_as_empty(
    make_project, worker_clients, django_capture_on_commit_callbacks
):
    project = make_project("bbox", images=1, acceptance_threshold=0.6)
    _answer_all(worker_clients, project, [{"boxes": []}] * 3, django_capture_on_commit_callbacks)
    task = Task.objects.get(project=project)
    assert task.state == TaskState.ACCEPTED
    assert task.accepted_label == {"boxes": []}


def test_a_wrong_gold_box_lowers_skill(
    make_project, worker_clients, requester_client, django_capture_on_commit_callbacks
):
    project = make_project("bbox", images=1, gold_ratio=0.5)
    task = Task.objects.get(project=project)
    gold = _boxes(("car", [10, 10, 20, 20]))
    response = requester_client.post(
        f"/api/v1/projects/{project.pk}/gold/",
        {"gold": [{"task": str(task.pk), "answer": gold}]},
        format="json",
    )
    assert response.status_code == 200
    _answer_all(
        worker_clients[:2],
        project,
        [gold, _boxes(("car", [40, 30, 10, 10]))],
        django_capture_on_commit_callbacks,
    )
    right, wrong = (
        WorkerSkill.objects.get(worker=c.user, project=project) for c in worker_clients[:2]
    )
    assert right.gold_correct == 1
    assert wrong.gold_correct == 0
    assert wrong.accuracy < right.accuracy

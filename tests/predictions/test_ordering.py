"""Doubt first: a project may give people the tasks its model is least sure of before the rest,
and gold, mixed in as always, is as doubtful as the work around it, so the order gives it away
no more than before."""

from __future__ import annotations

import json
import random

import pytest

from accounts.models import Role
from annotations.models import Task, TaskOrder
from annotations.services.assignments import task_lease_next
from annotations.services.gold import gold_set
from tests.annotations.bad_input.contract import assert_refused
from tests.helpers import lease

pytestmark = pytest.mark.django_db


def predict(client, project, scores: dict, model="m@1", kind="classification") -> None:
    def payload(score):
        if kind == "bbox":
            return {"boxes": [{"label": "car", "bbox": [1, 1, 5, 5], "score": s} for s in score]}
        return {"label": "car", "score": score}

    body = {
        "model": model,
        "predictions": [{"task": str(t), "payload": payload(s)} for t, s in scores.items()],
    }
    response = client.post(
        f"/api/v1/projects/{project.pk}/predictions/",
        json.dumps(body),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content


def tasks_of(project) -> list[Task]:
    return list(Task.objects.filter(project=project).order_by("original_name"))


def test_a_prediction_sets_how_unsure_the_model_is_of_its_task(requester_client, make_project):
    # given a class project and a box project
    classes, boxes = make_project(images=1), make_project("bbox", images=1)
    # when a model scores a class 0.6, and boxes 0.95 and 0.5
    predict(requester_client, classes, {tasks_of(classes)[0].pk: 0.6})
    predict(requester_client, boxes, {tasks_of(boxes)[0].pk: [0.95, 0.5]}, kind="bbox")
    # then the class task's doubt is 0.4, the box task's that of its coin-flip box
    assert tasks_of(classes)[0].model_doubt == pytest.approx(0.4)
    assert tasks_of(boxes)[0].model_doubt == pytest.approx(1.0)


def test_the_most_unsure_model_sets_the_doubt(requester_client, make_project):
    project = make_project(images=1)
    (task,) = tasks_of(project)
    predict(requester_client, project, {task.pk: 0.5}, model="a@1")
    predict(requester_client, project, {task.pk: 0.9}, model="b@1")
    task.refresh_from_db()
    assert task.model_doubt == pytest.approx(0.5)


def test_doubt_first_gives_the_least_sure_tasks_first(
    requester_client, make_project, worker_clients
):
    # given five tasks the model is sure of to different degrees, and doubt-first ordering
    project = make_project(images=5, task_order=TaskOrder.MODEL_DOUBT, redundancy_min=1)
    tasks = tasks_of(project)
    scores = dict(zip([t.pk for t in tasks], [0.99, 0.55, 0.8, 0.35, 0.7], strict=True))
    predict(requester_client, project, scores)
    # when five workers each ask for work
    served = [lease(client, project)["task"] for client in worker_clients[:5]]
    # then they get the tasks from the least to the most sure
    by_doubt = sorted(scores, key=lambda pk: scores[pk])
    assert served == [str(pk) for pk in by_doubt]


def test_without_doubt_first_the_order_is_as_before(requester_client, make_project, worker_clients):
    project = make_project(images=3, redundancy_min=1)
    tasks = tasks_of(project)
    predict(requester_client, project, {tasks[2].pk: 0.1})  # very unsure of the last one
    served = [lease(client, project)["task"] for client in worker_clients[:3]]
    assert served == [str(t.pk) for t in sorted(tasks, key=lambda t: (t.created_at, t.pk))]


def test_gold_under_doubt_first_is_as_doubtful_as_the_work_around_it(
    requester_client, make_project, make_user
):
    # given doubt-first work whose most doubtful task has doubt 0.9, and gold of every doubt
    project = make_project(images=30, task_order=TaskOrder.MODEL_DOUBT, gold_ratio=0.5)
    tasks = tasks_of(project)
    golds, ordinary = tasks[:20], tasks[20:]
    gold_set(project=project, items=[{"task": t.pk, "answer": {"label": "car"}} for t in golds])
    scores = {t.pk: round(0.05 * (i + 1), 2) for i, t in enumerate(golds)}  # doubt 0.95 … 0.0
    scores |= {t.pk: 0.1 + 0.02 * i for i, t in enumerate(ordinary)}  # doubt 0.9 … 0.72
    predict(requester_client, project, scores)
    # when workers are served gold
    served = []
    for i in range(8):
        worker = make_user(Role.WORKER, f"g{i}")
        assignment = task_lease_next(
            worker=worker, project=project, rng=random.Random(1)
        )  # 0.13: gold first
        served.append(Task.objects.get(pk=assignment.task_id))
    # then every gold served is within a tenth of the next ordinary task's doubt, not at random
    assert all(t.is_gold for t in served)
    assert all(abs(t.model_doubt - 0.9) <= 0.15 for t in served), [t.model_doubt for t in served]


def test_the_task_order_is_a_project_setting_checked_by_name(requester_client, make_project):
    project = make_project(images=1)
    url = f"/api/v1/projects/{project.pk}/"
    changed = requester_client.patch(url, {"task_order": "model_doubt"}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["task_order"] == "model_doubt"
    refused = requester_client.patch(url, {"task_order": "random"}, format="json")
    assert_refused(refused, 400, "task_order")

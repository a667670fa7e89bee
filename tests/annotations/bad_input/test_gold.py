"""Bad input at POST /api/v1/projects/{id}/gold/: all or nothing, refused by the contract in
``contract.py``."""

from __future__ import annotations

import json

import pytest

from annotations.models import Task
from tests.annotations.bad_input.contract import assert_refused, post_raw, stored, task_of
from tests.helpers import NOWHERE, lease

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "gold"),
        ({"gold": None}, "gold"),
        ({"gold": {"task": "x"}}, "gold"),
        ({"gold": []}, "gold"),
        ({"gold": ["abc"]}, "gold[0]"),
        ({"gold": [{"task": "TASK"}]}, "gold[0].answer"),
        ({"gold": [{"answer": {"label": "taxi"}}]}, "gold[0].task"),
        ({"gold": [{"task": "not-a-uuid", "answer": {"label": "taxi"}}]}, "gold[0].task"),
        ({"gold": [{"task": 5, "answer": {"label": "taxi"}}]}, "gold[0].task"),
        ({"gold": [{"task": NOWHERE, "answer": {"label": "taxi"}}]}, "gold[0].task"),
        (
            {"gold": [{"task": "TASK", "answer": {"label": "taxi"}, "is_gold": False}]},
            "gold[0].is_gold",
        ),
        ({"gold": [{"task": "TASK", "answer": {"label": "bus"}}]}, "gold[0].answer.label"),
        ({"gold": [{"task": "TASK", "answer": {"label": 3}}]}, "gold[0].answer.label"),
        ({"gold": [{"task": "TASK", "answer": "taxi"}]}, "gold[0].answer"),
        ({"gold": [{"task": "TASK", "answer": {"polygons": []}}]}, "gold[0].answer.polygons"),
        ({"gold": [{"task": "TASK", "answer": {"label": "taxi"}}], "all": True}, "all"),
        (
            {
                "gold": [
                    {"task": "TASK", "answer": {"label": "taxi"}},
                    {"task": "TASK2", "answer": {"label": "bus"}},
                ]
            },
            "gold[1].answer.label",
        ),
    ],
)
def test_setting_gold_with_bad_items_is_refused_and_marks_nothing(
    requester_client, project, media_files, body, field
):
    # given placeholders for the project's real task ids
    first, second = Task.objects.filter(project=project).order_by("created_at", "id")[:2]
    text = json.dumps(body).replace('"TASK2"', f'"{second.pk}"').replace('"TASK"', f'"{first.pk}"')
    before = stored(media_files)
    # when
    response = post_raw(requester_client, f"/api/v1/projects/{project.pk}/gold/", text)
    # then all or nothing: not even the good first item became gold
    assert_refused(response, 400, field)
    assert stored(media_files) == before


def test_a_task_of_another_project_cannot_be_made_gold_here(
    requester_client, project, make_project, media_files
):
    elsewhere = make_project(images=1, name="Elsewhere")
    before = stored(media_files)
    response = requester_client.post(
        f"/api/v1/projects/{project.pk}/gold/",
        {"gold": [{"task": str(task_of(elsewhere).pk), "answer": {"label": "taxi"}}]},
        format="json",
    )
    assert_refused(response, 400, "gold[0].task", "unknown_task")
    assert stored(media_files) == before


def test_a_task_already_leased_cannot_become_gold(
    requester_client, worker_client, make_project, media_files
):
    project = make_project(images=1)
    work = lease(worker_client, project)
    before = stored(media_files)
    response = requester_client.post(
        f"/api/v1/projects/{project.pk}/gold/",
        {"gold": [{"task": work["task"], "answer": {"label": "taxi"}}]},
        format="json",
    )
    assert_refused(response, 400, "gold[0].task", "task_in_progress")
    assert stored(media_files) == before


def test_a_gold_box_outside_the_image_is_refused(requester_client, make_project, media_files):
    project = make_project("bbox", images=1)
    before = stored(media_files)
    response = requester_client.post(
        f"/api/v1/projects/{project.pk}/gold/",
        {
            "gold": [
                {
                    "task": str(task_of(project).pk),
                    "answer": {"boxes": [{"label": "car", "bbox": [60, 10, 40, 10]}]},
                }
            ]
        },
        format="json",
    )
    assert_refused(response, 400, "gold[0].answer.boxes[0].bbox[2]", "out_of_image")
    assert stored(media_files) == before

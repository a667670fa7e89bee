"""Bad input at POST /api/v1/projects/ (and JSON bodies nested too deeply, at every JSON
endpoint) and at PATCH and PUT /api/v1/projects/{id}/: refused by the contract in
``contract.py``."""

from __future__ import annotations

import json

import pytest

from tests.annotations.bad_input.contract import (
    MISSING,
    assert_refused,
    post_raw,
    stored,
    task_of,
    with_changes,
)
from tests.helpers import NOWHERE, lease

pytestmark = pytest.mark.django_db


# --- POST /api/v1/projects/ -----------------------------------------------------------------

PROJECT = {"name": "Cars", "kind": "classification", "labels": ["car", "taxi"]}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": MISSING}, "name"),
        ({"kind": MISSING}, "kind"),
        ({"name": 123}, "name"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": ["Cars"]}, "name"),
        ({"kind": "video"}, "kind"),
        ({"kind": 1}, "kind"),
        ({"labels": "car"}, "labels"),
        ({"labels": [1, 2]}, "labels[0]"),
        ({"labels": ["car", {"name": 7}]}, "labels[1]"),
        ({"labels": [{"name": "car", "colour": "#ff0000"}, "taxi"]}, "labels[0]"),
        ({"labels": [{"name": "car", "color": "red"}, "taxi"]}, "labels[0]"),
        ({"labels": ["car", ""]}, "labels[1]"),
        ({"labels": ["car", "car"]}, "labels"),
        ({"labels": ["car"]}, "labels"),
        ({"labels": [f"l{i}" for i in range(101)]}, "labels"),
        ({"instructions": ["read", "me"]}, "instructions"),
        ({"instructions": "x" * 20_001}, "instructions"),
        ({"redundancy_min": "3"}, "redundancy_min"),
        ({"redundancy_min": True}, "redundancy_min"),
        ({"redundancy_min": 2.5}, "redundancy_min"),
        ({"redundancy_min": 0}, "redundancy_min"),
        ({"redundancy_max": 51}, "redundancy_max"),
        ({"redundancy_min": 4, "redundancy_max": 3}, "redundancy_max"),
        ({"acceptance_threshold": True}, "acceptance_threshold"),
        ({"acceptance_threshold": "0.9"}, "acceptance_threshold"),
        ({"acceptance_threshold": "NaN"}, "acceptance_threshold"),
        ({"acceptance_threshold": "Infinity"}, "acceptance_threshold"),
        ({"acceptance_threshold": 0.2}, "acceptance_threshold"),
        ({"iou_threshold": False}, "iou_threshold"),
        ({"gold_ratio": 0.9}, "gold_ratio"),
        ({"gold_ratio": [0.1]}, "gold_ratio"),
        ({"points_per_task": -1}, "points_per_task"),
        ({"points_per_task": {"n": 1}}, "points_per_task"),
        ({"status": "done"}, "status"),
        ({"status": "paused"}, "status"),
        ({"status": "bogus"}, "status"),
        ({"is_gold": True}, "is_gold"),
        ({"owner": 1}, "owner"),
        ({"id": NOWHERE}, "id"),
        ({"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
    ],
)
def test_creating_a_project_with_a_bad_field_is_refused_naming_it(
    requester_client, media_files, changes, field
):
    # given
    before = stored(media_files)
    # when
    response = requester_client.post(
        "/api/v1/projects/", with_changes(PROJECT, changes), format="json"
    )
    # then
    assert_refused(response, 400, field)
    assert stored(media_files) == before


@pytest.mark.parametrize(
    ("text", "status", "field"),
    [
        ('{"name": "Cars", "kind": ', 400, "body"),
        ("[1, 2]", 400, "body"),
        ('"Cars"', 400, "body"),
        ("null", 400, "body"),
        (
            '{"name": "Cars", "kind": "classification", "labels": ["a", "b"], '
            '"acceptance_threshold": NaN}',
            400,
            "body",
        ),
        (
            '{"name": "Cars", "kind": "classification", "labels": ["a", "b"], '
            '"acceptance_threshold": 1e309}',
            400,
            "acceptance_threshold",
        ),
    ],
)
def test_a_malformed_json_body_is_refused_as_json(
    requester_client, media_files, text, status, field
):
    before = stored(media_files)
    response = post_raw(requester_client, "/api/v1/projects/", text)
    assert_refused(response, status, field)
    assert stored(media_files) == before


def test_a_json_body_over_one_megabyte_gets_a_json_413(requester_client, media_files):
    before = stored(media_files)
    body = json.dumps({**PROJECT, "instructions": "x" * 1_100_000})
    response = post_raw(requester_client, "/api/v1/projects/", body)
    assert_refused(response, 413, "body", "request_too_large")
    assert stored(media_files) == before


def test_a_form_encoded_body_is_refused_as_an_unsupported_media_type(requester_client):
    response = requester_client.post("/api/v1/projects/", PROJECT)  # multipart, not JSON
    assert_refused(response, 415, "body")


def test_an_error_is_json_even_when_the_client_asks_for_html(requester_client):
    response = requester_client.post(
        "/api/v1/projects/", {"name": 5}, format="json", HTTP_ACCEPT="text/html"
    )
    assert_refused(response, 400, "name")


DEEP = "[" * 50_000 + "]" * 50_000  # well under 1 MB, far deeper than Python's recursion limit


@pytest.mark.parametrize(
    ("method", "url", "who"),
    [
        ("post", "/api/v1/projects/", "requester"),
        ("patch", "/api/v1/projects/{project}/", "requester"),
        ("post", "/api/v1/projects/{project}/gold/", "requester"),
        ("post", "/api/v1/work/next/", "worker"),
        ("post", "/api/v1/work/assignments/{assignment}/submit/", "worker"),
        ("post", "/api/v1/work/assignments/{assignment}/skip/", "worker"),
        ("post", "/api/v1/auth/register/", "anonymous"),
        ("post", "/api/v1/auth/token/", "anonymous"),
    ],
)
def test_json_nested_too_deeply_is_a_400_at_every_json_endpoint(
    requester_client, worker_client, client, project, media_files, method, url, who
):
    # given a body that would exhaust the json module's recursion
    work = lease(worker_client, project)
    caller = {"requester": requester_client, "worker": worker_client, "anonymous": client}[who]
    url = url.format(project=project.pk, assignment=work["assignment"])
    before = stored(media_files)
    # when
    response = getattr(caller, method)(url, data=DEEP, content_type="application/json")
    # then
    assert_refused(response, 400, "body", "parse_error")
    assert stored(media_files) == before


# --- PATCH /api/v1/projects/{id}/ -----------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "bbox"}, "kind"),
        ({"labels": ["car", "taxi", "bus"]}, "labels"),
        ({"status": "draft"}, "status"),
        ({"status": "archived"}, "status"),
        ({"status": None}, "status"),
        ({"redundancy_min": 9}, "redundancy_min"),
        ({"redundancy_max": 2}, "redundancy_max"),
        ({"acceptance_threshold": False}, "acceptance_threshold"),
        ({"gold_ratio": "NaN"}, "gold_ratio"),
        ({"name": None}, "name"),
        ({"name": 42}, "name"),
        ({"owner": 2}, "owner"),
        ({"is_gold": True}, "is_gold"),
        ({"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
        ({"prelabel": "yes"}, "prelabel"),
        ({"model_auto_accept": 1}, "model_auto_accept"),
    ],
)
def test_patching_an_active_project_with_a_bad_field_is_refused_naming_it(
    requester_client, project, media_files, changes, field
):
    before = stored(media_files)
    response = requester_client.patch(f"/api/v1/projects/{project.pk}/", changes, format="json")
    assert_refused(response, 400, field)
    assert stored(media_files) == before


def test_a_done_project_cannot_be_reopened(requester_client, project, media_files):
    project.status = "done"
    project.save(update_fields=["status"])
    before = stored(media_files)
    response = requester_client.patch(
        f"/api/v1/projects/{project.pk}/", {"status": "active"}, format="json"
    )
    assert_refused(response, 400, "status", "invalid_transition")
    assert stored(media_files) == before


def test_changing_a_draft_projects_kind_still_needs_enough_labels(
    requester_client, make_project, media_files
):
    # given a draft box project with one label
    draft = make_project("bbox", images=0, active=False, labels=["car"])
    before = stored(media_files)
    # when it is turned into a classification project, which needs two labels
    response = requester_client.patch(
        f"/api/v1/projects/{draft.pk}/", {"kind": "classification"}, format="json"
    )
    # then
    assert_refused(response, 400, "labels", "too_few_labels")
    assert stored(media_files) == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"kind": "bbox"}, "kind"), ({"labels": ["car", "truck"]}, "labels")],
)
def test_a_draft_project_with_gold_answers_keeps_the_kind_and_labels_they_were_written_for(
    requester_client, make_project, media_files, changes, field
):
    # given a draft project whose gold answer says "taxi"
    draft = make_project(images=1, active=False)
    gold = requester_client.post(
        f"/api/v1/projects/{draft.pk}/gold/",
        {"gold": [{"task": str(task_of(draft).pk), "answer": {"label": "taxi"}}]},
        format="json",
    )
    assert gold.status_code == 200, gold.content
    before = stored(media_files)
    # when the kind changes, or "taxi" is dropped from the labels
    response = requester_client.patch(f"/api/v1/projects/{draft.pk}/", changes, format="json")
    # then the gold answer would no longer fit: refused
    assert_refused(response, 400, field)
    assert stored(media_files) == before


def test_put_on_a_project_is_not_allowed(requester_client, project, media_files):
    before = stored(media_files)
    response = requester_client.put(
        f"/api/v1/projects/{project.pk}/", {**PROJECT, "name": "New"}, format="json"
    )
    assert_refused(response, 405, None, "method_not_allowed")
    assert stored(media_files) == before

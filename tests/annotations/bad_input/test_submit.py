"""Bad input at POST /api/v1/work/assignments/{id}/submit/: bad answers of each kind, named
down to the coordinate, and leases that are expired, finished or someone else's. Refused by
the contract in ``contract.py``."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from annotations.models import Annotation, Assignment, Task
from tests.annotations.bad_input.contract import assert_refused, post_raw, stored
from tests.helpers import NOWHERE, db_snapshot, lease, submit

pytestmark = pytest.mark.django_db


BOX = {"label": "car", "bbox": [10, 10, 20, 15]}
SQUARE = {"label": "car", "points": [[10, 10], [30, 10], [30, 30], [10, 30]]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "payload"),
        ({"duration_ms": 4000}, "payload"),
        ({"payload": None}, "payload"),
        ({"payload": "taxi"}, "payload"),
        ({"payload": ["taxi"]}, "payload"),
        ({"payload": {}}, "payload.label"),
        ({"payload": {"label": "bus"}}, "payload.label"),
        ({"payload": {"label": "Taxi"}}, "payload.label"),
        ({"payload": {"label": 1}}, "payload.label"),
        ({"payload": {"label": None}}, "payload.label"),
        ({"payload": {"label": ["taxi"]}}, "payload.label"),
        ({"payload": {"label": "taxi", "confidence": 1}}, "payload.confidence"),
        ({"payload": {"polygons": [SQUARE]}}, "payload.polygons"),
        ({"payload": {"boxes": [BOX]}}, "payload.boxes"),
        ({"payload": {"verdict": "safe"}}, "payload.verdict"),
        ({"payload": {"label": "taxi"}, "is_gold": True}, "is_gold"),
        ({"payload": {"label": "taxi"}, "points": 1000}, "points"),
        ({"payload": {"label": "taxi"}, "worker": 1}, "worker"),
        ({"payload": {"label": "taxi"}, "status": "accepted"}, "status"),
        ({"payload": {"label": "taxi"}, "skill": 1.0}, "skill"),
        ({"payload": {"label": "taxi"}, "duration_ms": "fast"}, "duration_ms"),
        ({"payload": {"label": "taxi"}, "duration_ms": "4000"}, "duration_ms"),
        ({"payload": {"label": "taxi"}, "duration_ms": -1}, "duration_ms"),
        ({"payload": {"label": "taxi"}, "duration_ms": True}, "duration_ms"),
        ({"payload": {"label": "taxi"}, "duration_ms": 1.5}, "duration_ms"),
        ({"payload": {"label": "taxi"}, "duration_ms": 10**12}, "duration_ms"),
        ([{"label": "taxi"}], "body"),
    ],
)
def test_a_bad_classification_submission_is_refused_and_the_lease_stays_open(
    worker_client, project, media_files, body, field
):
    # given a live lease
    work = lease(worker_client, project)
    before = stored(media_files)
    # when
    response = post_raw(
        worker_client, f"/api/v1/work/assignments/{work['assignment']}/submit/", json.dumps(body)
    )
    # then
    assert_refused(response, 400, field)
    assert stored(media_files) == before
    assert Assignment.objects.get(pk=work["assignment"]).state == "leased"


def boxes(*items) -> dict:
    return {"boxes": list(items)}


def box(bbox, label="car") -> dict:
    return {"label": label, "bbox": bbox}


@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        (boxes(box([0, 0, 0, 10])), "payload.boxes[0].bbox", "invalid_geometry"),
        (boxes(box([20, 20, -10, -10])), "payload.boxes[0].bbox", "invalid_geometry"),
        (boxes(box([-5, 10, 20, 10])), "payload.boxes[0].bbox[0]", "out_of_image"),
        (boxes(box([10, 10, 100, 10])), "payload.boxes[0].bbox[2]", "out_of_image"),
        (boxes(box([10, 60, 10, 10])), "payload.boxes[0].bbox[1]", "out_of_image"),
        (boxes(box([64.2, 10, 1, 10])), "payload.boxes[0].bbox", "invalid_geometry"),
        (boxes(box([1e308, 10, 1e308, 10])), "payload.boxes[0].bbox[0]", "out_of_image"),
        (boxes(box([True, 10, 20, 10])), "payload.boxes[0].bbox[0]", "invalid_number"),
        (boxes(box([10, False, 20, 10])), "payload.boxes[0].bbox[1]", "invalid_number"),
        (boxes(box(["10", 10, 20, 10])), "payload.boxes[0].bbox[0]", "invalid_number"),
        (boxes(box(["nan", 10, 20, 10])), "payload.boxes[0].bbox[0]", "invalid_number"),
        (boxes(box([[10], 10, 20, 10])), "payload.boxes[0].bbox[0]", "invalid_number"),
        (boxes(box([None, 10, 20, 10])), "payload.boxes[0].bbox[0]", "invalid_number"),
        (boxes(box([10, 10, 20])), "payload.boxes[0].bbox", "invalid_box"),
        (boxes(box([10, 10, 20, 10, 5])), "payload.boxes[0].bbox", "invalid_box"),
        (boxes(box({"x": 1})), "payload.boxes[0].bbox", "invalid_type"),
        (boxes(box([10, 10, 20, 10], label="bus")), "payload.boxes[0].label", "unknown_label"),
        (boxes({"bbox": [10, 10, 20, 10]}), "payload.boxes[0].label", "required"),
        (boxes({**BOX, "score": 0.9}), "payload.boxes[0].score", "unknown_field"),
        (boxes("car"), "payload.boxes[0]", "invalid_type"),
        ({"boxes": BOX}, "payload.boxes", "invalid_type"),
        (boxes(*[BOX] * 501), "payload.boxes", "too_many_objects"),
        ({"label": "car"}, "payload.label", "unknown_field"),
        (boxes(BOX, box([1, 1, 0, 0])), "payload.boxes[1].bbox", "invalid_geometry"),
    ],
)
def test_a_bad_box_submission_is_refused_naming_the_coordinate(
    worker_client, make_project, media_files, payload, field, code
):
    project = make_project("bbox", images=1)  # 64 × 48 pixels
    work = lease(worker_client, project)
    before = stored(media_files)
    response = submit(worker_client, work["assignment"], payload)
    assert_refused(response, 400, field, code)
    assert stored(media_files) == before


def polygons(*items) -> dict:
    return {"polygons": list(items)}


def polygon(points, label="car") -> dict:
    return {"label": label, "points": points}


@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        (
            polygons(polygon([[10, 10], [30, 30], [30, 10], [10, 30]])),
            "payload.polygons[0].points",
            "invalid_geometry",
        ),
        (polygons(polygon([[10, 10], [30, 30]])), "payload.polygons[0].points", "invalid_geometry"),
        (
            polygons(polygon([[10, 10], [20, 20], [10, 10]])),
            "payload.polygons[0].points",
            "invalid_geometry",
        ),
        (
            polygons(polygon([[10, 10], [20, 20], [30, 30]])),
            "payload.polygons[0].points",
            "invalid_geometry",
        ),
        (
            polygons(polygon([[10, 10], [30, 10], [30, 30], [True, 30]])),
            "payload.polygons[0].points[3][0]",
            "invalid_number",
        ),
        (
            polygons(polygon([[10, 10], [30, 10], [30, "30"]])),
            "payload.polygons[0].points[2][1]",
            "invalid_number",
        ),
        (
            polygons(polygon([[10, 10], [30, 10], [30, 30, 1]])),
            "payload.polygons[0].points[2]",
            "invalid_point",
        ),
        (
            polygons(polygon([[10, 10], [30, 10], 30])),
            "payload.polygons[0].points[2]",
            "invalid_point",
        ),
        (
            polygons(polygon([[10, 10], [90, 10], [30, 30]])),
            "payload.polygons[0].points[1][0]",
            "out_of_image",
        ),
        (
            polygons(polygon([[float(i % 60), float(i % 40)] for i in range(1001)])),
            "payload.polygons[0].points",
            "too_many_points",
        ),
        (polygons(*[SQUARE] * 501), "payload.polygons", "too_many_objects"),
        (
            polygons(polygon(SQUARE["points"], label="road")),
            "payload.polygons[0].label",
            "unknown_label",
        ),
        (polygons({"label": "car"}), "payload.polygons[0].points", "required"),
        (
            polygons({"label": "car", "points": "10,10 30,10 30,30"}),
            "payload.polygons[0].points",
            "invalid_type",
        ),
        ({"label": "car"}, "payload.label", "unknown_field"),
        (boxes(BOX), "payload.boxes", "unknown_field"),
    ],
)
def test_a_bad_polygon_submission_is_refused_naming_the_point(
    worker_client, make_project, media_files, payload, field, code
):
    project = make_project("polygon", images=1)
    work = lease(worker_client, project)
    before = stored(media_files)
    response = submit(worker_client, work["assignment"], payload)
    assert_refused(response, 400, field, code)
    assert stored(media_files) == before


@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        ({"verdict": "maybe"}, "payload.verdict", "invalid_choice"),
        ({"verdict": True}, "payload.verdict", "invalid_choice"),
        ({"verdict": ["unsafe"]}, "payload.verdict", "invalid_choice"),
        ({"categories": ["nudity"]}, "payload.verdict", "required"),
        ({"verdict": "safe", "categories": ["nudity"]}, "payload.categories", "inconsistent"),
        ({"verdict": "unsafe", "categories": ["gore"]}, "payload.categories[0]", "unknown_label"),
        ({"verdict": "unsafe", "categories": "nudity"}, "payload.categories", "invalid_type"),
        (
            {"verdict": "unsafe", "categories": ["nudity", "nudity"]},
            "payload.categories",
            "duplicate",
        ),
        (
            {"verdict": "unsafe", "categories": ["nudity", "nudity", "nudity"]},
            "payload.categories",
            "too_many_objects",
        ),
        ({"label": "safe"}, "payload.label", "unknown_field"),
    ],
)
def test_a_bad_moderation_submission_is_refused_naming_the_field(
    worker_client, make_project, media_files, payload, field, code
):
    project = make_project("moderation", images=1)
    work = lease(worker_client, project)
    before = stored(media_files)
    response = submit(worker_client, work["assignment"], payload)
    assert_refused(response, 400, field, code)
    assert stored(media_files) == before


@pytest.mark.parametrize(
    ("text", "status", "field"),
    [
        ('{"payload": {"boxes": [{"label": "car", "bbox": [NaN, 1, 2, 3]}]}}', 400, "body"),
        ('{"payload": {"boxes": [{"label": "car", "bbox": [Infinity, 1, 2, 3]}]}}', 400, "body"),
        ('{"payload": {"boxes": [{"label": "car", "bbox": [-Infinity, 1, 2, 3]}]}}', 400, "body"),
        (
            '{"payload": {"boxes": [{"label": "car", "bbox": [1e309, 1, 2, 3]}]}}',
            400,
            "payload.boxes[0].bbox[0]",
        ),
        ('{"payload": {"boxes": [{"label": "car", "bbox": [1, 1, 2, 3]}]', 400, "body"),
        ("", 400, "payload"),
    ],
)
def test_non_finite_numbers_and_broken_json_in_a_submission_are_refused(
    worker_client, make_project, media_files, text, status, field
):
    project = make_project("bbox", images=1)
    work = lease(worker_client, project)
    before = stored(media_files)
    response = post_raw(
        worker_client, f"/api/v1/work/assignments/{work['assignment']}/submit/", text
    )
    assert_refused(response, status, field)
    assert stored(media_files) == before


def test_a_submission_over_one_megabyte_gets_a_json_413(worker_client, project, media_files):
    work = lease(worker_client, project)
    before = stored(media_files)
    text = json.dumps({"payload": {"label": "taxi", "pad": "x" * 1_100_000}})
    response = post_raw(
        worker_client, f"/api/v1/work/assignments/{work['assignment']}/submit/", text
    )
    assert_refused(response, 413, "body", "request_too_large")
    assert stored(media_files) == before


def test_a_submission_on_an_expired_lease_is_refused_and_not_recorded(
    worker_client, project, media_files, settings
):
    # given a lease whose time has run out
    work = lease(worker_client, project)
    later = timezone.now() + timedelta(seconds=settings.SEBENZAI["LEASE_SECONDS"] + 1)
    counts, files = db_snapshot(), media_files()
    # when the worker answers late
    with time_machine.travel(later, tick=False):
        response = submit(worker_client, work["assignment"], {"label": "taxi"})
    # then the answer is refused and not stored; the lease ends as the reaper would end it
    assert_refused(response, 409, "assignment", "assignment_expired")
    assert not Annotation.objects.exists()
    assert Assignment.objects.get(pk=work["assignment"]).state == "expired"
    task = Task.objects.get(pk=work["task"])
    assert (task.answers_count, task.slots_taken) == (0, 0)
    assert {k: v for k, v in db_snapshot().items() if k != "tasks_state"} == {
        k: v for k, v in counts.items() if k != "tasks_state"
    }
    assert media_files() == files


def test_a_submission_on_someone_elses_lease_looks_like_no_such_lease(
    worker_clients, project, media_files
):
    # given worker 0 holds a lease
    work = lease(worker_clients[0], project)
    before = stored(media_files)
    # when worker 1 submits on it, and on an id that does not exist
    theirs = submit(worker_clients[1], work["assignment"], {"label": "taxi"})
    nowhere = submit(worker_clients[1], NOWHERE, {"label": "taxi"})
    # then both are the same 404
    assert_refused(theirs, 404, "assignment", "not_found")
    assert theirs.content == nowhere.content
    assert stored(media_files) == before


def test_a_second_submission_of_the_same_lease_is_a_conflict(worker_client, project, media_files):
    work = lease(worker_client, project)
    assert submit(worker_client, work["assignment"], {"label": "taxi"}).status_code == 201
    before = stored(media_files)
    response = submit(worker_client, work["assignment"], {"label": "car"})
    assert_refused(response, 409, "assignment", "already_submitted")
    assert stored(media_files) == before
    assert Annotation.objects.get().payload == {"label": "taxi"}


def test_a_submission_after_a_skip_is_a_conflict(worker_client, project, media_files):
    work = lease(worker_client, project)
    skipped = worker_client.post(f"/api/v1/work/assignments/{work['assignment']}/skip/")
    assert skipped.status_code == 200
    before = stored(media_files)
    response = submit(worker_client, work["assignment"], {"label": "taxi"})
    assert_refused(response, 409, "assignment", "already_skipped")
    assert stored(media_files) == before


def test_a_submission_to_a_malformed_assignment_id_is_a_json_404(worker_client, media_files):
    before = stored(media_files)
    response = submit(worker_client, "not-a-uuid", {"label": "taxi"})
    assert_refused(response, 404, None, "not_found")
    assert stored(media_files) == before

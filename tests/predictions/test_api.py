"""POST /api/v1/projects/{id}/predictions/: a model's predictions in, all or none; every bad item
named; another requester's project or task reads as one that does not exist."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role
from annotations.models import Task
from predictions.models import ModelVersion, Prediction
from tests.annotations.bad_input.contract import assert_refused
from tests.helpers import NOWHERE, client_for

pytestmark = pytest.mark.django_db


def url(project) -> str:
    return f"/api/v1/projects/{project.pk}/predictions/"


def post(client, project, body: dict):
    return client.post(url(project), json.dumps(body), content_type="application/json")


def task_ids(project) -> list[str]:
    return [
        str(pk)
        for pk in Task.objects.filter(project=project)
        .order_by("original_name")
        .values_list("pk", flat=True)
    ]


def box(label: str = "car", bbox=(1, 2, 10, 8), score: float = 0.9) -> dict:
    return {"label": label, "bbox": list(bbox), "score": score}


def nothing_stored() -> bool:
    return not Prediction.objects.exists() and not ModelVersion.objects.exists()


def test_a_models_class_predictions_are_stored_and_listed(requester_client, make_project):
    # given a classification project with three images
    project = make_project(images=3)
    first, second, _ = task_ids(project)
    body = {
        "model": "taxi-classifier@1",
        "predictions": [
            {"task": first, "payload": {"label": "taxi", "score": 0.93}},
            {"task": second, "payload": {"label": "car", "score": 0.4}},
        ],
    }
    # when the requester posts them
    response = post(requester_client, project, body)
    # then both are stored with their scores, and the model is listed with its count
    assert response.status_code == 201, response.content
    assert response.json()["stored"] == 2
    stored = {str(p.task_id): p.payload for p in Prediction.objects.all()}
    assert stored[first] == {"label": "taxi", "score": 0.93}
    listing = requester_client.get(url(project)).json()["models"]
    assert [(m["model"], m["predictions"]) for m in listing] == [("taxi-classifier@1", 2)]


def test_the_model_votes_as_an_account_that_cannot_sign_in(requester_client, make_project):
    project = make_project(images=1)
    (task,) = task_ids(project)
    post(requester_client, project, {"model": "m@1", "predictions": [
        {"task": task, "payload": {"label": "car", "score": 1}}]})  # fmt: skip
    voter = ModelVersion.objects.get().voter
    assert not voter.is_active
    assert not voter.has_usable_password()


def test_boxes_with_scores_are_checked_like_answers_and_keep_their_scores(
    requester_client, make_project
):
    project = make_project("bbox", images=1)
    (task,) = task_ids(project)
    payload = {"boxes": [box(), box("taxi", (0, 0, 64.5, 10), 0.25)]}  # 64.5: clipped to 64
    response = post(requester_client, project, {"model": "det@2", "predictions": [
        {"task": task, "payload": payload}]})  # fmt: skip
    assert response.status_code == 201, response.content
    stored = Prediction.objects.get()
    assert stored.payload["boxes"][1] == {
        "label": "taxi",
        "bbox": [0.0, 0.0, 64.0, 10.0],
        "score": 0.25,
    }
    assert stored.top_score == 0.9


BAD_ITEMS = [
    # (what, the second item's payload, field, code)
    (
        "unknown label",
        {"label": "bus", "score": 0.5},
        "predictions[1].payload.label",
        "unknown_label",
    ),
    (
        "score above 1",
        {"label": "car", "score": 1.5},
        "predictions[1].payload.score",
        "invalid_score",
    ),
    (
        "negative score",
        {"label": "car", "score": -0.1},
        "predictions[1].payload.score",
        "invalid_score",
    ),
    ("no score", {"label": "car"}, "predictions[1].payload.score", "required"),
    (
        "score as text",
        {"label": "car", "score": "0.5"},
        "predictions[1].payload.score",
        "invalid_number",
    ),
    (
        "extra field",
        {"label": "car", "score": 0.5, "is_gold": True},
        "predictions[1].payload.is_gold",
        "unknown_field",
    ),
    ("not an object", ["car"], "predictions[1].payload", "invalid_type"),
]


@pytest.mark.parametrize(
    ("payload", "field", "code"), [b[1:] for b in BAD_ITEMS], ids=[b[0] for b in BAD_ITEMS]
)
def test_a_bad_class_prediction_is_refused_naming_it_and_nothing_is_stored(
    requester_client, make_project, payload, field, code
):
    project = make_project(images=2)
    first, second = task_ids(project)
    body = {"model": "m@1", "predictions": [
        {"task": first, "payload": {"label": "car", "score": 0.5}},
        {"task": second, "payload": payload}]}  # fmt: skip
    assert_refused(post(requester_client, project, body), 400, field, code)
    assert nothing_stored()


BAD_BOXES = [
    (
        "outside the image",
        box(bbox=(200, 2, 10, 8)),
        "predictions[0].payload.boxes[0].bbox[0]",
        "out_of_image",
    ),
    ("no area", box(bbox=(1, 2, 0, 8)), "predictions[0].payload.boxes[0].bbox", "invalid_geometry"),
    ("score out of range", box(score=2), "predictions[0].payload.boxes[0].score", "invalid_score"),
    (
        "not finite",
        {**box(), "bbox": [1, 2, "NaN", 3]},
        "predictions[0].payload.boxes[0].bbox[2]",
        "invalid_number",
    ),
]


@pytest.mark.parametrize(
    ("shape", "field", "code"), [b[1:] for b in BAD_BOXES], ids=[b[0] for b in BAD_BOXES]
)
def test_a_bad_box_prediction_is_refused_naming_it(
    requester_client, make_project, shape, field, code
):
    project = make_project("bbox", images=1)
    (task,) = task_ids(project)
    body = {"model": "m@1", "predictions": [{"task": task, "payload": {"boxes": [shape]}}]}
    assert_refused(post(requester_client, project, body), 400, field, code)
    assert nothing_stored()


def test_an_unknown_task_is_refused_naming_the_item(requester_client, make_project):
    project = make_project(images=1)
    (task,) = task_ids(project)
    body = {"model": "m@1", "predictions": [
        {"task": task, "payload": {"label": "car", "score": 0.5}},
        {"task": NOWHERE, "payload": {"label": "car", "score": 0.5}}]}  # fmt: skip
    assert_refused(post(requester_client, project, body), 400, "predictions[1].task", "not_found")
    assert nothing_stored()


def test_another_requesters_task_reads_exactly_like_a_missing_one(
    requester_client, make_project, make_user
):
    # given a task of someone else's project
    mine = make_project(images=1)
    theirs = make_project(images=1, owner=make_user(Role.REQUESTER, "req_c"))
    (foreign,) = task_ids(theirs)
    body = {
        "model": "m@1",
        "predictions": [{"task": foreign, "payload": {"label": "car", "score": 1}}],
    }
    # when it is named in a prediction on my project
    error = assert_refused(
        post(requester_client, mine, body), 400, "predictions[0].task", "not_found"
    )
    # then the answer is the one for an id that does not exist
    missing = {
        "model": "m@1",
        "predictions": [{"task": NOWHERE, "payload": {"label": "car", "score": 1}}],
    }
    assert error == post(requester_client, mine, missing).json()["error"]
    assert nothing_stored()


def test_another_requesters_project_is_a_404_and_a_worker_is_refused(
    make_project, make_user, worker_client
):
    project = make_project(images=1)
    (task,) = task_ids(project)
    body = {
        "model": "m@1",
        "predictions": [{"task": task, "payload": {"label": "car", "score": 1}}],
    }
    other = client_for(make_user(Role.REQUESTER, "req_c"))
    assert_refused(post(other, project, body), 404, None)
    assert post(worker_client, project, body).status_code == 403
    assert nothing_stored()


def test_a_task_twice_in_one_request_is_refused(requester_client, make_project):
    project = make_project(images=1)
    (task,) = task_ids(project)
    item = {"task": task, "payload": {"label": "car", "score": 1}}
    body = {"model": "m@1", "predictions": [item, item]}
    assert_refused(post(requester_client, project, body), 400, "predictions[1].task", "duplicate")
    assert nothing_stored()


def test_a_second_post_of_one_model_on_one_task_is_a_conflict_and_keeps_the_first(
    requester_client, make_project
):
    project = make_project(images=1)
    (task,) = task_ids(project)
    first = {
        "model": "m@1",
        "predictions": [{"task": task, "payload": {"label": "car", "score": 1}}],
    }
    assert post(requester_client, project, first).status_code == 201
    again = {
        "model": "m@1",
        "predictions": [{"task": task, "payload": {"label": "taxi", "score": 1}}],
    }
    assert_refused(
        post(requester_client, project, again), 409, "predictions[0].task", "already_predicted"
    )
    assert Prediction.objects.get().payload["label"] == "car"


@pytest.mark.parametrize("model", ["", "no-version", "a b@1", "x@", "@1", 5, "m@1@2"])
def test_a_model_name_that_is_not_name_at_version_is_refused(requester_client, make_project, model):
    project = make_project(images=1)
    (task,) = task_ids(project)
    body = {
        "model": model,
        "predictions": [{"task": task, "payload": {"label": "car", "score": 1}}],
    }
    assert_refused(post(requester_client, project, body), 400, "model")
    assert nothing_stored()


@pytest.mark.parametrize("predictions", [[], {}, "x", [{"task": "t"}], [5]])
def test_a_predictions_list_of_the_wrong_shape_is_refused(
    requester_client, make_project, predictions
):
    project = make_project(images=1)
    response = post(requester_client, project, {"model": "m@1", "predictions": predictions})
    error = assert_refused(response, 400, response.json()["error"]["field"])
    assert error["field"].startswith("predictions")
    assert nothing_stored()


def coco_file(results) -> SimpleUploadedFile:
    return SimpleUploadedFile("results.json", json.dumps(results).encode(), "application/json")


def test_a_coco_results_file_is_matched_to_tasks_by_file_name(requester_client, make_project):
    # given a box project whose images were uploaded as img0.png and img1.png
    project = make_project("bbox", images=2)
    results = [
        {"image_id": "img0.png", "category_id": 2, "bbox": [1, 2, 10, 8], "score": 0.8},
        {"image_id": "img1", "category_id": 1, "bbox": [3, 4, 5, 6], "score": 0.6},
    ]
    # when a COCO results file names them (with or without the extension)
    response = requester_client.post(
        url(project), {"model": "det@1", "format": "coco", "file": [coco_file(results)]}
    )
    # then each becomes the prediction of its task, categories numbered as our COCO export does
    assert response.status_code == 201, response.content
    by_name = {p.task.original_name: p.payload for p in Prediction.objects.select_related("task")}
    assert by_name["img0.png"] == {"boxes": [box("taxi", (1.0, 2.0, 10.0, 8.0), 0.8)]}
    assert by_name["img1.png"] == {"boxes": [box("car", (3.0, 4.0, 5.0, 6.0), 0.6)]}


def test_a_file_naming_an_image_the_project_lacks_is_refused_and_nothing_stored(
    requester_client, make_project
):
    project = make_project("bbox", images=1)
    results = [
        {"image_id": "img0.png", "category_id": 1, "bbox": [1, 2, 10, 8], "score": 0.8},
        {"image_id": "elsewhere.png", "category_id": 1, "bbox": [1, 2, 10, 8], "score": 0.8},
    ]
    response = requester_client.post(
        url(project), {"model": "det@1", "format": "coco", "file": [coco_file(results)]}
    )
    error = assert_refused(response, 400, response.json()["error"]["field"], "not_found")
    assert "elsewhere.png" in error["message"]
    assert nothing_stored()


def test_yolo_text_files_are_scaled_to_each_images_pixels(requester_client, make_project):
    # given a box project of 64×48 images uploaded as img0.png
    project = make_project("bbox", images=1)
    # when Ultralytics' predict writes img0.txt: class cx cy w h conf, as fractions of the image
    txt = SimpleUploadedFile("img0.txt", b"1 0.5 0.5 0.25 0.5 0.7\n")
    response = requester_client.post(
        url(project), {"model": "yolo@8", "format": "yolo", "file": [txt]}
    )
    # then the box is in the image's pixels, its class by our YOLO export's numbering
    assert response.status_code == 201, response.content
    assert Prediction.objects.get().payload == {
        "boxes": [box("taxi", (24.0, 12.0, 16.0, 24.0), 0.7)]
    }

"""POST /api/v1/projects/{id}/models/: a requester's ONNX model uploaded, checked and run by a
Celery job on every task of the project, its answers stored as predictions; every bad upload
named, with nothing stored; a task the model cannot predict counted and skipped."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from PIL import Image

from accounts.models import Role
from annotations.models import Task
from annotations.services.intake import IncomingFile, tasks_create_from_files
from predictions import onnx_models, runs
from predictions.models import ModelVersion, OnnxModel, OnnxModelState, OnnxRunFailure, Prediction
from predictions.services import PredictionItem, predictions_store
from predictions.tasks import onnx_model_run_task, onnx_models_sweep_task
from tests.annotations.bad_input.contract import assert_refused, stored
from tests.helpers import NOWHERE, client_for
from tests.predictions.helpers import ONNX, colour_classifier, upload_form, yolo_detector

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not ONNX, reason="needs the onnx extra (onnx, onnxruntime)"),
]

RED, GREEN, BLUE = (250, 10, 10), (10, 250, 10), (10, 10, 250)
# The colour classifier's classes are red, green, blue; the project's labels car, taxi, truck.
LABEL_OF = {RED: "car", GREEN: "taxi", BLUE: "truck"}


def url(project) -> str:
    return f"/api/v1/projects/{project.pk}/models/"


def colour_png(colour, size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def add_images(project, colours, prefix="c") -> dict[str, tuple]:
    """Upload one plain image per colour; their task ids with their colours."""
    files = [
        IncomingFile(f"images[{i}]", f"{prefix}{i}.png", lambda c=c: colour_png(c))
        for i, c in enumerate(colours)
    ]
    created = tasks_create_from_files(project=project, files=iter(files)).created
    return dict(zip(created, colours, strict=True))


def upload(client, project, capture, **form):
    with capture(execute=True):  # the run job is sent on commit, and runs in-process
        return client.post(url(project), upload_form(**form))


def predicted(model="colours@1") -> dict[str, dict]:
    rows = Prediction.objects.filter(model__name=model)
    return {str(p.task_id): p.payload for p in rows}


def listing(client, project) -> list[dict]:
    response = client.get(url(project))
    assert response.status_code == 200, response.content
    return response.json()["models"]


def nothing_stored() -> bool:
    files = Path(settings.MEDIA_ROOT) / "models"
    return (
        not OnnxModel.objects.exists()
        and not ModelVersion.objects.exists()
        and not Prediction.objects.exists()
        and not (files.exists() and any(files.iterdir()))
    )


# --- the model at work -------------------------------------------------------------------------


def test_an_uploaded_classifier_predicts_every_task_with_the_mapped_labels(
    requester_client, make_project, django_capture_on_commit_callbacks
):
    # given a classification project of a red, a green and a blue image
    project = make_project(images=0)
    tasks = add_images(project, [RED, GREEN, BLUE])
    # when the requester uploads a colour classifier mapped to car, taxi, truck
    response = upload(requester_client, project, django_capture_on_commit_callbacks)
    # then the job predicts each image's colour as its label, with the softmax's score
    assert response.status_code == 201, response.content
    assert response.json()["model"] == "colours@1"
    stored_payloads = predicted()
    assert {task: p["label"] for task, p in stored_payloads.items()} == {
        task: LABEL_OF[colour] for task, colour in tasks.items()
    }
    assert all(0.99 < p["score"] <= 1 for p in stored_payloads.values())
    # and the listing shows the model ready, with three tasks predicted and none failed
    (row,) = listing(requester_client, project)
    assert row["id"] == response.json()["id"]
    assert (row["state"], row["predicted"], row["failed"]) == ("ready", 3, 0)
    assert (row["task"], row["input_size"]) == ("classifier", [32, 32])
    assert row["class_labels"] == ["car", "taxi", "truck"]


def test_the_file_is_stored_by_its_sha256_under_media_root(
    requester_client, make_project, django_capture_on_commit_callbacks
):
    project = make_project(images=1)
    upload(requester_client, project, django_capture_on_commit_callbacks)
    model = OnnxModel.objects.get()
    path = Path(settings.MEDIA_ROOT) / "models" / f"{model.sha256}.onnx"
    assert path.read_bytes() == colour_classifier()
    assert model.size == path.stat().st_size
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary left


def test_the_model_votes_as_a_model_version_like_posted_predictions(
    requester_client, make_project, django_capture_on_commit_callbacks
):
    project = make_project(images=2)
    upload(requester_client, project, django_capture_on_commit_callbacks)
    version = ModelVersion.objects.get()
    assert (version.name, version.project_id, version.onnx.pk) == (
        "colours@1",
        project.pk,
        OnnxModel.objects.get().pk,
    )
    assert not version.voter.is_active
    assert version.predictions.count() == 2


def test_an_uploaded_yolo_detector_predicts_boxes_in_each_images_pixels(
    requester_client, make_project, django_capture_on_commit_callbacks
):
    # given a box project of 64×48 images, and a 64×64 detector that finds a "taxi" at
    # (24, 24)-(40, 40) of its input
    project = make_project("bbox", images=2)
    detector = yolo_detector([(32, 32, 16, 16, 1, 0.8)], classes=2)
    # when it is uploaded
    response = upload(
        requester_client,
        project,
        django_capture_on_commit_callbacks,
        model="det@1",
        task="yolo_detect",
        input_size="64",
        class_labels=["car", "taxi"],
        content=detector,
    )
    # then each image has the box with the letterbox undone: 8 rows of grey above, scale 1
    assert response.status_code == 201, response.content
    expected = {"boxes": [{"label": "taxi", "bbox": [24.0, 16.0, 16.0, 16.0], "score": 0.8}]}
    assert list(predicted("det@1").values()) == [expected, expected]


def test_a_class_mapped_to_null_is_never_a_label(
    requester_client, make_project, django_capture_on_commit_callbacks
):
    project = make_project(images=0)
    add_images(project, [RED])
    upload(
        requester_client,
        project,
        django_capture_on_commit_callbacks,
        class_labels=[None, "taxi", "truck"],
    )
    assert [p["label"] for p in predicted().values()] in (["taxi"], ["truck"])


def test_the_job_works_in_batches_and_sends_itself_until_every_task_is_predicted(
    requester_client, make_project, django_capture_on_commit_callbacks, monkeypatch
):
    # given batches of two tasks and a project of five
    monkeypatch.setattr(runs, "BATCH_TASKS", 2)
    project = make_project(images=5)
    # when the model is uploaded
    upload(requester_client, project, django_capture_on_commit_callbacks)
    # then three jobs, one after another, predicted all five
    assert len(predicted()) == 5


def test_a_second_run_predicts_nothing_twice(
    requester_client, make_project, django_capture_on_commit_callbacks
):
    project = make_project(images=2)
    upload(requester_client, project, django_capture_on_commit_callbacks)
    model = OnnxModel.objects.get()
    before = list(Prediction.objects.values_list("pk", "payload"))
    # when the job is delivered again (acks_late) and the beat runs
    with django_capture_on_commit_callbacks(execute=True):
        again = onnx_model_run_task(str(model.pk))
        swept = onnx_models_sweep_task()
    # then nothing is predicted twice, and nothing is due
    assert again == {"predicted": 0, "failed": 0, "more": False}
    assert swept == 0
    assert list(Prediction.objects.values_list("pk", "payload")) == before


def test_a_task_whose_image_cannot_be_read_is_counted_failed_and_the_rest_predicted(
    requester_client, make_project, django_capture_on_commit_callbacks
):
    # given three images, one of whose files is no longer an image
    project = make_project(images=0)
    tasks = add_images(project, [RED, GREEN, BLUE])
    broken = Task.objects.get(pk=list(tasks)[1])
    (Path(settings.MEDIA_ROOT) / broken.image).write_bytes(b"not an image any more")
    # when the model is uploaded
    upload(requester_client, project, django_capture_on_commit_callbacks)
    # then the two others are predicted, the broken one is counted as failed
    assert set(predicted()) == set(tasks) - {str(broken.pk)}
    failure = OnnxRunFailure.objects.get()
    assert (failure.task_id, failure.code) == (broken.pk, "image_unreadable")
    (row,) = listing(requester_client, project)
    assert (row["state"], row["predicted"], row["failed"]) == ("ready", 2, 1)
    assert str(broken.pk) in row["last_error"]
    # and it is not tried again: nothing is due
    assert onnx_models_sweep_task() == 0


def test_a_task_whose_image_file_is_gone_is_counted_failed(
    requester_client, make_project, django_capture_on_commit_callbacks
):
    project = make_project(images=2)
    gone = Task.objects.filter(project=project).first()
    (Path(settings.MEDIA_ROOT) / gone.image).unlink()
    upload(requester_client, project, django_capture_on_commit_callbacks)
    assert len(predicted()) == 1
    assert OnnxRunFailure.objects.get().task_id == gone.pk


def test_a_task_the_model_fails_on_is_counted_and_the_rest_predicted(
    requester_client, make_project, django_capture_on_commit_callbacks, monkeypatch
):
    # given a runner that fails on green images
    from predictions.onnx import runner
    from sebenzai.common.errors import PayloadInvalid

    real = runner.model_predict

    def failing_on_green(model, image):
        if image.getpixel((0, 0)) == GREEN:
            raise PayloadInvalid(code="model_run_failed", field="model", message="Boom.")
        return real(model, image)

    monkeypatch.setattr("predictions.onnx.model_predict", failing_on_green)
    project = make_project(images=0)
    tasks = add_images(project, [RED, GREEN, BLUE])
    # when the model runs
    upload(requester_client, project, django_capture_on_commit_callbacks)
    # then red and blue are predicted and green is counted with the runner's reason
    green = next(task for task, colour in tasks.items() if colour == GREEN)
    assert set(predicted()) == set(tasks) - {green}
    failure = OnnxRunFailure.objects.get()
    assert (str(failure.task_id), failure.code, failure.message) == (
        green,
        "model_run_failed",
        "Boom.",
    )


def test_tasks_uploaded_later_are_predicted_by_the_beat_job(
    requester_client, make_project, django_capture_on_commit_callbacks
):
    # given a model that has predicted the project's first image
    project = make_project(images=0)
    add_images(project, [RED])
    upload(requester_client, project, django_capture_on_commit_callbacks)
    # when two images arrive and the beat job runs
    later = add_images(project, [GREEN, BLUE], prefix="later")
    with django_capture_on_commit_callbacks(execute=True):
        sent = onnx_models_sweep_task()
    # then it sent the model's job, which predicted them
    assert sent == 1
    labels = {task: p["label"] for task, p in predicted().items()}
    assert {task: labels[task] for task in later} == {t: LABEL_OF[c] for t, c in later.items()}


def test_a_second_job_finds_the_lease_held_and_leaves(
    requester_client, make_project, django_capture_on_commit_callbacks, monkeypatch
):
    # given a model whose first job is running (its lease is held) when new tasks arrive
    project = make_project(images=1)
    upload(requester_client, project, django_capture_on_commit_callbacks)
    model = OnnxModel.objects.get()
    OnnxModel.objects.filter(pk=model.pk).update(
        running_until=timezone.now() + timedelta(minutes=5)
    )
    add_images(project, [GREEN], prefix="new")
    # when the beat and a redelivered job come
    assert onnx_models_sweep_task() == 0
    assert onnx_model_run_task(str(model.pk)) is None
    # then nothing ran beside it
    assert len(predicted()) == 1
    # and a lease that ran out (its job was killed) is taken over
    OnnxModel.objects.filter(pk=model.pk).update(
        running_until=timezone.now() - timedelta(seconds=1)
    )
    assert onnx_model_run_task(str(model.pk))["predicted"] == 1
    assert OnnxModel.objects.get().running_until is None


def test_a_task_stored_meanwhile_by_a_job_whose_lease_ran_out_is_left_as_it_is(
    requester_client, make_project, django_capture_on_commit_callbacks, monkeypatch
):
    # given a job that, while it runs, sees another store the model's answer on the first task
    project = make_project(images=2)
    first, second = sorted(str(pk) for pk in Task.objects.values_list("pk", flat=True))
    real = runs._predict

    def predict_while_another_stores(model, task):
        if str(task.pk) == first:
            racer = PredictionItem(first, {"label": "truck", "score": 0.5}, "racer")
            predictions_store(project=project, model="colours@1", items=[racer])
        return real(model, task)

    monkeypatch.setattr(runs, "_predict", predict_while_another_stores)
    # when the upload's job stores its batch
    upload(requester_client, project, django_capture_on_commit_callbacks)
    # then the other's answer stands and the rest of the batch is stored
    payloads = predicted()
    assert payloads[first] == {"label": "truck", "score": 0.5}
    assert set(payloads) == {first, second}
    assert not OnnxRunFailure.objects.exists()


def test_a_model_whose_stored_file_changed_is_marked_failed_and_left_alone(
    requester_client, make_project, django_capture_on_commit_callbacks
):
    # given an uploaded model whose file is later overwritten
    project = make_project(images=1)
    upload(requester_client, project, django_capture_on_commit_callbacks)
    model = OnnxModel.objects.get()
    (Path(settings.MEDIA_ROOT) / "models" / f"{model.sha256}.onnx").write_bytes(b"tampered")
    add_images(project, [GREEN])
    # when its job runs again
    assert onnx_model_run_task(str(model.pk)) == {"predicted": 0, "failed": 0, "more": False}
    # then it is failed with the reason, and the beat sends it no more
    (row,) = listing(requester_client, project)
    assert row["state"] == OnnxModelState.FAILED
    assert "not the one uploaded" in row["last_error"]
    assert onnx_models_sweep_task() == 0


# --- refusals ----------------------------------------------------------------------------------

BAD_UPLOADS = [
    # (what, form changes, field, code)
    ("label not in project", {"class_labels": ["car", "bus", "truck"]}, "class_labels[1]", "unknown_label"),
    ("class count mismatch", {"class_labels": ["car", "taxi"]}, "class_labels", "class_labels_mismatch"),
    ("class_labels not JSON", {"class_labels": "car, taxi"}, "class_labels", "invalid_json"),
    ("class_labels empty", {"class_labels": []}, "class_labels", "invalid_type"),
    ("class_labels all null", {"class_labels": [None, None, None]}, "class_labels", "invalid_labels"),
    ("not an ONNX file", {"content": b"PK\x03\x04 not a model"}, "file", "model_invalid"),
    ("empty file", {"content": b""}, "file", "model_invalid"),
    ("detector for a class project", {"task": "yolo_detect"}, "task", "task_unsupported"),
    ("unknown task", {"task": "segmenter"}, "task", "invalid_choice"),
    ("input size text", {"input_size": "big"}, "input_size", "invalid_size"),
    ("input size the model lacks", {"input_size": "64x48"}, "input_size", "input_size_mismatch"),
    ("input size too large", {"input_size": "9000"}, "input_size", "invalid_size"),
    ("model name", {"model": "no-version"}, "model", "invalid_model"),
    ("score threshold", {"score_threshold": "1.5"}, "score_threshold", "invalid_number"),
    ("mean", {"mean": "[0.5, 0.5]"}, "mean", "invalid_number"),
    ("std of zero", {"std": "[1, 0, 1]"}, "std", "invalid_number"),
    ("unknown field", {"is_gold": "true"}, "is_gold", "unknown_field"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "field", "code"), [b[1:] for b in BAD_UPLOADS], ids=[b[0] for b in BAD_UPLOADS]
)
def test_a_bad_upload_is_refused_naming_the_field_and_nothing_is_stored(
    requester_client, make_project, django_capture_on_commit_callbacks, media_files,
    changes, field, code,
):  # fmt: skip
    project = make_project(images=2)
    before = stored(media_files)
    with django_capture_on_commit_callbacks(execute=True):
        response = requester_client.post(url(project), upload_form(**changes))
    assert_refused(response, 400, field, code)
    assert stored(media_files) == before
    assert nothing_stored()


def test_a_form_without_the_file_names_it(requester_client, make_project):
    form = upload_form()
    del form["file"]
    assert_refused(requester_client.post(url(make_project(images=1)), form), 400, "file")
    assert nothing_stored()


def test_a_file_over_the_cap_is_refused_before_it_is_read(
    requester_client, make_project, media_files, monkeypatch
):
    # given a cap one byte under the classifier's size
    from predictions.onnx import checks

    monkeypatch.setattr(checks, "MAX_MODEL_BYTES", len(colour_classifier()) - 1)
    project = make_project(images=1)
    before = stored(media_files)
    # then the upload is refused for its size, naming the file
    response = requester_client.post(url(project), upload_form())
    assert_refused(response, 400, "file", "file_too_large")
    assert stored(media_files) == before
    assert nothing_stored()


@pytest.mark.parametrize(
    ("kind", "task"),
    [("polygon", "classifier"), ("moderation", "classifier"), ("bbox", "classifier")],
)
def test_a_project_kind_the_task_does_not_fit_names_task(
    requester_client, make_project, kind, task
):
    project = make_project(kind, images=1)
    response = requester_client.post(url(project), upload_form(task=task))
    error = assert_refused(response, 400, "task", "task_unsupported")
    assert kind in error["message"]
    assert nothing_stored()


def test_a_name_already_in_the_project_is_a_conflict(
    requester_client, make_project, django_capture_on_commit_callbacks
):
    # given predictions posted as m@1, and a model uploaded as colours@1
    project = make_project(images=1)
    task = str(Task.objects.get(project=project).pk)
    body = {
        "model": "m@1",
        "predictions": [{"task": task, "payload": {"label": "car", "score": 1}}],
    }
    posted = requester_client.post(
        f"/api/v1/projects/{project.pk}/predictions/", json.dumps(body), content_type="application/json"
    )  # fmt: skip
    assert posted.status_code == 201, posted.content
    upload(requester_client, project, django_capture_on_commit_callbacks)
    # when either name is uploaded again, then it is refused: a new version takes a new name
    for name in ("m@1", "colours@1"):
        response = requester_client.post(url(project), upload_form(model=name))
        assert_refused(response, 409, "model", "model_exists")
    assert OnnxModel.objects.count() == 1


def test_an_account_holds_a_limited_number_of_models(
    requester_client, make_project, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(onnx_models, "MAX_MODELS_PER_ACCOUNT", 1)
    project = make_project(images=1)
    upload(requester_client, project, django_capture_on_commit_callbacks)
    response = requester_client.post(url(project), upload_form(model="colours@2"))
    assert_refused(response, 409, "file", "quota_exceeded")
    assert OnnxModel.objects.count() == 1


def test_another_requesters_project_is_a_404_like_a_missing_one_and_a_worker_is_refused(
    make_project, make_user, worker_client, media_files
):
    project = make_project(images=1)
    other = client_for(make_user(Role.REQUESTER, "req_c"))
    before = stored(media_files)
    theirs = other.post(url(project), upload_form())
    assert_refused(theirs, 404, None, "not_found")
    assert (
        theirs.content == other.post(f"/api/v1/projects/{NOWHERE}/models/", upload_form()).content
    )
    assert_refused(other.get(url(project)), 404, None, "not_found")
    assert worker_client.post(url(project), upload_form()).status_code == 403
    assert worker_client.get(url(project)).status_code == 403
    assert stored(media_files) == before
    assert nothing_stored()


def test_staff_may_upload_to_any_project(
    make_project, make_user, django_capture_on_commit_callbacks
):
    project = make_project(images=1)
    staff = client_for(make_user(Role.REQUESTER, "admin", staff=True))
    response = upload(staff, project, django_capture_on_commit_callbacks)
    assert response.status_code == 201, response.content
    assert len(predicted()) == 1

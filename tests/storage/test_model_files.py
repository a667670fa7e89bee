"""Uploaded ONNX models with an object store: the file is an object of the store, and the runner
(a Celery job, maybe on another host) fetches it into a local cache file named by its sha256,
checked before it is used. A store that is down leaves the model as it was for the next sweep."""

from __future__ import annotations

import hashlib

import pytest

from predictions import model_files
from predictions.model_files import ModelFileUnreadable, model_file_read
from predictions.models import OnnxModel, OnnxModelState, OnnxRunFailure
from predictions.tasks import onnx_model_run_task
from tests.predictions.helpers import ONNX, colour_classifier
from tests.predictions.test_models_api import BLUE, GREEN, RED, add_images, predicted, upload

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not ONNX, reason="needs the onnx extra (onnx, onnxruntime)"),
]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "model-cache"
    monkeypatch.setattr(model_files, "model_cache_dir", lambda: folder)
    return folder


def test_a_model_is_stored_in_the_store_and_run_from_a_checked_local_copy(
    object_store,
    cache,
    make_project,
    requester_client,
    media_files,
    django_capture_on_commit_callbacks,
):
    # given a project of three images and a colour classifier uploaded to it
    project = make_project(images=0)
    add_images(project, [RED, GREEN, BLUE])
    response = upload(requester_client, project, django_capture_on_commit_callbacks)
    assert response.status_code == 201, response.content
    # then the model is an object of the store named by its sha256, nothing is under MEDIA_ROOT
    sha256 = hashlib.sha256(colour_classifier()).hexdigest()
    assert object_store.keys().count(f"models/{sha256}.onnx") == 1
    assert media_files() == []
    # and the job ran it from a cache file of the same name, holding the uploaded bytes
    assert (cache / f"{sha256}.onnx").read_bytes() == colour_classifier()
    assert len(predicted()) == 3
    assert OnnxModel.objects.get().state == OnnxModelState.READY


def test_a_damaged_cache_file_is_fetched_again(
    object_store, cache, make_project, requester_client, django_capture_on_commit_callbacks
):
    project = make_project(images=1)
    upload(requester_client, project, django_capture_on_commit_callbacks)
    sha256 = OnnxModel.objects.get().sha256
    (cache / f"{sha256}.onnx").write_bytes(b"damaged on this host")
    assert model_file_read(sha256=sha256) == colour_classifier()
    assert (cache / f"{sha256}.onnx").read_bytes() == colour_classifier()


def test_an_object_changed_in_the_store_is_refused_and_never_cached(
    object_store, cache, make_project, requester_client, django_capture_on_commit_callbacks
):
    project = make_project(images=1)
    upload(requester_client, project, django_capture_on_commit_callbacks)
    sha256 = OnnxModel.objects.get().sha256
    (cache / f"{sha256}.onnx").unlink()
    key = f"models/{sha256}.onnx"
    object_store.client.put_object(Bucket=object_store.name, Key=key, Body=b"another file")
    with pytest.raises(ModelFileUnreadable):
        model_file_read(sha256=sha256)
    assert not (cache / f"{sha256}.onnx").exists()


def test_a_store_that_is_down_leaves_the_model_and_its_tasks_for_the_next_sweep(
    object_store, cache, make_project, requester_client, django_capture_on_commit_callbacks
):
    # given a model uploaded while its project had no tasks, and tasks added afterwards
    project = make_project(images=0)
    upload(requester_client, project, django_capture_on_commit_callbacks)
    add_images(project, [RED, GREEN])
    model = OnnxModel.objects.get()
    content = colour_classifier()
    (cache / f"{model.sha256}.onnx").unlink(missing_ok=True)  # another host: nothing cached
    # when the job runs while the store is down
    with object_store.stopped():
        report = onnx_model_run_task(str(model.pk))
    # then nothing is predicted, nothing counted failed, and the model is not marked failed
    assert report == {"predicted": 0, "failed": 0, "more": False}
    model.refresh_from_db()
    assert model.state != OnnxModelState.FAILED
    assert not OnnxRunFailure.objects.exists()
    assert model.running_until is None  # the lease was given back
    # and once the store is back (moto comes back empty: the objects are put again) it runs
    key = f"models/{model.sha256}.onnx"
    object_store.client.put_object(Bucket=object_store.name, Key=key, Body=content)
    assert len(predicted()) == 0
    _put_images_back(object_store, project)
    assert onnx_model_run_task(str(model.pk))["predicted"] == 2


def _put_images_back(bucket, project) -> None:
    from annotations.models import Task
    from tests.predictions.test_models_api import colour_png

    colours = {hashlib.sha256(colour_png(c)).hexdigest(): colour_png(c) for c in (RED, GREEN)}
    for task in Task.objects.filter(project=project):
        bucket.client.put_object(Bucket=bucket.name, Key=task.image, Body=colours[task.sha256])

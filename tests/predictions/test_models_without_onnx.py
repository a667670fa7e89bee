"""Without the optional onnx extra (onnx, onnxruntime): an upload is refused saying so and
stores nothing, the beat job sends nothing, and the list of uploaded models still answers. Runs
with or without the extra installed: the runtime is hidden from the code under test."""

from __future__ import annotations

import pytest

from predictions import model_files
from predictions.models import OnnxModel
from predictions.services import model_version
from predictions.tasks import onnx_model_run_task, onnx_models_sweep_task
from tests.annotations.bad_input.contract import assert_refused, stored
from tests.predictions.helpers import upload_form

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_runtime(monkeypatch):
    monkeypatch.setattr(model_files, "find_spec", lambda name: None)


def url(project) -> str:
    return f"/api/v1/projects/{project.pk}/models/"


def test_an_upload_is_refused_saying_the_extra_is_missing_and_nothing_is_stored(
    requester_client, make_project, media_files
):
    project = make_project(images=1)
    before = stored(media_files)
    # even a form with nothing right in it gets the one answer a field cannot fix
    for form in (upload_form(), {"model": "bad name"}):
        response = requester_client.post(url(project), form)
        error = assert_refused(response, 400, None, "onnx_unavailable")
        assert "onnx extra" in error["message"]
    assert stored(media_files) == before
    assert not OnnxModel.objects.exists()


def test_the_beat_and_the_run_job_do_nothing_and_the_list_answers(requester_client, make_project):
    # given a model uploaded while the runtime was installed, and a task it has not predicted
    project = make_project(images=1)
    spec = {"task": "classifier", "input_size": [32, 32], "class_labels": ["car", "taxi", "truck"]}
    version = model_version(project, "colours@1")
    model = OnnxModel.objects.create(version=version, spec=spec, sha256="0" * 64, size=1)
    # then neither the beat nor its job touches it
    assert onnx_models_sweep_task() == 0
    assert onnx_model_run_task(str(model.pk)) is None
    assert OnnxModel.objects.get().state == "pending"
    # and the requester still sees it listed
    (row,) = requester_client.get(url(project)).json()["models"]
    assert (row["model"], row["state"], row["predicted"]) == ("colours@1", "pending", 0)

"""The model runner on "another host": a real Celery worker process that shares the database,
the broker and the object store but no disk with the web process (a MEDIA_ROOT and a temporary
folder of its own), runs an ONNX model uploaded through the API, from the store."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from predictions.models import OnnxModel, OnnxModelState, Prediction
from tests.integration.helpers import needs_services, wait_for
from tests.predictions.helpers import ONNX, colour_classifier, upload_form
from tests.predictions.test_models_api import BLUE, GREEN, RED, add_images, url

pytestmark = [
    pytest.mark.integration,
    needs_services,
    pytest.mark.skipif(not ONNX, reason="needs the onnx extra (onnx, onnxruntime)"),
]


def test_a_worker_on_another_host_runs_the_model_from_the_store(
    object_store, celery_worker_on, make_project, requester_client, settings, tmp_path, monkeypatch
):
    # given a worker process whose disk is not the web process's
    elsewhere = tmp_path / "worker-host"
    monkeypatch.setenv("TMPDIR", str(elsewhere / "tmp"))
    (elsewhere / "tmp").mkdir(parents=True)
    web_media = settings.MEDIA_ROOT
    settings.MEDIA_ROOT = str(elsewhere / "media")  # worker_env hands this one to the worker
    celery_worker_on(settings.REDIS_URL)
    settings.MEDIA_ROOT = web_media
    project = make_project(images=0)
    add_images(project, [RED, GREEN, BLUE])
    # when the requester uploads a model
    response = requester_client.post(url(project), upload_form())
    assert response.status_code == 201, response.content
    # then the worker predicts every task, from its own cached copy of the stored model
    assert wait_for(lambda: Prediction.objects.count() == 3, timeout=60)
    assert OnnxModel.objects.get().state == OnnxModelState.READY
    sha256 = hashlib.sha256(colour_classifier()).hexdigest()
    cached = elsewhere / "tmp" / "sebenzai-models" / f"{sha256}.onnx"
    assert cached.read_bytes() == colour_classifier()
    assert not Path(elsewhere / "media").exists()  # nothing read from or written to its disk

"""The edge model in the loop on the production path (issue 14): an ONNX model uploaded through
the API, run by a real Celery worker process on Redis and PostgreSQL, graded on gold, and then
voting: one person who agrees with it decides a task."""

import uuid

import pytest

from annotations.models import Task, TaskState
from annotations.services.gold import gold_set
from annotations.services.intake import IncomingFile, tasks_create_from_files
from consensus.models import ConsensusResult
from predictions.models import OnnxModel, OnnxModelState, Prediction
from tests.helpers import lease, submit
from tests.integration.helpers import needs_services, wait_for
from tests.predictions.helpers import ONNX, upload_form
from tests.predictions.test_models_api import GREEN, RED, add_images, colour_png, url

pytestmark = [
    pytest.mark.integration,
    needs_services,
    pytest.mark.skipif(not ONNX, reason="needs the onnx extra (onnx, onnxruntime)"),
]


def test_an_uploaded_model_runs_on_the_worker_and_lets_one_person_decide(
    celery_worker_process, make_project, requester_client, worker_clients
):
    # given ten red gold images (car) and one green image to label (the classifier says taxi)
    project = make_project(images=0, acceptance_threshold=0.9)
    files = [  # ten sizes: ten images, not one image sent ten times
        IncomingFile(f"images[{i}]", f"gold{i}.png", lambda i=i: colour_png(RED, (40 + i, 30)))
        for i in range(10)
    ]
    golds = tasks_create_from_files(project=project, files=iter(files)).created
    (green,) = add_images(project, [GREEN], prefix="open")
    gold = [{"task": uuid.UUID(str(t)), "answer": {"label": "car"}} for t in golds]
    gold_set(project=project, items=gold)
    # when the requester uploads the colour classifier
    response = requester_client.post(url(project), upload_form())
    assert response.status_code == 201, response.content
    # then the worker process runs it on every task, grades it on gold and finds it credible:
    # the green task now asks for one person
    assert wait_for(lambda: Prediction.objects.count() == 11, timeout=60)
    assert OnnxModel.objects.get().state == OnnxModelState.READY
    assert wait_for(lambda: Task.objects.get(pk=green).target_redundancy == 1, timeout=30)
    # and when one person agrees with it, the worker process accepts the task on both votes
    work = lease(worker_clients[0], project)
    assert work["task"] == str(green)
    assert submit(worker_clients[0], work["assignment"], {"label": "taxi"}).status_code == 201
    assert wait_for(lambda: Task.objects.get(pk=green).state == TaskState.ACCEPTED)
    contributors = ConsensusResult.objects.get(task_id=green).contributors
    assert sorted("prediction" in c for c in contributors) == [False, True]

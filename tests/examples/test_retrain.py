"""The reference retraining job (examples/retrain/): the receiver checks a delivery exactly as
the platform signs it, the job refuses an export whose bytes differ from the message, and what
it posts is accepted by the real predictions API. The whole loop (webhook, download, train,
post) runs with a stand-in trainer always, and with the real trainers where torch and
torchvision, or ultralytics, are installed."""

from __future__ import annotations

import http.server
import importlib.util
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
from rest_framework.authtoken.models import Token

from exports.webhooks import signature
from tests.examples.conftest import EXAMPLE, example_module

MESSAGE = {
    "event": "export.ready",
    "project": "p",
    "export": "e",
    "version": 3,
    "format": "yolo",
    "counts": {"images": {"train": 2, "total": 2}, "objects": {}},
    "download_url": "http://127.0.0.1:1/api/v1/exports/e/download/",
    "sha256": "0" * 64,
    "size": 1,
}


def platform_body(message: dict) -> bytes:
    """The body as exports.webhooks.delivery_attempt serialises it."""
    return json.dumps(message, separators=(",", ":"), sort_keys=True).encode()


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def signed_headers(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": "application/json",
        "X-Sebenzai-Event": "export.ready",
        "X-Sebenzai-Delivery": "d-1",
        "X-Sebenzai-Timestamp": stamp,
        "X-Sebenzai-Signature": signature(secret=secret, timestamp=stamp, body=body),
    }


# --- the receiver ------------------------------------------------------------------------------


def test_the_receiver_hands_on_a_delivery_signed_as_the_platform_signs_it(webhook_server):
    # given a message signed with the platform's own signing function
    webhook_server.secret = "s3cret"
    body = platform_body(MESSAGE)
    # when it is delivered
    status = post(webhook_server.url, body, signed_headers("s3cret", body))
    # then it is accepted and handed to the job as sent
    assert status == 202
    assert webhook_server.messages == [MESSAGE]


@pytest.mark.parametrize(
    ("secret", "tamper", "age"),
    [
        pytest.param("s3cret", True, 0, id="tampered body"),
        pytest.param("another secret", False, 0, id="wrong secret"),
        pytest.param("s3cret", False, 301, id="stale timestamp"),
        pytest.param("s3cret", False, -301, id="timestamp from the future"),
    ],
)
def test_the_receiver_refuses_a_delivery_it_cannot_trust(webhook_server, secret, tamper, age):
    # given a receiver with the project's secret
    webhook_server.secret = "s3cret"
    body = platform_body(MESSAGE)
    headers = signed_headers(secret, body, timestamp=int(time.time()) - age)
    # when the delivery is signed with another secret, altered on the way, or replayed late
    sent = body.replace(b'"version":3', b'"version":4') if tamper else body
    status = post(webhook_server.url, sent, headers)
    # then it is refused and nothing reaches the job
    assert status == 401
    assert webhook_server.messages == []


def test_the_signature_check_keeps_to_the_tolerance_and_refuses_a_malformed_timestamp(receiver):
    body, now = platform_body(MESSAGE), 1_700_000_000
    sign = {"secret": "k", "body": body}
    fresh = signature(secret="k", timestamp=str(now - 300), body=body)
    assert receiver.signature_valid(**sign, timestamp=str(now - 300), signature=fresh, now=now)
    assert not receiver.signature_valid(
        **sign, timestamp=str(now - 300), signature=fresh, now=now + 1
    )
    assert not receiver.signature_valid(**sign, timestamp="soon", signature=fresh, now=now)


def test_a_repeated_delivery_is_answered_but_handed_on_once(webhook_server):
    # given a delivery that arrived already (delivery is at least once)
    webhook_server.secret = "s3cret"
    body = platform_body(MESSAGE)
    assert post(webhook_server.url, body, signed_headers("s3cret", body)) == 202
    # when the platform retries it with the same delivery id
    status = post(webhook_server.url, body, signed_headers("s3cret", body))
    # then it gets a 2xx (no more retries) and the job runs once
    assert status == 200
    assert len(webhook_server.messages) == 1


# --- download and verify -----------------------------------------------------------------------


@pytest.fixture
def file_server():
    """Serves ``.content`` at any path and records the Authorization headers it got."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            server.auth.append(self.headers.get("Authorization"))
            self.send_response(200)
            self.send_header("Content-Length", str(len(server.content)))
            self.end_headers()
            self.wfile.write(server.content)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.content, server.auth = b"", []
    server.url = f"http://127.0.0.1:{server.server_address[1]}/api/v1/exports/e/download/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_the_download_refuses_a_file_whose_sha256_differs(job, file_server, tmp_path):
    # given a message whose sha256 is not that of the bytes served
    file_server.content = b"PK not the export"
    dest = tmp_path / "run" / "export.zip"
    # when the job downloads it
    with pytest.raises(job.ExportRefused, match="sha256"):
        job.export_download(
            url=file_server.url,
            token="t0k",
            sha256=job.hashlib.sha256(b"other").hexdigest(),
            size=None,
            dest=dest,
        )
    # then nothing is kept, not even a partial file
    assert list(dest.parent.iterdir()) == []


def test_the_download_sends_the_token_and_keeps_a_file_that_matches(job, file_server, tmp_path):
    file_server.content = b"the export's bytes"
    digest = job.hashlib.sha256(file_server.content).hexdigest()
    dest = job.export_download(
        url=file_server.url,
        token="t0k",
        sha256=digest,
        size=len(file_server.content),
        dest=tmp_path / "export.zip",
    )
    assert dest.read_bytes() == file_server.content
    assert file_server.auth == ["Token t0k"]


def test_the_token_is_not_sent_to_a_host_other_than_the_platform(job, file_server, tmp_path):
    # given a job configured for one platform and a message naming another host
    config = job.Config(url="https://sebenzai.example.com", token="t0k", workdir=tmp_path)
    message = {**MESSAGE, "download_url": file_server.url}
    # when it is run, then it refuses before connecting
    with pytest.raises(job.ExportRefused, match="not on"):
        job.export_fetch(message=message, config=config)
    assert file_server.auth == []


# --- what the job posts is what the predictions API takes --------------------------------------


@pytest.mark.django_db
def test_a_classifiers_predictions_are_accepted_by_the_predictions_api(
    job, requester_client, make_project
):
    # given a classification project and the job's predictions for two of its tasks
    project = make_project("classification", images=2)
    tasks = [str(pk) for pk in project.tasks.values_list("pk", flat=True)]
    predictions = [
        job.prediction_of_class(kind="classification", task=tasks[0], name="taxi", score=0.912345),
        job.prediction_of_class(kind="classification", task=tasks[1], name="car", score=0.5),
    ]
    body = job.predictions_body(model="retrain@1", predictions=predictions)
    # when it is posted as the job posts it
    response = requester_client.post(
        f"/api/v1/projects/{project.pk}/predictions/", body, format="json"
    )
    # then the API stores both
    assert response.status_code == 201, response.json()
    assert response.json()["stored"] == 2


@pytest.mark.django_db
def test_a_detectors_predictions_are_accepted_by_the_predictions_api(
    job, requester_client, make_project
):
    # given a box project (64 x 48 images) and detections, one overshooting the image, one empty
    project = make_project("bbox", images=2)
    tasks = [str(pk) for pk in project.tasks.values_list("pk", flat=True)]
    boxes = [("car", -3.0, 2.0, 70.0, 30.5, 0.81), ("taxi", 10.0, 10.0, 20.0, 40.0, 0.3)]
    predictions = [
        job.prediction_of_boxes(task=tasks[0], boxes=boxes, width=64, height=48),
        job.prediction_of_boxes(task=tasks[1], boxes=[], width=64, height=48),
    ]
    body = job.predictions_body(model="retrain-yolo@2", predictions=predictions)
    # when it is posted
    response = requester_client.post(
        f"/api/v1/projects/{project.pk}/predictions/", body, format="json"
    )
    # then the API stores both, the boxes clipped to the image
    assert response.status_code == 201, response.json()
    assert response.json()["stored"] == 2
    assert predictions[0]["payload"]["boxes"][0]["bbox"] == [0.0, 2.0, 64.0, 28.5]


def test_the_example_imports_without_the_heavy_libraries():
    # given a Python where torch, torchvision and ultralytics cannot be imported
    code = (
        "import sys; sys.modules.update(torch=None, torchvision=None, ultralytics=None); "
        f"sys.path.insert(0, {str(EXAMPLE)!r}); import job, receiver"
    )
    # when the example's modules are imported, then they load
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)  # noqa: S603


# --- the whole loop ----------------------------------------------------------------------------


def retrain_loop(
    *, job, client, project, fmt, split, live_server, webhook_server, tmp_path, **config
):
    """Webhook set, export requested through the API; the platform builds it and delivers the
    signed message to the example's receiver; the job runs on it against the live server."""
    host = live_server.url.removeprefix("http://")
    hook = client.put(
        f"/api/v1/projects/{project.pk}/webhook/", {"url": webhook_server.url}, format="json"
    )
    webhook_server.secret = hook.json()["secret"]
    response = client.post(
        f"/api/v1/projects/{project.pk}/exports/",
        {"format": fmt, "split": split},
        format="json",
        HTTP_HOST=host,
    )
    assert response.status_code == 202, response.json()
    (message,) = webhook_server.messages  # built and delivered in-process (eager jobs)
    token = Token.objects.get(user=client.user).key
    settings = job.Config(url=live_server.url, token=token, workdir=tmp_path / "runs", **config)
    return message, job.run(message, settings)


def stand_in_pipeline(*, root, manifest, tasks, config):
    """Predicts each image's own class folder, at 0.9: no training library needed."""
    job = example_module("job")
    folder_class = {folder: name for name, folder in manifest["class_folders"].items()}
    predictions = [
        job.prediction_of_class(
            kind="classification",
            task=t["task"],
            name=folder_class[t["image"].split("/")[1]],
            score=0.9,
        )
        for t in tasks
        if t["split"] in config.predict_splits
    ]
    return job.Outcome("accuracy", 1.0, predictions)


@pytest.mark.django_db(transaction=True)
def test_the_loop_runs_from_webhook_to_posted_predictions_with_a_stand_in_trainer(
    job, requester_client, accepted_project, live_server, webhook_server, tmp_path, monkeypatch
):
    # given a classification project with accepted labels and a trainer that needs no library
    project = accepted_project("classification", images=8)
    monkeypatch.setitem(job.PIPELINES, "imagefolder", stand_in_pipeline)
    # when an export is made and the receiver hands its message to the job
    message, report = retrain_loop(
        job=job,
        client=requester_client,
        project=project,
        fmt="imagefolder",
        split=[0.5, 0.0, 0.5],
        live_server=live_server,
        webhook_server=webhook_server,
        tmp_path=tmp_path,
        predict_splits=("train", "test"),
    )
    # then the export was downloaded, verified, unpacked and every task predicted and stored
    assert report.model == f"retrain@{message['version']}"
    assert [answer["stored"] for answer in report.posted] == [8]
    models = requester_client.get(f"/api/v1/projects/{project.pk}/predictions/").json()["models"]
    assert [m["model"] for m in models] == ["retrain@1"]


def needs(*modules: str, install: str):
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    return pytest.mark.skipif(
        bool(missing),
        reason=f"{', '.join(missing)} not installed: `pip install {install}` runs the job's training end to end",
    )


@needs("torch", "torchvision", install="torch torchvision")
@pytest.mark.django_db(transaction=True)
def test_a_torchvision_classifier_is_trained_evaluated_and_its_predictions_posted(
    job, requester_client, accepted_project, live_server, webhook_server, tmp_path
):
    # given a classification project with 16 accepted labels
    project = accepted_project("classification", images=16)
    # when the job runs on its imagefolder export with a one-epoch resnet18
    message, report = retrain_loop(
        job=job,
        client=requester_client,
        project=project,
        fmt="imagefolder",
        split=[0.5, 0.0, 0.5],
        live_server=live_server,
        webhook_server=webhook_server,
        tmp_path=tmp_path,
        epochs=1,
        predict_splits=("train", "test"),
    )
    # then it reports its test accuracy and every task's prediction was stored
    assert message["counts"]["images"]["test"] > 0, "the tiny data left the test split empty"
    assert report.metric == "accuracy"
    assert 0.0 <= report.value <= 1.0
    assert sum(answer["stored"] for answer in report.posted) == 16


@needs("ultralytics", install="ultralytics")
@pytest.mark.django_db(transaction=True)
def test_an_ultralytics_detector_is_trained_evaluated_and_its_predictions_posted(
    job, requester_client, accepted_project, live_server, webhook_server, tmp_path
):
    # given a box project with 24 accepted labels
    project = accepted_project("bbox", images=24)
    # when the job runs on its yolo export with one epoch of yolov8n built from its YAML
    message, report = retrain_loop(
        job=job,
        client=requester_client,
        project=project,
        fmt="yolo",
        split=[0.5, 0.25, 0.25],
        live_server=live_server,
        webhook_server=webhook_server,
        tmp_path=tmp_path,
        epochs=1,
        image_size=64,
        yolo_model="yolov8n.yaml",
        predict_splits=("train", "val", "test"),
    )
    # then it reports mAP50 on the test split and every task's prediction was stored
    images = message["counts"]["images"]
    assert images["val"] > 0, "the tiny data left the val split empty"
    assert images["test"] > 0, "the tiny data left the test split empty"
    assert report.metric == "mAP50"
    assert 0.0 <= report.value <= 1.0
    assert sum(answer["stored"] for answer in report.posted) == 24

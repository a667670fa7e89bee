"""The whole path through the HTTP API: upload, lease, submit, consensus, results."""

import pytest

from annotations.models import Task, TaskState
from tests.helpers import lease, png_bytes, submit
from workers.models import PointsEntry

pytestmark = pytest.mark.django_db(transaction=True)


def test_requester_uploads_images_and_three_agreeing_workers_get_the_task_accepted(
    requester_client, worker_clients
):
    created = requester_client.post(
        "/api/v1/projects/",
        {
            "name": "Taxis",
            "kind": "classification",
            "labels": ["car", "taxi"],
            "redundancy_min": 3,
            "acceptance_threshold": 0.8,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    project_id = created.json()["id"]
    upload = requester_client.post(
        f"/api/v1/projects/{project_id}/tasks/",
        {"images": [_file(png_bytes(seed=1), "a.png"), _file(png_bytes(seed=2), "b.png")]},
        format="multipart",
    )
    assert upload.status_code == 201, upload.content
    assert upload.json()["created"] == 2
    assert (
        requester_client.patch(
            f"/api/v1/projects/{project_id}/", {"status": "active"}, format="json"
        ).status_code
        == 200
    )

    for client in worker_clients[:3]:
        work = lease(client)
        assert submit(client, work["assignment"], {"label": "taxi"}).status_code == 201

    results = requester_client.get(f"/api/v1/projects/{project_id}/results/?state=accepted").json()[
        "results"
    ]
    assert len(results) == 1
    assert results[0]["label"] == {"label": "taxi"}
    assert results[0]["confidence"] >= 0.8
    assert PointsEntry.objects.filter(reason="accepted").count() == 3
    progress = requester_client.get(f"/api/v1/projects/{project_id}/progress/").json()
    assert progress["tasks"]["accepted"] == 1
    assert progress["answers"] == 3


def test_a_split_crowd_raises_the_target_then_sends_the_task_to_review(
    make_project, worker_clients
):
    project = make_project(images=1, redundancy_min=2, redundancy_max=3, acceptance_threshold=0.95)
    votes = ["car", "taxi", "truck"]
    for client, label in zip(worker_clients, votes, strict=False):
        work = lease(client, project)
        assert work is not None
        assert submit(client, work["assignment"], {"label": label}).status_code == 201
    task = Task.objects.get(project=project)
    assert task.state == TaskState.REVIEW
    assert task.target_redundancy == 3
    assert lease(worker_clients[3], project) is None


def test_uploading_the_same_image_twice_skips_the_duplicate(requester_client, project):
    body = {"images": [_file(png_bytes(seed=99), "x.png"), _file(png_bytes(seed=99), "y.png")]}
    response = requester_client.post(
        f"/api/v1/projects/{project.pk}/tasks/", body, format="multipart"
    )
    assert response.json()["created"] == 1
    assert response.json()["duplicates"] == 1


def test_the_worker_holding_the_lease_can_fetch_the_image_with_safe_headers(worker_client, project):
    work = lease(worker_client, project)
    response = worker_client.get(work["image_url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def _file(content: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="image/png")


@pytest.mark.parametrize("labels", [["car", "Car"], ["taxi", "TAXI", "bus"], ["\uff41", "a"]])
def test_labels_that_differ_only_in_case_or_width_are_refused(requester_client, labels):
    response = requester_client.post(
        "/api/v1/projects/", {"name": "p", "kind": "bbox", "labels": labels}, format="json"
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "duplicate_label"
    assert response.json()["error"]["field"] == "labels"

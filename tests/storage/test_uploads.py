"""Uploads (images, a zip, a video) on each file store: with S3 every file is an object of the
bucket and nothing lands under MEDIA_ROOT; a store that is down, before or in the middle of a
request, is a 503 store_unavailable and no task of that request exists."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotations.models import Task
from annotations.services import intake
from tests.annotations.video_clips import blocks, clip_bytes
from tests.helpers import png_bytes, png_files, zip_bytes
from tests.storage.conftest import fetch_image

pytestmark = pytest.mark.django_db


def upload(client, project, **body):
    return client.post(f"/api/v1/projects/{project.pk}/tasks/", body, format="multipart")


def forms() -> dict[str, dict]:
    """One request of each kind, each making three or four tasks."""
    archive = zip_bytes({f"cam/{i}.png": png_bytes(seed=40 + i) for i in range(3)})
    return {
        "images": {"images": png_files("p{}.png", range(3))},
        "archive": {"archive": SimpleUploadedFile("a.zip", archive, "application/zip")},
        "video": {
            "images": [
                SimpleUploadedFile(
                    "c.mp4", clip_bytes([(blocks(seed), 1) for seed in range(4)]), "video/mp4"
                )
            ]
        },
    }


@pytest.mark.parametrize("kind", ["images", "archive", "video"])
def test_uploaded_files_live_in_the_store_and_are_served_from_it(
    file_store, make_project, requester_client, media_files, kind
):
    project = make_project(images=0)
    response = upload(requester_client, project, **forms()[kind])
    assert response.status_code == 201, response.content
    tasks = Task.objects.filter(project=project)
    assert tasks.count() == response.json()["created"] >= 3
    if file_store is not None:
        assert media_files() == []  # nothing under MEDIA_ROOT
        assert set(file_store.keys()) == {task.image for task in tasks}
    first = tasks.first()
    fetched = fetch_image(requester_client, f"/api/v1/tasks/{first.pk}/image/")
    assert fetched.content_type == ("image/jpeg" if kind == "video" else "image/png")
    assert fetched.content[:3] in (b"\xff\xd8\xff", b"\x89PN")


@pytest.mark.parametrize("kind", ["images", "archive", "video"])
def test_a_store_that_is_down_is_a_503_and_no_task_is_created(
    object_store, make_project, requester_client, kind
):
    project = make_project(images=2)
    body = forms()[kind]
    with object_store.stopped():
        response = upload(requester_client, project, **body)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "store_unavailable"
    assert response["Content-Type"] == "application/json"
    assert Task.objects.filter(project=project).count() == 2


def test_a_store_going_down_in_the_middle_of_a_request_leaves_no_task_of_it(
    object_store, make_project, requester_client, monkeypatch
):
    # given a store that stops answering once the request's first file is in it
    project = make_project(images=0)
    real_store = intake.image_store
    kept = object_store.snapshot()

    def then_down(image):
        stored = real_store(image)
        object_store.server.stop()
        return stored

    monkeypatch.setattr(intake, "image_store", then_down)
    try:
        response = upload(requester_client, project, images=png_files("m{}.png", range(3)))
    finally:
        object_store.restore(kept)
    # then the request fails as a whole: a 503, and none of its files became a task
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "store_unavailable"
    assert not Task.objects.filter(project=project).exists()
    # and the same upload, once the store is back, makes all three
    monkeypatch.setattr(intake, "image_store", real_store)
    again = upload(requester_client, project, images=png_files("m{}.png", range(3)))
    assert again.status_code == 201, again.content
    assert again.json()["created"] == 3

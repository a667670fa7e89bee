"""GET /api/v1/tasks/<id>/image/ on each file store: the same permission checks everywhere; with
S3 and MEDIA_DELIVERY=redirect a 302 to a short-lived presigned URL of the store, streamed bytes
otherwise; scaled copies made once and kept in the store; a missing object a 404, a store that
is down a 503, both in the API's JSON shape."""

from __future__ import annotations

import io
import urllib.error
import urllib.request
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from annotations.models import Task
from annotations.services.intake import IncomingFile, tasks_create_from_files
from sebenzai.object_store_settings import object_store_settings
from tests.helpers import lease, png_bytes
from tests.storage.conftest import fetch_image

pytestmark = pytest.mark.django_db

PHOTO = png_bytes(1600, 1200, seed=21)


@pytest.fixture
def photo_project(make_project):
    project = make_project(images=0)
    files = [IncomingFile("images[0]", "photo.png", lambda: PHOTO)]
    tasks_create_from_files(project=project, files=iter(files))
    return project


@pytest.fixture
def streamed(settings):
    settings.MEDIA_DELIVERY = "stream"


def test_the_leased_worker_gets_the_original_bytes_from_either_store(
    file_store, photo_project, worker_client
):
    work = lease(worker_client, photo_project)
    fetched = fetch_image(worker_client, work["image_url"])
    assert fetched.content == PHOTO
    assert fetched.content_type == "image/png"
    # the local disk streams; S3 redirects (MEDIA_DELIVERY's default)
    assert fetched.status == (200 if file_store is None else 302)


def test_the_redirect_is_presigned_private_and_names_the_detected_type(
    object_store, photo_project, requester_client
):
    task = Task.objects.get(project=photo_project)
    response = requester_client.get(f"/api/v1/tasks/{task.pk}/image/")
    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    location = response["Location"]
    assert location.startswith(object_store.server.endpoint)
    query = parse_qs(urlsplit(location).query)
    assert query["X-Amz-Expires"] == ["300"]
    assert query["response-content-type"] == ["image/png"]
    assert query["response-content-disposition"] == [f'inline; filename="{task.pk}.png"']
    with urllib.request.urlopen(location, timeout=10) as answer:  # noqa: S310 - loopback store
        assert answer.headers["Content-Type"] == "image/png"
        assert answer.headers["Content-Disposition"] == f'inline; filename="{task.pk}.png"'
        assert answer.read() == PHOTO


@pytest.fixture
def one_second_urls(object_store, settings, monkeypatch):
    monkeypatch.setenv("S3_URL_SECONDS", "1")
    settings.STORAGES = {**settings.STORAGES, "default": object_store_settings()}


def test_urls_live_as_long_as_s3_url_seconds_says(one_second_urls, photo_project, requester_client):
    task = Task.objects.get(project=photo_project)
    location = requester_client.get(f"/api/v1/tasks/{task.pk}/image/")["Location"]
    query = parse_qs(urlsplit(location).query)
    assert query["X-Amz-Expires"] == ["1"]
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - signed_at).total_seconds()) < 5


def test_a_worker_without_a_lease_gets_a_404_and_no_url(file_store, photo_project, worker_clients):
    work = lease(worker_clients[0], photo_project)
    for params in ({}, {"size": 320}):
        response = worker_clients[1].get(work["image_url"], params)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
        assert "Location" not in response
    # and asking for a scaled copy made none
    assert not default_storage.exists(_scaled_name(photo_project, 320))


def _scaled_name(project, size: int) -> str:
    task = Task.objects.get(project=project)
    return f"scaled/{task.sha256[:2]}/{task.sha256}-{size}.webp"


def test_a_scaled_copy_is_made_once_and_kept_in_the_store(
    object_store, photo_project, worker_client, monkeypatch
):
    from annotations.services import media

    made = []
    real_scale = media.image_scale
    monkeypatch.setattr(media, "image_scale", lambda *a, **k: made.append(1) or real_scale(*a, **k))
    work = lease(worker_client, photo_project)
    first = fetch_image(worker_client, work["image_url"], size=400)
    second = fetch_image(worker_client, work["image_url"], size=479)  # the same size, 480
    assert first.status == second.status == 302
    assert first.content_type == "image/webp"
    assert Image.open(io.BytesIO(first.content)).size == (480, 360)
    assert second.content == first.content
    assert made == [1]
    assert object_store.keys().count(_scaled_name(photo_project, 480)) == 1


def test_stream_mode_sends_the_bytes_through_the_app(
    object_store, photo_project, worker_client, streamed
):
    work = lease(worker_client, photo_project)
    original = fetch_image(worker_client, work["image_url"])
    assert (original.status, original.content, original.content_type) == (200, PHOTO, "image/png")
    scaled = fetch_image(worker_client, work["image_url"], size=320)
    assert (scaled.status, scaled.content_type) == (200, "image/webp")
    assert Image.open(io.BytesIO(scaled.content)).size == (320, 240)


@pytest.mark.parametrize("delivery", ["redirect", "stream"])
def test_an_object_missing_from_the_store_is_a_404(
    file_store, photo_project, requester_client, settings, delivery
):
    settings.MEDIA_DELIVERY = delivery
    task = Task.objects.get(project=photo_project)
    default_storage.delete(task.image)  # deleted behind the app's back
    for params in ({}, {"size": 320}):
        response = requester_client.get(f"/api/v1/tasks/{task.pk}/image/", params)
        assert response.status_code == 404, response.content
        assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("delivery", ["redirect", "stream"])
def test_a_store_that_is_down_is_a_503_naming_the_store(
    object_store, photo_project, requester_client, settings, delivery
):
    settings.MEDIA_DELIVERY = delivery
    task = Task.objects.get(project=photo_project)
    with object_store.stopped():
        response = requester_client.get(f"/api/v1/tasks/{task.pk}/image/")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "store_unavailable"
    assert response["Retry-After"]


def test_pages_may_show_images_from_the_store_they_redirect_to(object_store, requester_client):
    policy = requester_client.get("/api/v1/me/")["Content-Security-Policy"]
    img_src = next(part for part in policy.split("; ") if part.startswith("img-src"))
    assert img_src == f"img-src 'self' data: blob: {object_store.server.endpoint}"

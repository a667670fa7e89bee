"""Task images scaled for the screen: ``?size=N`` gives a cached WebP no larger than asked (rounded
up to a fixed set of sizes), never larger than the original; bad sizes are a 400 naming ``size``."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image

from annotations.images import scaled_size_for
from annotations.models import Task
from annotations.services.intake import IncomingFile, tasks_create_from_files
from tests.helpers import lease, png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def big_task(make_project):
    project = make_project(images=0)
    data = png_bytes(1600, 1200, seed=77)
    tasks_create_from_files(
        project=project, files=[IncomingFile("images[0]", "big.png", lambda: data)]
    )
    return project


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_a_phone_sized_copy_is_webp_scaled_and_cached(worker_client, big_task):
    work = lease(worker_client, big_task)
    original = body(worker_client.get(work["image_url"]))
    response = worker_client.get(work["image_url"], {"size": 400})
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["X-Content-Type-Options"] == "nosniff"
    scaled = body(response)
    image = Image.open(io.BytesIO(scaled))
    assert image.size == (480, 360)  # 400 rounds up to 480; the aspect ratio is kept
    assert len(scaled) < len(original) / 4
    task = Task.objects.get(project=big_task)
    cached = Path(settings.MEDIA_ROOT, f"scaled/{task.sha256[:2]}/{task.sha256}-480.webp")
    assert cached.read_bytes() == scaled
    # a second request is served from the cache, byte for byte
    assert body(worker_client.get(work["image_url"], {"size": 479})) == scaled


def test_a_size_at_least_the_original_serves_the_original(worker_client, big_task):
    work = lease(worker_client, big_task)
    response = worker_client.get(work["image_url"], {"size": 4000})
    assert response["Content-Type"] == "image/png"
    assert body(response) == body(worker_client.get(work["image_url"]))


@pytest.mark.parametrize("size", ["abc", "-5", "0", "15", "10001", "1e3", "300.5", ""])
def test_a_bad_size_is_a_400_naming_the_field(worker_client, big_task, size):
    work = lease(worker_client, big_task)
    response = worker_client.get(work["image_url"], {"size": size})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "size"


def test_a_scaled_copy_needs_the_same_right_as_the_original(worker_clients, big_task):
    work = lease(worker_clients[0], big_task)
    response = worker_clients[1].get(work["image_url"], {"size": 320})
    assert response.status_code == 404
    assert not Path(settings.MEDIA_ROOT, "scaled").exists()


@pytest.mark.parametrize(
    ("asked", "served"), [(1, 160), (160, 160), (161, 320), (700, 800), (9000, 2048)]
)
def test_sizes_round_up_to_a_small_fixed_set(asked, served):
    assert scaled_size_for(asked) == served


def test_a_browser_saving_data_gets_a_smaller_copy_unless_it_asks_for_a_size(
    worker_client, big_task
):
    work = lease(worker_client, big_task)
    saving = worker_client.get(work["image_url"], HTTP_SAVE_DATA="on")
    assert saving["Content-Type"] == "image/webp"
    assert Image.open(io.BytesIO(body(saving))).size == (1024, 768)
    assert "Save-Data" in saving["Vary"]
    asked = worker_client.get(work["image_url"], {"size": 1600}, HTTP_SAVE_DATA="on")
    assert Image.open(io.BytesIO(body(asked))).size == (1600, 1200)
    assert Image.open(io.BytesIO(body(worker_client.get(work["image_url"])))).size == (1600, 1200)

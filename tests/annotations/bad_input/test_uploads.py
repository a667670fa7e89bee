"""Bad input at POST /api/v1/projects/{id}/tasks/: images and zip archives that are broken,
disguised, too large or too many, and bad form fields; then the upload throttle and the
project quota. Refused by the contract in ``contract.py``."""

from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from annotations.models import Task
from tests.annotations.bad_input.contract import assert_refused, stored
from tests.helpers import png_bytes, png_files, zip_bytes

pytestmark = pytest.mark.django_db


def image_file(content: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def png_header(width: int, height: int) -> bytes:
    """A 45-byte PNG: signature, IHDR claiming ``width`` × ``height``, IEND, no pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def pillow_bytes(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 30, 30)).save(out, fmt)
    return out.getvalue()


def upload(client, project, **fields):
    return client.post(f"/api/v1/projects/{project.pk}/tasks/", fields, format="multipart")


TRUNCATED_PNG = png_bytes(width=200, height=200, seed=3)[:-40]
TRUNCATED_JPEG = png_bytes(width=200, height=200, seed=4, fmt="JPEG")[:300]
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script></svg>"
)


@pytest.mark.parametrize(
    ("content", "code"),
    [
        pytest.param(b"", "invalid_image", id="zero-byte"),
        pytest.param(TRUNCATED_PNG, "invalid_image", id="truncated-png"),
        pytest.param(TRUNCATED_JPEG, "invalid_image", id="truncated-jpeg"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "invalid_image", id="png-garbage"),
        pytest.param(b"hello, I am a text file\n" * 10, "unsupported_format", id="text-as-jpg"),
        pytest.param(bytes(range(256)) * 8, "unsupported_format", id="random-bytes"),
        pytest.param(SVG, "unsupported_format", id="svg-as-jpg"),
        pytest.param(pillow_bytes("GIF"), "unsupported_format", id="gif-as-jpg"),
        pytest.param(pillow_bytes("TIFF"), "unsupported_format", id="tiff-as-jpg"),
        pytest.param(pillow_bytes("BMP"), "unsupported_format", id="bmp-as-jpg"),
        pytest.param(
            b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n",
            "unsupported_format",
            id="pdf-as-jpg",
        ),
        pytest.param(png_header(60_000, 60_000), "image_too_large", id="png-60000x60000"),
        pytest.param(png_header(10_000, 10_000), "image_too_large", id="png-10000x10000"),
    ],
)
def test_an_upload_of_only_bad_images_is_refused_naming_the_file(
    requester_client, project, media_files, content, code
):
    before = stored(media_files)
    response = upload(requester_client, project, images=[image_file(content)])
    error = assert_refused(response, 400, "images[0]", code)
    assert error["details"][0]["file"] == "photo.jpg"
    assert stored(media_files) == before


@pytest.mark.parametrize(("fmt", "extension"), [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp")])
def test_a_good_image_of_each_allowed_format_is_accepted_whatever_its_name(
    requester_client, project, media_files, fmt, extension
):
    # given a real image sent under a misleading name and type
    content = png_bytes(width=40, height=30, seed=500, fmt=fmt)
    # when
    response = upload(
        requester_client, project, images=[image_file(content, "x.html", "text/html")]
    )
    # then it is stored under the extension of the format that was detected
    assert response.status_code == 201, response.content
    task = Task.objects.get(pk=response.json()["tasks"][0])
    assert (task.image_format, task.width, task.height) == (fmt, 40, 30)
    assert task.image.endswith(f".{extension}")
    assert task.image in media_files()


def test_a_header_claiming_sixty_thousand_squared_pixels_is_refused_before_decoding(
    requester_client, project, media_files
):
    # given a 45-byte PNG whose header claims 3.6 billion pixels
    header = png_header(60_000, 60_000)
    assert len(header) == 45
    before = stored(media_files)
    # when it is uploaded
    tracemalloc.start()
    response = upload(requester_client, project, images=[image_file(header, "bomb.png")])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # then it is refused from the header, with both numbers, without allocating the pixels
    error = assert_refused(response, 400, "images[0]", "image_too_large")
    assert "3,600,000,000" in error["message"]
    assert "40,000,000" in error["message"]
    assert peak < 10 * 1024 * 1024
    assert stored(media_files) == before


def test_a_file_over_the_byte_limit_is_refused(requester_client, project, media_files, settings):
    settings.SEBENZAI = {**settings.SEBENZAI, "IMAGE_MAX_BYTES": 1000}
    big = png_bytes(width=300, height=300, seed=8, fmt="BMP")  # large on the wire
    before = stored(media_files)
    response = upload(requester_client, project, images=[image_file(big, "big.jpg")])
    assert_refused(response, 400, "images[0]", "file_too_large")
    assert stored(media_files) == before


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({}, "images", id="nothing"),
        pytest.param({"images": "not a file"}, "images[0]", id="text-instead-of-file"),
        pytest.param(
            {
                "images": [image_file(png_bytes(seed=50), "a.png")],
                "archive": image_file(zip_bytes({"b.png": png_bytes(seed=51)}), "b.zip"),
            },
            "images",
            id="both-images-and-archive",
        ),
        pytest.param(
            {"images": [image_file(png_bytes(seed=52), "a.png")], "is_gold": "true"},
            "is_gold",
            id="unknown-field",
        ),
        pytest.param({"archive": "not a file"}, "archive", id="archive-as-text"),
    ],
)
def test_an_upload_with_bad_fields_is_refused_naming_them(
    requester_client, project, media_files, fields, field
):
    before = stored(media_files)
    response = upload(requester_client, project, **fields)
    assert_refused(response, 400, field)
    assert stored(media_files) == before


@pytest.mark.parametrize(
    "entry",
    [
        "../../x.png",
        "/abs/x.png",
        "..\\..\\x.png",
        "photos/../../x.png",
        "C:/x.png",
    ],
)
def test_an_archive_with_an_unsafe_entry_name_is_refused_whole(
    requester_client, project, media_files, entry
):
    # given a zip whose good image comes before the unsafe entry
    archive = zip_bytes({"ok.png": png_bytes(seed=60), entry: png_bytes(seed=61)})
    before = stored(media_files)
    # when
    response = upload(requester_client, project, archive=image_file(archive, "set.zip"))
    # then nothing at all is taken from it
    assert_refused(response, 400, "archive", "unsafe_archive_entry")
    assert stored(media_files) == before


@pytest.mark.parametrize(
    ("archive", "code"),
    [
        pytest.param(b"PK\x03\x04 this is not really a zip", "invalid_archive", id="fake-zip"),
        pytest.param(b"just text", "invalid_archive", id="text"),
        pytest.param(b"", "invalid_archive", id="zero-byte"),
        pytest.param(png_bytes(seed=62), "invalid_archive", id="an-image"),
        pytest.param(
            zip_bytes({"zeros.png": b"\x00" * 2_000_000}, zipfile.ZIP_DEFLATED),
            "archive_too_large",
            id="compression-ratio",
        ),
    ],
)
def test_an_unreadable_or_suspicious_archive_is_refused(
    requester_client, project, media_files, archive, code
):
    before = stored(media_files)
    response = upload(requester_client, project, archive=image_file(archive, "set.zip"))
    assert_refused(response, 400, "archive", code)
    assert stored(media_files) == before


def test_an_archive_with_too_many_entries_is_refused(
    requester_client, project, media_files, settings
):
    settings.SEBENZAI = {**settings.SEBENZAI, "ARCHIVE_MAX_ENTRIES": 3}
    archive = zip_bytes({f"{i}.png": png_bytes(seed=70 + i) for i in range(4)})
    before = stored(media_files)
    response = upload(requester_client, project, archive=image_file(archive, "set.zip"))
    assert_refused(response, 400, "archive", "archive_too_large")
    assert stored(media_files) == before


def test_an_archive_of_only_bad_entries_is_refused_naming_the_entry(
    requester_client, project, media_files
):
    archive = zip_bytes({"notes/readme.txt": b"hello"})
    before = stored(media_files)
    response = upload(requester_client, project, archive=image_file(archive, "set.zip"))
    assert_refused(response, 400, "archive:notes/readme.txt", "unsupported_format")
    assert stored(media_files) == before


def test_more_than_fifty_files_in_one_request_get_a_json_400(
    requester_client, project, media_files
):
    files = [image_file(png_bytes(seed=100 + i), f"{i}.png") for i in range(51)]
    before = stored(media_files)
    response = upload(requester_client, project, images=files)
    assert_refused(response, 400, "images", "too_many_files")
    assert stored(media_files) == before


def test_more_than_a_thousand_form_fields_get_a_json_400(requester_client, project, media_files):
    before = stored(media_files)
    response = upload(requester_client, project, **{f"f{i}": "x" for i in range(1001)})
    assert_refused(response, 400, "body", "too_many_fields")
    assert stored(media_files) == before


def test_an_upload_sent_as_json_is_refused(requester_client, project, media_files):
    before = stored(media_files)
    response = requester_client.post(
        f"/api/v1/projects/{project.pk}/tasks/", {"images": ["a.png"]}, format="json"
    )
    assert_refused(response, 415, "body")
    assert stored(media_files) == before


def test_a_finished_project_takes_no_new_images(requester_client, project, media_files):
    project.status = "done"
    project.save(update_fields=["status"])
    before = stored(media_files)
    response = upload(requester_client, project, images=[image_file(png_bytes(seed=80))])
    assert_refused(response, 409, "project", "project_done")
    assert stored(media_files) == before


# --- how often, and how many ----------------------------------------------------------------


def test_uploading_too_often_is_throttled_per_requester(
    requester_client, make_project, monkeypatch
):
    from django.core.cache import cache

    from sebenzai.common.throttles import UploadThrottle

    cache.clear()
    monkeypatch.setattr(UploadThrottle, "rate", "2/hour", raising=False)
    project = make_project(images=0)

    def upload(client, seed):
        return client.post(
            f"/api/v1/projects/{project.pk}/tasks/",
            {"images": png_files("u{}.png", [seed])},
            format="multipart",
        )

    assert [upload(requester_client, s).status_code for s in (1, 2, 3)] == [201, 201, 429]
    assert Task.objects.filter(project=project).count() == 2  # nothing from the refused one
    assert upload(requester_client, 4).json()["error"]["code"] == "throttled"
    assert requester_client.get(f"/api/v1/projects/{project.pk}/").status_code == 200


def test_images_past_the_project_quota_are_refused_and_nothing_else_is_lost(
    requester_client, make_project, settings
):
    settings.SEBENZAI = {**settings.SEBENZAI, "PROJECT_MAX_TASKS": 3}
    project = make_project(images=2)
    files = png_files("q{}.png", (101, 102, 103))
    response = requester_client.post(
        f"/api/v1/projects/{project.pk}/tasks/", {"images": files}, format="multipart"
    )
    body = response.json()
    assert len(body["tasks"]) == 1
    assert [e["code"] for e in body["errors"]] == ["quota_exceeded", "quota_exceeded"]
    assert body["errors"][0]["file"] == "q102.png"
    assert Task.objects.filter(project=project).count() == 3

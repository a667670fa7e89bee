"""Bad input at every endpoint: each is a JSON 4xx whose ``error.field`` names the field, and none
of them changes a stored row or leaves a file in MEDIA_ROOT. Never a 500, never HTML."""

from __future__ import annotations

import io
import json
import struct
import tracemalloc
import zipfile
import zlib
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from rest_framework.authtoken.models import Token

from accounts.models import WorkerProfile
from annotations.models import Annotation, Assignment, Project, Task
from tests.helpers import PASSWORD, db_snapshot, lease, png_bytes, png_files, submit

pytestmark = pytest.mark.django_db

MISSING = object()  # in a table row: "leave this key out of the body"
NOWHERE = "00000000-0000-4000-8000-000000000000"


# --- helpers ---------------------------------------------------------------------------------


def assert_refused(response, status: int, field: str | None, code: str | None = None) -> dict:
    """A JSON error envelope with the given status and field; returns ``error``."""
    text = response.content.decode()
    assert response.status_code == status, text
    assert response["Content-Type"].startswith("application/json"), text[:200]
    assert "Traceback" not in text
    assert "<html" not in text.lower()
    error = response.json()["error"]
    assert {"code", "message", "field"} <= set(error)
    assert error["message"], error
    assert error["field"] == field, error
    if code is not None:
        assert error["code"] == code, error
    return error


def stored(media_files) -> tuple:
    """Everything a refused request must leave as it was: rows, their key fields, and files."""
    users = get_user_model().objects
    return (
        db_snapshot(),
        sorted(Project.objects.values_list(), key=str),
        sorted(
            Task.objects.values_list(
                "id", "state", "is_gold", "gold_answer", "slots_taken", "answers_count"
            ),
            key=str,
        ),
        sorted(Assignment.objects.values_list("id", "state", "finished_at"), key=str),
        sorted(Annotation.objects.values_list("id", "payload"), key=str),
        sorted(users.values_list("username", "is_staff", "is_active")),
        sorted(WorkerProfile.objects.values_list("user__username", "role")),
        Token.objects.count(),
        media_files(),
    )


def with_changes(base: dict, changes: dict) -> dict:
    body = {**base, **changes}
    return {key: value for key, value in body.items() if value is not MISSING}


def post_raw(client, url: str, text: str):
    """Send bytes the JSON encoder would refuse to write (NaN, 1e309, broken syntax)."""
    return client.post(url, data=text, content_type="application/json")


def image_file(content: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def zip_bytes(entries: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        for name, content in entries.items():
            zf.writestr(zipfile.ZipInfo(name), content, compress_type=compression)
    return out.getvalue()


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


def task_of(project) -> Task:
    return Task.objects.filter(project=project).order_by("created_at", "id").first()


# --- POST /api/v1/projects/ -----------------------------------------------------------------

PROJECT = {"name": "Cars", "kind": "classification", "labels": ["car", "taxi"]}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": MISSING}, "name"),
        ({"kind": MISSING}, "kind"),
        ({"name": 123}, "name"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": ["Cars"]}, "name"),
        ({"kind": "video"}, "kind"),
        ({"kind": 1}, "kind"),
        ({"labels": "car"}, "labels"),
        ({"labels": [1, 2]}, "labels[0]"),
        ({"labels": ["car", {"name": 7}]}, "labels[1]"),
        ({"labels": [{"name": "car", "colour": "#ff0000"}, "taxi"]}, "labels[0]"),
        ({"labels": [{"name": "car", "color": "red"}, "taxi"]}, "labels[0]"),
        ({"labels": ["car", ""]}, "labels[1]"),
        ({"labels": ["car", "car"]}, "labels"),
        ({"labels": ["car"]}, "labels"),
        ({"labels": [f"l{i}" for i in range(101)]}, "labels"),
        ({"instructions": ["read", "me"]}, "instructions"),
        ({"instructions": "x" * 20_001}, "instructions"),
        ({"redundancy_min": "3"}, "redundancy_min"),
        ({"redundancy_min": True}, "redundancy_min"),
        ({"redundancy_min": 2.5}, "redundancy_min"),
        ({"redundancy_min": 0}, "redundancy_min"),
        ({"redundancy_max": 51}, "redundancy_max"),
        ({"redundancy_min": 4, "redundancy_max": 3}, "redundancy_max"),
        ({"acceptance_threshold": True}, "acceptance_threshold"),
        ({"acceptance_threshold": "0.9"}, "acceptance_threshold"),
        ({"acceptance_threshold": "NaN"}, "acceptance_threshold"),
        ({"acceptance_threshold": "Infinity"}, "acceptance_threshold"),
        ({"acceptance_threshold": 0.2}, "acceptance_threshold"),
        ({"iou_threshold": False}, "iou_threshold"),
        ({"gold_ratio": 0.9}, "gold_ratio"),
        ({"gold_ratio": [0.1]}, "gold_ratio"),
        ({"points_per_task": -1}, "points_per_task"),
        ({"points_per_task": {"n": 1}}, "points_per_task"),
        ({"status": "done"}, "status"),
        ({"status": "paused"}, "status"),
        ({"status": "bogus"}, "status"),
        ({"is_gold": True}, "is_gold"),
        ({"owner": 1}, "owner"),
        ({"id": NOWHERE}, "id"),
        ({"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
    ],
)
def test_creating_a_project_with_a_bad_field_is_refused_naming_it(
    requester_client, media_files, changes, field
):
    # given
    before = stored(media_files)
    # when
    response = requester_client.post(
        "/api/v1/projects/", with_changes(PROJECT, changes), format="json"
    )
    # then
    assert_refused(response, 400, field)
    assert stored(media_files) == before


@pytest.mark.parametrize(
    ("text", "status", "field"),
    [
        ('{"name": "Cars", "kind": ', 400, "body"),
        ("[1, 2]", 400, "body"),
        ('"Cars"', 400, "body"),
        ("null", 400, "body"),
        (
            '{"name": "Cars", "kind": "classification", "labels": ["a", "b"], '
            '"acceptance_threshold": NaN}',
            400,
            "body",
        ),
        (
            '{"name": "Cars", "kind": "classification", "labels": ["a", "b"], '
            '"acceptance_threshold": 1e309}',
            400,
            "acceptance_threshold",
        ),
    ],
)
def test_a_malformed_json_body_is_refused_as_json(
    requester_client, media_files, text, status, field
):
    before = stored(media_files)
    response = post_raw(requester_client, "/api/v1/projects/", text)
    assert_refused(response, status, field)
    assert stored(media_files) == before


def test_a_json_body_over_one_megabyte_gets_a_json_413(requester_client, media_files):
    before = stored(media_files)
    body = json.dumps({**PROJECT, "instructions": "x" * 1_100_000})
    response = post_raw(requester_client, "/api/v1/projects/", body)
    assert_refused(response, 413, "body", "request_too_large")
    assert stored(media_files) == before


def test_a_form_encoded_body_is_refused_as_an_unsupported_media_type(requester_client):
    response = requester_client.post("/api/v1/projects/", PROJECT)  # multipart, not JSON
    assert_refused(response, 415, "body")


def test_an_error_is_json_even_when_the_client_asks_for_html(requester_client):
    response = requester_client.post(
        "/api/v1/projects/", {"name": 5}, format="json", HTTP_ACCEPT="text/html"
    )
    assert_refused(response, 400, "name")


DEEP = "[" * 50_000 + "]" * 50_000  # well under 1 MB, far deeper than Python's recursion limit


@pytest.mark.parametrize(
    ("method", "url", "who"),
    [
        ("post", "/api/v1/projects/", "requester"),
        ("patch", "/api/v1/projects/{project}/", "requester"),
        ("post", "/api/v1/projects/{project}/gold/", "requester"),
        ("post", "/api/v1/work/next/", "worker"),
        ("post", "/api/v1/work/assignments/{assignment}/submit/", "worker"),
        ("post", "/api/v1/work/assignments/{assignment}/skip/", "worker"),
        ("post", "/api/v1/auth/register/", "anonymous"),
        ("post", "/api/v1/auth/token/", "anonymous"),
    ],
)
def test_json_nested_too_deeply_is_a_400_at_every_json_endpoint(
    requester_client, worker_client, client, project, media_files, method, url, who
):
    # given a body that would exhaust the json module's recursion
    work = lease(worker_client, project)
    caller = {"requester": requester_client, "worker": worker_client, "anonymous": client}[who]
    url = url.format(project=project.pk, assignment=work["assignment"])
    before = stored(media_files)
    # when
    response = getattr(caller, method)(url, data=DEEP, content_type="application/json")
    # then
    assert_refused(response, 400, "body", "parse_error")
    assert stored(media_files) == before


# --- PATCH /api/v1/projects/{id}/ -----------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "bbox"}, "kind"),
        ({"labels": ["car", "taxi", "bus"]}, "labels"),
        ({"status": "draft"}, "status"),
        ({"status": "archived"}, "status"),
        ({"status": None}, "status"),
        ({"redundancy_min": 9}, "redundancy_min"),
        ({"redundancy_max": 2}, "redundancy_max"),
        ({"acceptance_threshold": False}, "acceptance_threshold"),
        ({"gold_ratio": "NaN"}, "gold_ratio"),
        ({"name": None}, "name"),
        ({"name": 42}, "name"),
        ({"owner": 2}, "owner"),
        ({"is_gold": True}, "is_gold"),
        ({"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
    ],
)
def test_patching_an_active_project_with_a_bad_field_is_refused_naming_it(
    requester_client, project, media_files, changes, field
):
    before = stored(media_files)
    response = requester_client.patch(f"/api/v1/projects/{project.pk}/", changes, format="json")
    assert_refused(response, 400, field)
    assert stored(media_files) == before


def test_a_done_project_cannot_be_reopened(requester_client, project, media_files):
    project.status = "done"
    project.save(update_fields=["status"])
    before = stored(media_files)
    response = requester_client.patch(
        f"/api/v1/projects/{project.pk}/", {"status": "active"}, format="json"
    )
    assert_refused(response, 400, "status", "invalid_transition")
    assert stored(media_files) == before


def test_changing_a_draft_projects_kind_still_needs_enough_labels(
    requester_client, make_project, media_files
):
    # given a draft box project with one label
    draft = make_project("bbox", images=0, active=False, labels=["car"])
    before = stored(media_files)
    # when it is turned into a classification project, which needs two labels
    response = requester_client.patch(
        f"/api/v1/projects/{draft.pk}/", {"kind": "classification"}, format="json"
    )
    # then
    assert_refused(response, 400, "labels", "too_few_labels")
    assert stored(media_files) == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"kind": "bbox"}, "kind"), ({"labels": ["car", "truck"]}, "labels")],
)
def test_a_draft_project_with_gold_answers_keeps_the_kind_and_labels_they_were_written_for(
    requester_client, make_project, media_files, changes, field
):
    # given a draft project whose gold answer says "taxi"
    draft = make_project(images=1, active=False)
    gold = requester_client.post(
        f"/api/v1/projects/{draft.pk}/gold/",
        {"gold": [{"task": str(task_of(draft).pk), "answer": {"label": "taxi"}}]},
        format="json",
    )
    assert gold.status_code == 200, gold.content
    before = stored(media_files)
    # when the kind changes, or "taxi" is dropped from the labels
    response = requester_client.patch(f"/api/v1/projects/{draft.pk}/", changes, format="json")
    # then the gold answer would no longer fit: refused
    assert_refused(response, 400, field)
    assert stored(media_files) == before


def test_put_on_a_project_is_not_allowed(requester_client, project, media_files):
    before = stored(media_files)
    response = requester_client.put(
        f"/api/v1/projects/{project.pk}/", {**PROJECT, "name": "New"}, format="json"
    )
    assert_refused(response, 405, None, "method_not_allowed")
    assert stored(media_files) == before


# --- POST /api/v1/projects/{id}/tasks/ ------------------------------------------------------

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


# --- POST /api/v1/projects/{id}/gold/ -------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "gold"),
        ({"gold": None}, "gold"),
        ({"gold": {"task": "x"}}, "gold"),
        ({"gold": []}, "gold"),
        ({"gold": ["abc"]}, "gold[0]"),
        ({"gold": [{"task": "TASK"}]}, "gold[0].answer"),
        ({"gold": [{"answer": {"label": "taxi"}}]}, "gold[0].task"),
        ({"gold": [{"task": "not-a-uuid", "answer": {"label": "taxi"}}]}, "gold[0].task"),
        ({"gold": [{"task": 5, "answer": {"label": "taxi"}}]}, "gold[0].task"),
        ({"gold": [{"task": NOWHERE, "answer": {"label": "taxi"}}]}, "gold[0].task"),
        (
            {"gold": [{"task": "TASK", "answer": {"label": "taxi"}, "is_gold": False}]},
            "gold[0].is_gold",
        ),
        ({"gold": [{"task": "TASK", "answer": {"label": "bus"}}]}, "gold[0].answer.label"),
        ({"gold": [{"task": "TASK", "answer": {"label": 3}}]}, "gold[0].answer.label"),
        ({"gold": [{"task": "TASK", "answer": "taxi"}]}, "gold[0].answer"),
        ({"gold": [{"task": "TASK", "answer": {"polygons": []}}]}, "gold[0].answer.polygons"),
        ({"gold": [{"task": "TASK", "answer": {"label": "taxi"}}], "all": True}, "all"),
        (
            {
                "gold": [
                    {"task": "TASK", "answer": {"label": "taxi"}},
                    {"task": "TASK2", "answer": {"label": "bus"}},
                ]
            },
            "gold[1].answer.label",
        ),
    ],
)
def test_setting_gold_with_bad_items_is_refused_and_marks_nothing(
    requester_client, project, media_files, body, field
):
    # given placeholders for the project's real task ids
    first, second = Task.objects.filter(project=project).order_by("created_at", "id")[:2]
    text = json.dumps(body).replace('"TASK2"', f'"{second.pk}"').replace('"TASK"', f'"{first.pk}"')
    before = stored(media_files)
    # when
    response = post_raw(requester_client, f"/api/v1/projects/{project.pk}/gold/", text)
    # then all or nothing: not even the good first item became gold
    assert_refused(response, 400, field)
    assert stored(media_files) == before


def test_a_task_of_another_project_cannot_be_made_gold_here(
    requester_client, project, make_project, media_files
):
    elsewhere = make_project(images=1, name="Elsewhere")
    before = stored(media_files)
    response = requester_client.post(
        f"/api/v1/projects/{project.pk}/gold/",
        {"gold": [{"task": str(task_of(elsewhere).pk), "answer": {"label": "taxi"}}]},
        format="json",
    )
    assert_refused(response, 400, "gold[0].task", "unknown_task")
    assert stored(media_files) == before


def test_a_task_already_leased_cannot_become_gold(
    requester_client, worker_client, make_project, media_files
):
    project = make_project(images=1)
    work = lease(worker_client, project)
    before = stored(media_files)
    response = requester_client.post(
        f"/api/v1/projects/{project.pk}/gold/",
        {"gold": [{"task": work["task"], "answer": {"label": "taxi"}}]},
        format="json",
    )
    assert_refused(response, 400, "gold[0].task", "task_in_progress")
    assert stored(media_files) == before


def test_a_gold_box_outside_the_image_is_refused(requester_client, make_project, media_files):
    project = make_project("bbox", images=1)
    before = stored(media_files)
    response = requester_client.post(
        f"/api/v1/projects/{project.pk}/gold/",
        {
            "gold": [
                {
                    "task": str(task_of(project).pk),
                    "answer": {"boxes": [{"label": "car", "bbox": [60, 10, 40, 10]}]},
                }
            ]
        },
        format="json",
    )
    assert_refused(response, 400, "gold[0].answer.boxes[0].bbox[2]", "out_of_image")
    assert stored(media_files) == before


# --- GET /api/v1/projects/{id}/results/ -----------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ("state=bogus", "state", "invalid_choice"),
        ("state=", "state", "invalid_choice"),
        ("state=OPEN", "state", "invalid_choice"),
        ("owner__password__startswith=pbkdf2", "owner__password__startswith", "unknown_filter"),
        ("ordering=-confidence", "ordering", "unknown_filter"),
        ("search=taxi", "search", "unknown_filter"),
        ("is_gold=true", "is_gold", "unknown_filter"),
        ("cursor=not-a-cursor", "cursor", "invalid_cursor"),
        ("format=xml", "format", None),
    ],
)
def test_results_with_a_bad_query_parameter_are_refused_naming_it(
    requester_client, project, query, field, code
):
    response = requester_client.get(f"/api/v1/projects/{project.pk}/results/?{query}")
    assert_refused(response, 400, field, code)


# --- POST /api/v1/work/next/ ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"project": "abc"}, 400, "project"),
        ({"project": 5}, 400, "project"),
        ({"project": True}, 400, "project"),
        ({"project": ["x"]}, 400, "project"),
        ({"project": NOWHERE}, 404, "project"),
        ({"is_gold": True}, 400, "is_gold"),
        ({"worker": 1}, 400, "worker"),
        ([], 400, "body"),
        ("next", 400, "body"),
    ],
)
def test_asking_for_work_with_a_bad_body_is_refused(
    worker_client, project, media_files, body, status, field
):
    before = stored(media_files)
    response = post_raw(worker_client, "/api/v1/work/next/", json.dumps(body))
    assert_refused(response, status, field)
    assert stored(media_files) == before


def test_asking_for_work_on_a_draft_project_looks_like_no_such_project(
    worker_client, make_project, media_files
):
    draft = make_project(images=1, active=False)
    before = stored(media_files)
    response = worker_client.post("/api/v1/work/next/", {"project": str(draft.pk)}, format="json")
    nowhere = worker_client.post("/api/v1/work/next/", {"project": NOWHERE}, format="json")
    assert_refused(response, 404, "project", "not_found")
    assert response.content == nowhere.content
    assert stored(media_files) == before


def test_asking_for_work_with_malformed_json_is_refused(worker_client, project, media_files):
    before = stored(media_files)
    response = post_raw(worker_client, "/api/v1/work/next/", '{"project": ')
    assert_refused(response, 400, "body", "parse_error")
    assert stored(media_files) == before


# --- POST /api/v1/work/assignments/{id}/submit/ ---------------------------------------------

BOX = {"label": "car", "bbox": [10, 10, 20, 15]}
SQUARE = {"label": "car", "points": [[10, 10], [30, 10], [30, 30], [10, 30]]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "payload"),
        ({"duration_ms": 4000}, "payload"),
        ({"payload": None}, "payload"),
        ({"payload": "taxi"}, "payload"),
        ({"payload": ["taxi"]}, "payload"),
        ({"payload": {}}, "payload.label"),
        ({"payload": {"label": "bus"}}, "payload.label"),
        ({"payload": {"label": "Taxi"}}, "payload.label"),
        ({"payload": {"label": 1}}, "payload.label"),
        ({"payload": {"label": None}}, "payload.label"),
        ({"payload": {"label": ["taxi"]}}, "payload.label"),
        ({"payload": {"label": "taxi", "confidence": 1}}, "payload.confidence"),
        ({"payload": {"polygons": [SQUARE]}}, "payload.polygons"),
        ({"payload": {"boxes": [BOX]}}, "payload.boxes"),
        ({"payload": {"verdict": "safe"}}, "payload.verdict"),
        ({"payload": {"label": "taxi"}, "is_gold": True}, "is_gold"),
        ({"payload": {"label": "taxi"}, "points": 1000}, "points"),
        ({"payload": {"label": "taxi"}, "worker": 1}, "worker"),
        ({"payload": {"label": "taxi"}, "status": "accepted"}, "status"),
        ({"payload": {"label": "taxi"}, "skill": 1.0}, "skill"),
        ({"payload": {"label": "taxi"}, "duration_ms": "fast"}, "duration_ms"),
        ({"payload": {"label": "taxi"}, "duration_ms": "4000"}, "duration_ms"),
        ({"payload": {"label": "taxi"}, "duration_ms": -1}, "duration_ms"),
        ({"payload": {"label": "taxi"}, "duration_ms": True}, "duration_ms"),
        ({"payload": {"label": "taxi"}, "duration_ms": 1.5}, "duration_ms"),
        ({"payload": {"label": "taxi"}, "duration_ms": 10**12}, "duration_ms"),
        ([{"label": "taxi"}], "body"),
    ],
)
def test_a_bad_classification_submission_is_refused_and_the_lease_stays_open(
    worker_client, project, media_files, body, field
):
    # given a live lease
    work = lease(worker_client, project)
    before = stored(media_files)
    # when
    response = post_raw(
        worker_client, f"/api/v1/work/assignments/{work['assignment']}/submit/", json.dumps(body)
    )
    # then
    assert_refused(response, 400, field)
    assert stored(media_files) == before
    assert Assignment.objects.get(pk=work["assignment"]).state == "leased"


def boxes(*items) -> dict:
    return {"boxes": list(items)}


def box(bbox, label="car") -> dict:
    return {"label": label, "bbox": bbox}


@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        (boxes(box([0, 0, 0, 10])), "payload.boxes[0].bbox", "invalid_geometry"),
        (boxes(box([20, 20, -10, -10])), "payload.boxes[0].bbox", "invalid_geometry"),
        (boxes(box([-5, 10, 20, 10])), "payload.boxes[0].bbox[0]", "out_of_image"),
        (boxes(box([10, 10, 100, 10])), "payload.boxes[0].bbox[2]", "out_of_image"),
        (boxes(box([10, 60, 10, 10])), "payload.boxes[0].bbox[1]", "out_of_image"),
        (boxes(box([64.2, 10, 1, 10])), "payload.boxes[0].bbox", "invalid_geometry"),
        (boxes(box([1e308, 10, 1e308, 10])), "payload.boxes[0].bbox[0]", "out_of_image"),
        (boxes(box([True, 10, 20, 10])), "payload.boxes[0].bbox[0]", "invalid_number"),
        (boxes(box([10, False, 20, 10])), "payload.boxes[0].bbox[1]", "invalid_number"),
        (boxes(box(["10", 10, 20, 10])), "payload.boxes[0].bbox[0]", "invalid_number"),
        (boxes(box(["nan", 10, 20, 10])), "payload.boxes[0].bbox[0]", "invalid_number"),
        (boxes(box([[10], 10, 20, 10])), "payload.boxes[0].bbox[0]", "invalid_number"),
        (boxes(box([None, 10, 20, 10])), "payload.boxes[0].bbox[0]", "invalid_number"),
        (boxes(box([10, 10, 20])), "payload.boxes[0].bbox", "invalid_box"),
        (boxes(box([10, 10, 20, 10, 5])), "payload.boxes[0].bbox", "invalid_box"),
        (boxes(box({"x": 1})), "payload.boxes[0].bbox", "invalid_type"),
        (boxes(box([10, 10, 20, 10], label="bus")), "payload.boxes[0].label", "unknown_label"),
        (boxes({"bbox": [10, 10, 20, 10]}), "payload.boxes[0].label", "required"),
        (boxes({**BOX, "score": 0.9}), "payload.boxes[0].score", "unknown_field"),
        (boxes("car"), "payload.boxes[0]", "invalid_type"),
        ({"boxes": BOX}, "payload.boxes", "invalid_type"),
        (boxes(*[BOX] * 501), "payload.boxes", "too_many_objects"),
        ({"label": "car"}, "payload.label", "unknown_field"),
        (boxes(BOX, box([1, 1, 0, 0])), "payload.boxes[1].bbox", "invalid_geometry"),
    ],
)
def test_a_bad_box_submission_is_refused_naming_the_coordinate(
    worker_client, make_project, media_files, payload, field, code
):
    project = make_project("bbox", images=1)  # 64 × 48 pixels
    work = lease(worker_client, project)
    before = stored(media_files)
    response = submit(worker_client, work["assignment"], payload)
    assert_refused(response, 400, field, code)
    assert stored(media_files) == before


def polygons(*items) -> dict:
    return {"polygons": list(items)}


def polygon(points, label="car") -> dict:
    return {"label": label, "points": points}


@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        (
            polygons(polygon([[10, 10], [30, 30], [30, 10], [10, 30]])),
            "payload.polygons[0].points",
            "invalid_geometry",
        ),
        (polygons(polygon([[10, 10], [30, 30]])), "payload.polygons[0].points", "invalid_geometry"),
        (
            polygons(polygon([[10, 10], [20, 20], [10, 10]])),
            "payload.polygons[0].points",
            "invalid_geometry",
        ),
        (
            polygons(polygon([[10, 10], [20, 20], [30, 30]])),
            "payload.polygons[0].points",
            "invalid_geometry",
        ),
        (
            polygons(polygon([[10, 10], [30, 10], [30, 30], [True, 30]])),
            "payload.polygons[0].points[3][0]",
            "invalid_number",
        ),
        (
            polygons(polygon([[10, 10], [30, 10], [30, "30"]])),
            "payload.polygons[0].points[2][1]",
            "invalid_number",
        ),
        (
            polygons(polygon([[10, 10], [30, 10], [30, 30, 1]])),
            "payload.polygons[0].points[2]",
            "invalid_point",
        ),
        (
            polygons(polygon([[10, 10], [30, 10], 30])),
            "payload.polygons[0].points[2]",
            "invalid_point",
        ),
        (
            polygons(polygon([[10, 10], [90, 10], [30, 30]])),
            "payload.polygons[0].points[1][0]",
            "out_of_image",
        ),
        (
            polygons(polygon([[float(i % 60), float(i % 40)] for i in range(1001)])),
            "payload.polygons[0].points",
            "too_many_points",
        ),
        (polygons(*[SQUARE] * 501), "payload.polygons", "too_many_objects"),
        (
            polygons(polygon(SQUARE["points"], label="road")),
            "payload.polygons[0].label",
            "unknown_label",
        ),
        (polygons({"label": "car"}), "payload.polygons[0].points", "required"),
        (
            polygons({"label": "car", "points": "10,10 30,10 30,30"}),
            "payload.polygons[0].points",
            "invalid_type",
        ),
        ({"label": "car"}, "payload.label", "unknown_field"),
        (boxes(BOX), "payload.boxes", "unknown_field"),
    ],
)
def test_a_bad_polygon_submission_is_refused_naming_the_point(
    worker_client, make_project, media_files, payload, field, code
):
    project = make_project("polygon", images=1)
    work = lease(worker_client, project)
    before = stored(media_files)
    response = submit(worker_client, work["assignment"], payload)
    assert_refused(response, 400, field, code)
    assert stored(media_files) == before


@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        ({"verdict": "maybe"}, "payload.verdict", "invalid_choice"),
        ({"verdict": True}, "payload.verdict", "invalid_choice"),
        ({"verdict": ["unsafe"]}, "payload.verdict", "invalid_choice"),
        ({"categories": ["nudity"]}, "payload.verdict", "required"),
        ({"verdict": "safe", "categories": ["nudity"]}, "payload.categories", "inconsistent"),
        ({"verdict": "unsafe", "categories": ["gore"]}, "payload.categories[0]", "unknown_label"),
        ({"verdict": "unsafe", "categories": "nudity"}, "payload.categories", "invalid_type"),
        (
            {"verdict": "unsafe", "categories": ["nudity", "nudity"]},
            "payload.categories",
            "duplicate",
        ),
        (
            {"verdict": "unsafe", "categories": ["nudity", "nudity", "nudity"]},
            "payload.categories",
            "too_many_objects",
        ),
        ({"label": "safe"}, "payload.label", "unknown_field"),
    ],
)
def test_a_bad_moderation_submission_is_refused_naming_the_field(
    worker_client, make_project, media_files, payload, field, code
):
    project = make_project("moderation", images=1)
    work = lease(worker_client, project)
    before = stored(media_files)
    response = submit(worker_client, work["assignment"], payload)
    assert_refused(response, 400, field, code)
    assert stored(media_files) == before


@pytest.mark.parametrize(
    ("text", "status", "field"),
    [
        ('{"payload": {"boxes": [{"label": "car", "bbox": [NaN, 1, 2, 3]}]}}', 400, "body"),
        ('{"payload": {"boxes": [{"label": "car", "bbox": [Infinity, 1, 2, 3]}]}}', 400, "body"),
        ('{"payload": {"boxes": [{"label": "car", "bbox": [-Infinity, 1, 2, 3]}]}}', 400, "body"),
        (
            '{"payload": {"boxes": [{"label": "car", "bbox": [1e309, 1, 2, 3]}]}}',
            400,
            "payload.boxes[0].bbox[0]",
        ),
        ('{"payload": {"boxes": [{"label": "car", "bbox": [1, 1, 2, 3]}]', 400, "body"),
        ("", 400, "payload"),
    ],
)
def test_non_finite_numbers_and_broken_json_in_a_submission_are_refused(
    worker_client, make_project, media_files, text, status, field
):
    project = make_project("bbox", images=1)
    work = lease(worker_client, project)
    before = stored(media_files)
    response = post_raw(
        worker_client, f"/api/v1/work/assignments/{work['assignment']}/submit/", text
    )
    assert_refused(response, status, field)
    assert stored(media_files) == before


def test_a_submission_over_one_megabyte_gets_a_json_413(worker_client, project, media_files):
    work = lease(worker_client, project)
    before = stored(media_files)
    text = json.dumps({"payload": {"label": "taxi", "pad": "x" * 1_100_000}})
    response = post_raw(
        worker_client, f"/api/v1/work/assignments/{work['assignment']}/submit/", text
    )
    assert_refused(response, 413, "body", "request_too_large")
    assert stored(media_files) == before


def test_a_submission_on_an_expired_lease_is_refused_and_not_recorded(
    worker_client, project, media_files, settings
):
    # given a lease whose time has run out
    work = lease(worker_client, project)
    later = timezone.now() + timedelta(seconds=settings.SEBENZAI["LEASE_SECONDS"] + 1)
    counts, files = db_snapshot(), media_files()
    # when the worker answers late
    with time_machine.travel(later, tick=False):
        response = submit(worker_client, work["assignment"], {"label": "taxi"})
    # then the answer is refused and not stored; the lease ends as the reaper would end it
    assert_refused(response, 409, "assignment", "assignment_expired")
    assert not Annotation.objects.exists()
    assert Assignment.objects.get(pk=work["assignment"]).state == "expired"
    task = Task.objects.get(pk=work["task"])
    assert (task.answers_count, task.slots_taken) == (0, 0)
    assert {k: v for k, v in db_snapshot().items() if k != "tasks_state"} == {
        k: v for k, v in counts.items() if k != "tasks_state"
    }
    assert media_files() == files


def test_a_submission_on_someone_elses_lease_looks_like_no_such_lease(
    worker_clients, project, media_files
):
    # given worker 0 holds a lease
    work = lease(worker_clients[0], project)
    before = stored(media_files)
    # when worker 1 submits on it, and on an id that does not exist
    theirs = submit(worker_clients[1], work["assignment"], {"label": "taxi"})
    nowhere = submit(worker_clients[1], NOWHERE, {"label": "taxi"})
    # then both are the same 404
    assert_refused(theirs, 404, "assignment", "not_found")
    assert theirs.content == nowhere.content
    assert stored(media_files) == before


def test_a_second_submission_of_the_same_lease_is_a_conflict(worker_client, project, media_files):
    work = lease(worker_client, project)
    assert submit(worker_client, work["assignment"], {"label": "taxi"}).status_code == 201
    before = stored(media_files)
    response = submit(worker_client, work["assignment"], {"label": "car"})
    assert_refused(response, 409, "assignment", "already_submitted")
    assert stored(media_files) == before
    assert Annotation.objects.get().payload == {"label": "taxi"}


def test_a_submission_after_a_skip_is_a_conflict(worker_client, project, media_files):
    work = lease(worker_client, project)
    skipped = worker_client.post(f"/api/v1/work/assignments/{work['assignment']}/skip/")
    assert skipped.status_code == 200
    before = stored(media_files)
    response = submit(worker_client, work["assignment"], {"label": "taxi"})
    assert_refused(response, 409, "assignment", "already_skipped")
    assert stored(media_files) == before


def test_a_submission_to_a_malformed_assignment_id_is_a_json_404(worker_client, media_files):
    before = stored(media_files)
    response = submit(worker_client, "not-a-uuid", {"label": "taxi"})
    assert_refused(response, 404, None, "not_found")
    assert stored(media_files) == before


# --- POST /api/v1/work/assignments/{id}/skip/ -----------------------------------------------


def test_skipping_someone_elses_lease_looks_like_no_such_lease(
    worker_clients, project, media_files
):
    work = lease(worker_clients[0], project)
    before = stored(media_files)
    theirs = worker_clients[1].post(f"/api/v1/work/assignments/{work['assignment']}/skip/")
    nowhere = worker_clients[1].post(f"/api/v1/work/assignments/{NOWHERE}/skip/")
    assert_refused(theirs, 404, "assignment", "not_found")
    assert theirs.content == nowhere.content
    assert stored(media_files) == before


@pytest.mark.parametrize("first", ["skip", "submit"])
def test_skipping_a_lease_that_is_already_finished_is_a_conflict(
    worker_client, project, media_files, first
):
    work = lease(worker_client, project)
    url = f"/api/v1/work/assignments/{work['assignment']}"
    if first == "skip":
        assert worker_client.post(f"{url}/skip/").status_code == 200
    else:
        assert submit(worker_client, work["assignment"], {"label": "taxi"}).status_code == 201
    before = stored(media_files)
    response = worker_client.post(f"{url}/skip/")
    assert_refused(response, 409, "assignment")
    assert stored(media_files) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [({"status": "submitted"}, "status"), ({"points": 5}, "points"), ([1], "body")],
)
def test_skipping_with_unknown_fields_is_refused(worker_client, project, media_files, body, field):
    work = lease(worker_client, project)
    before = stored(media_files)
    response = post_raw(
        worker_client, f"/api/v1/work/assignments/{work['assignment']}/skip/", json.dumps(body)
    )
    assert_refused(response, 400, field)
    assert stored(media_files) == before


# --- POST /api/v1/auth/register/ and /auth/token/ -------------------------------------------

SIGN_UP = {"username": "newbie", "password": PASSWORD, "email": "newbie@example.org"}


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"username": MISSING}, 400, "username"),
        ({"password": MISSING}, 400, "password"),
        ({"username": 12345}, 400, "username"),
        ({"username": None}, 400, "username"),
        ({"username": "ab"}, 400, "username"),
        ({"username": "bad name!"}, 400, "username"),
        ({"username": "x" * 151}, 400, "username"),
        ({"password": 1234567890123}, 400, "password"),
        ({"password": ["correct", "horse"]}, 400, "password"),
        ({"password": "password"}, 400, "password"),
        ({"password": "newbie"}, 400, "password"),
        ({"password": "x" * 129}, 400, "password"),
        ({"email": "not-an-email"}, 400, "email"),
        ({"email": 5}, 400, "email"),
        ({"role": "requester"}, 400, "role"),
        ({"is_staff": True}, 400, "is_staff"),
        ({"points": 1000}, 400, "points"),
        ({"username": "Req_A"}, 409, "username"),
    ],
)
def test_registering_with_a_bad_field_is_refused_and_creates_no_account(
    client, requester, media_files, changes, status, field
):
    before = stored(media_files)
    response = client.post(
        "/api/v1/auth/register/", with_changes(SIGN_UP, changes), content_type="application/json"
    )
    assert_refused(response, status, field)
    assert stored(media_files) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": PASSWORD}, "username"),
        ({"username": "req_a"}, "password"),
        ({"username": "req_a", "password": "wrong-password-123"}, "password"),
        ({"username": "nobody", "password": PASSWORD}, "password"),
        ({"username": 5, "password": PASSWORD}, "username"),
        ({"username": "req_a", "password": ["x"]}, "password"),
        ({"username": "req_a", "password": PASSWORD, "role": "worker"}, "role"),
        ([], "body"),
    ],
)
def test_asking_for_a_token_with_bad_credentials_is_refused(
    client, requester, media_files, body, field
):
    before = stored(media_files)
    response = client.post("/api/v1/auth/token/", body, content_type="application/json")
    assert_refused(response, 400, field)
    assert stored(media_files) == before


def test_wrong_password_and_unknown_user_get_the_same_answer(client, requester):
    wrong = client.post(
        "/api/v1/auth/token/",
        {"username": "req_a", "password": "wrong-password-123"},
        content_type="application/json",
    )
    nobody = client.post(
        "/api/v1/auth/token/",
        {"username": "nobody", "password": "wrong-password-123"},
        content_type="application/json",
    )
    assert wrong.content == nobody.content


def test_an_inactive_account_gets_no_token(client, requester, media_files):
    requester.is_active = False
    requester.save(update_fields=["is_active"])
    before = stored(media_files)
    response = client.post(
        "/api/v1/auth/token/",
        {"username": "req_a", "password": PASSWORD},
        content_type="application/json",
    )
    assert_refused(response, 400, "password", "invalid_credentials")
    assert stored(media_files) == before


def test_registering_a_name_taken_at_the_same_moment_is_a_conflict_not_a_500(
    client, media_files, monkeypatch
):
    # given another request creates "newbie" between our check and our insert
    from django.db import IntegrityError

    from accounts import api

    def racing_create(**kwargs):
        raise IntegrityError("UNIQUE constraint failed: auth_user.username")

    monkeypatch.setattr(api, "user_create", racing_create)
    before = stored(media_files)
    # when
    response = client.post("/api/v1/auth/register/", SIGN_UP, content_type="application/json")
    # then
    assert_refused(response, 409, "username", "username_taken")
    assert stored(media_files) == before


def test_sign_up_and_log_in_also_take_a_form_as_the_readme_shows(client):
    # given the README's curl -d calls, which send a urlencoded form, not JSON
    form = urlencode({"username": "zanele", "password": PASSWORD})
    kind = "application/x-www-form-urlencoded"
    # when
    signed_up = client.post("/api/v1/auth/register/", form, content_type=kind)
    logged_in = client.post("/api/v1/auth/token/", form, content_type=kind)
    # then both work
    assert signed_up.status_code == 201, signed_up.content
    assert logged_in.status_code == 200, logged_in.content
    assert logged_in.json()["token"] == signed_up.json()["token"]


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

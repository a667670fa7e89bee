"""Hostile uploads: polyglots, bodies that lie about their length, hostile file names and archives
whose headers lie (docs/reliability.md U2, U6, U7, Z2). Every refusal is the one JSON error shape, none
is a 500, and none leaves a row or a file behind."""

from __future__ import annotations

import hashlib
import html
import io
import json
import random
import tracemalloc
import unicodedata
import zipfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from annotations.models import Task
from tests.annotations.bad_input.contract import assert_refused, stored
from tests.helpers import png_bytes, zip_bytes

pytestmark = pytest.mark.django_db

SCRIPT = b"<html><script>alert(1)</script>"
BOUNDARY = "sebenzai-hardening-7f3a"


# --- helpers ---------------------------------------------------------------------------------


def noisy_png(seed: int, side: int = 48) -> bytes:
    """A PNG of random pixels: it hardly compresses, so its size on the wire is about 3 × side²."""
    pixels = random.Random(seed).randbytes(side * side * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), pixels).save(out, "PNG")
    return out.getvalue()


def jpeg_with_script_in_metadata() -> bytes:
    """A real JPEG whose COM segment and EXIF ImageDescription both carry a script."""
    exif = Image.Exif()
    exif[0x010E] = SCRIPT.decode()
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 200, 10)).save(out, "JPEG", comment=SCRIPT, exif=exif.tobytes())
    return out.getvalue()


def multipart(field: str, filename: str, content: bytes, content_type: str = "image/png") -> bytes:
    """One file part written by hand, so its name reaches the server byte for byte (the test
    client would cut it to its basename first)."""
    disposition = f'Content-Disposition: form-data; name="{field}"; filename="{filename}"'
    return b"\r\n".join(
        [
            f"--{BOUNDARY}".encode(),
            disposition.encode(),
            f"Content-Type: {content_type}".encode(),
            b"",
            content,
            f"--{BOUNDARY}--".encode(),
            b"",
        ]
    )


def post_body(client, project, body: bytes, **environ):
    """POST raw multipart bytes; ``environ`` may override CONTENT_LENGTH and wsgi.input."""
    return client.generic(
        "POST",
        f"/api/v1/projects/{project.pk}/tasks/",
        body,
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        **environ,
    )


def upload_file(client, project, content: bytes, name: str, content_type: str):
    upload = SimpleUploadedFile(name, content, content_type=content_type)
    return client.post(
        f"/api/v1/projects/{project.pk}/tasks/", {"images": [upload]}, format="multipart"
    )


def upload_archive(client, project, archive: bytes):
    upload = SimpleUploadedFile("set.zip", archive, content_type="application/zip")
    return client.post(
        f"/api/v1/projects/{project.pk}/tasks/", {"archive": upload}, format="multipart"
    )


def served_bytes(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def under_media_root(relative: str) -> Path:
    root = Path(django_settings.MEDIA_ROOT).resolve()
    path = (root / relative).resolve()
    assert path.is_relative_to(root), path
    return path


def deflated_zip(name: str, chunks: int, head: bytes, chunk: bytes = b"\x00" * 1_048_576) -> bytes:
    """A one-entry deflated zip holding ``head`` then ``chunks`` × ``chunk``, written a chunk at
    a time so the test never holds the whole entry in memory."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf, zf.open(name, "w") as entry:
        entry.write(head)
        for _ in range(chunks):
            entry.write(chunk)
    return out.getvalue()


def with_declared_size(archive: bytes, size: int) -> bytes:
    """The same one-entry zip, its local and central headers both claiming ``size`` bytes."""
    data = bytearray(archive)
    assert data[:4] == b"PK\x03\x04"
    data[22:26] = size.to_bytes(4, "little")  # local file header: uncompressed size
    central = data.index(b"PK\x01\x02")
    data[central + 24 : central + 28] = size.to_bytes(4, "little")  # central directory entry
    return bytes(data)


# --- U2: an image that is also HTML ------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "content_type"),
    [
        pytest.param(png_bytes(seed=901) + SCRIPT, "image/png", id="html-after-png"),
        pytest.param(jpeg_with_script_in_metadata(), "image/jpeg", id="script-in-jpeg-com-exif"),
    ],
)
def test_an_image_carrying_a_script_is_stored_and_served_only_as_an_image(
    requester_client, make_project, media_files, payload, content_type
):
    # given a real image that also carries a script, named and typed as an HTML page
    assert payload.count(b"<script") >= 1
    project = make_project(images=0)
    # when its owner uploads it and fetches it back
    response = upload_file(requester_client, project, payload, "x.html", "text/html")
    assert response.status_code == 201, response.content
    task = Task.objects.get(pk=response.json()["tasks"][0])
    served = requester_client.get(f"/api/v1/tasks/{task.pk}/image/")
    body = served_bytes(served)
    # then neither the stored file nor the served bytes hold the script, and every header says
    # "an image, do not sniff it, do not run it"
    extension = {"image/png": "png", "image/jpeg": "jpg"}[content_type]
    assert task.image == f"images/{task.sha256[:2]}/{task.sha256}.{extension}"
    assert media_files() == [task.image]
    assert b"<script" not in under_media_root(task.image).read_bytes()
    assert served.status_code == 200
    assert b"<script" not in body
    assert b"alert(" not in body
    assert served["Content-Type"] == content_type
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Disposition"] == f'inline; filename="{task.pk}.{extension}"'
    assert "sandbox" in served["Content-Security-Policy"]
    assert Image.open(io.BytesIO(body)).size == (task.width, task.height)


# --- U6: bodies over the cap, and bodies that lie about their length ---------------------------


@pytest.fixture
def small_upload_limits(settings, tmp_path) -> Path:
    """Small caps (so a body over them is cheap to send) and file parts spilled to a temporary
    folder of our own (so leftovers can be counted). Returns that folder."""
    settings.SEBENZAI = {**settings.SEBENZAI, "IMAGE_MAX_BYTES": 1_000, "ARCHIVE_MAX_BYTES": 20_000}
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 512
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "upload-tmp")
    (tmp_path / "upload-tmp").mkdir()
    return tmp_path / "upload-tmp"


def body_cap() -> int:
    limits = django_settings.SEBENZAI
    per_files = limits["IMAGE_MAX_BYTES"] * django_settings.DATA_UPLOAD_MAX_NUMBER_FILES
    return max(per_files, limits["ARCHIVE_MAX_BYTES"])


def test_a_multipart_body_over_the_cap_gets_a_json_413_and_stores_nothing(
    requester_client, project, media_files, small_upload_limits
):
    # given a multipart body, honestly declared, longer than the app's cap for a whole upload
    body = multipart("images", "big.png", noisy_png(seed=1, side=160))
    assert len(body) > body_cap()
    before = stored(media_files)
    # when it is posted
    response = post_body(requester_client, project, body)
    # then it is refused from its Content-Length, before any part is read or spilled to disk
    assert_refused(response, 413, "body", "request_too_large")
    assert stored(media_files) == before
    assert list(small_upload_limits.iterdir()) == []


@pytest.mark.parametrize("declared", [50_001, 10**15], ids=["just-over", "a-petabyte"])
def test_a_small_body_declaring_a_length_over_the_cap_gets_a_json_413(
    requester_client, project, media_files, small_upload_limits, declared
):
    body = multipart("images", "small.png", png_bytes(seed=2))
    assert declared > body_cap() > len(body)
    before = stored(media_files)
    response = post_body(
        requester_client,
        project,
        body,
        CONTENT_LENGTH=str(declared),
        **{"wsgi.input": io.BytesIO(body)},
    )
    assert_refused(response, 413, "body", "request_too_large")
    assert stored(media_files) == before


@pytest.mark.parametrize(
    ("declared", "sent"),
    [
        pytest.param(lambda n: n // 2, lambda n: n, id="declares-half-sends-all"),
        pytest.param(lambda n: n - 200, lambda n: n, id="declares-less-cuts-the-image-end"),
        pytest.param(lambda n: n + 5_000, lambda n: n // 2, id="declares-more-sends-half"),
        pytest.param(lambda n: n - 5, lambda n: n, id="declares-less-cuts-the-last-boundary"),
        pytest.param(lambda n: n + 5_000, lambda n: 0, id="declares-more-sends-nothing"),
    ],
)
def test_a_body_lying_about_its_length_stores_no_partial_image(
    requester_client, project, media_files, small_upload_limits, settings, declared, sent
):
    # given an image under every limit, in a body whose Content-Length does not match what is sent
    settings.SEBENZAI = {**settings.SEBENZAI, "IMAGE_MAX_BYTES": 100_000}
    body = multipart("images", "cut.png", noisy_png(seed=3, side=64))
    before = stored(media_files)
    # when the server reads only what was declared, or the stream ends before it
    response = post_body(
        requester_client,
        project,
        body,
        CONTENT_LENGTH=str(declared(len(body))),
        **{"wsgi.input": io.BytesIO(body[: sent(len(body))])},
    )
    # then Django drops the unterminated file part, so the request is refused as having no
    # image at all: nothing stored, no temporary file left
    assert_refused(response, 400, "images", "invalid")
    assert stored(media_files) == before
    assert list(small_upload_limits.iterdir()) == []
    # and the very same body, sent honestly, is accepted: the refusal was the lie's doing
    assert post_body(requester_client, project, body).status_code == 201


def test_a_refused_upload_spilled_to_disk_leaves_no_temporary_file(
    requester_client, project, media_files, small_upload_limits
):
    # given a file part larger than the in-memory threshold, so Django writes it to a temp file
    before = stored(media_files)
    response = post_body(
        requester_client, project, multipart("images", "big.png", noisy_png(seed=4, side=24))
    )
    # then the per-file byte limit refuses it, and the temporary file is gone with the request
    assert_refused(response, 400, "images[0]", "file_too_large")
    assert stored(media_files) == before
    assert list(small_upload_limits.iterdir()) == []


# --- U7: hostile file names ---------------------------------------------------------------------

HOSTILE_NAMES = [
    pytest.param("../../etc/passwd.png", id="dot-dot"),
    pytest.param("a\x00.png", id="nul"),
    pytest.param("\u202egnp.exe.png", id="rtl-override"),
    pytest.param("CON.png", id="windows-device"),
    pytest.param('a";b.png', id="quote-semicolon"),
    pytest.param("a" * 300 + ".png", id="300-chars"),
    pytest.param("<img src=x onerror=alert(1)>.png", id="html"),
]


def assert_name_is_metadata_only(task: Task, content: bytes, media_files) -> None:
    """The stored path comes from the bytes alone; the user's name survives only as clean text."""
    digest = hashlib.sha256(content).hexdigest()
    assert task.image == f"images/{digest[:2]}/{digest}.png"
    assert under_media_root(task.image).is_file()
    assert media_files() == [task.image]
    name = task.original_name
    assert "/" not in name
    assert "\\" not in name
    assert not [ch for ch in name if unicodedata.category(ch).startswith("C")], ascii(name)
    assert len(name) <= 255


def assert_name_shown_escaped(task: Task, requester_client, client, make_user) -> None:
    """Wherever the name comes back, it is data: a JSON string, an escaped HTML text, and never
    part of a response header."""
    results = requester_client.get(f"/api/v1/projects/{task.project_id}/results/")
    assert results.status_code == 200
    row = next(r for r in json.loads(results.content)["results"] if r["id"] == str(task.pk))
    assert row["original_name"] == task.original_name
    served = requester_client.get(f"/api/v1/tasks/{task.pk}/image/")
    assert served["Content-Disposition"] == f'inline; filename="{task.pk}.png"'
    client.force_login(make_user(staff=True))
    page = client.get(f"/staff/review/{task.pk}/").content.decode()
    assert html.escape(task.original_name) in page
    if html.escape(task.original_name) != task.original_name:
        assert task.original_name not in page


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_hostile_file_name_never_becomes_a_path_and_is_kept_only_as_clean_text(
    requester_client, client, make_user, make_project, media_files, name
):
    # given an image sent under a hostile name, byte for byte in the multipart header
    project = make_project(images=0)
    content = png_bytes(seed=903)
    # when it is uploaded
    response = post_body(requester_client, project, multipart("images", name, content))
    # then it is stored under its hash, and the name is clean, short and escaped wherever shown
    assert response.status_code == 201, response.content
    task = Task.objects.get(pk=response.json()["tasks"][0])
    assert_name_is_metadata_only(task, content, media_files)
    assert_name_shown_escaped(task, requester_client, client, make_user)


# Zip entry names reach intake untouched by Django's multipart clean-up: here the intake's own
# original_name_clean is all that stands. ("../" and NUL entries refuse the whole archive: Z1.)
HOSTILE_ENTRY_NAMES = [
    pytest.param("photos/2024/cam1.png", id="folders"),
    pytest.param("photos\\2024\\cam1.png", id="backslashes"),
    pytest.param("\u202egnp.exe.png", id="rtl-override"),
    pytest.param("a\x1b[2Jb\x07.png", id="terminal-escapes"),
    pytest.param("CON.png", id="windows-device"),
    pytest.param('a";b.png', id="quote-semicolon"),
    pytest.param("a" * 300 + ".png", id="300-chars"),
    pytest.param("<img src=x onerror=alert(1)>.png", id="html"),
]


@pytest.mark.parametrize("name", HOSTILE_ENTRY_NAMES)
def test_a_hostile_archive_entry_name_is_kept_only_as_clean_text(
    requester_client, client, make_user, make_project, media_files, name
):
    project = make_project(images=0)
    content = png_bytes(seed=904)
    response = upload_archive(requester_client, project, zip_bytes({name: content}))
    assert response.status_code == 201, response.content
    task = Task.objects.get(pk=response.json()["tasks"][0])
    assert_name_is_metadata_only(task, content, media_files)
    assert_name_shown_escaped(task, requester_client, client, make_user)


def test_a_refused_entry_is_reported_without_its_control_characters(
    requester_client, project, media_files
):
    # given an archive whose only entry is not an image, named with a right-to-left override
    # and a bell character
    archive = zip_bytes({"notes/\u202etxt.png\x07": b"not an image"})
    before = stored(media_files)
    # when it is uploaded
    response = upload_archive(requester_client, project, archive)
    # then the refusal names the entry by its printable path, and the file by its clean name
    error = assert_refused(response, 400, "archive:notes/txt.png", "unsupported_format")
    assert error["details"][0]["file"] == "txt.png"
    assert stored(media_files) == before


# --- Z2: archives over the byte cap, and entries whose header lies -----------------------------


def test_an_archive_unpacking_past_the_byte_cap_is_refused_whole(
    requester_client, project, media_files, settings
):
    # given two real images that together declare more than the archive cap
    settings.SEBENZAI = {**settings.SEBENZAI, "ARCHIVE_MAX_BYTES": 1_000}
    archive = zip_bytes({"a.png": noisy_png(seed=5), "b.png": noisy_png(seed=6)})
    before = stored(media_files)
    # when the archive is uploaded
    response = upload_archive(requester_client, project, archive)
    # then nothing of it is stored
    assert_refused(response, 400, "archive", "archive_too_large")
    assert stored(media_files) == before


def test_an_entry_that_under_declares_its_size_is_refused_and_read_only_up_to_the_cap(
    requester_client, project, media_files, settings
):
    # given an entry declaring 200-odd bytes that really inflates to 64 MB (a small PNG, then
    # zeros); the declared numbers pass the total and ratio checks, and the image cap is 1 MB
    settings.SEBENZAI = {**settings.SEBENZAI, "IMAGE_MAX_BYTES": 1_000_000}
    head = png_bytes(seed=905)
    archive = with_declared_size(deflated_zip("bomb.png", 64, head), len(head))
    assert len(archive) < 200_000
    before = stored(media_files)
    # when it is uploaded
    tracemalloc.start()
    response = upload_archive(requester_client, project, archive)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # then the read asks for at most the cap + 1 bytes (zipfile inflates that much, keeps the
    # declared 200-odd, and finds the checksum wrong): the entry is refused as unreadable and
    # the 64 MB are never inflated into memory
    assert_refused(response, 400, "archive:bomb.png", "invalid_archive_entry")
    assert peak < 5 * 1024 * 1024
    assert stored(media_files) == before


def test_an_entry_over_the_image_byte_cap_is_read_only_up_to_the_cap(
    requester_client, project, media_files, settings
):
    # given an honest entry of 32 MB, let through by a generous ratio, and a 100 kB image cap
    settings.SEBENZAI = {
        **settings.SEBENZAI,
        "IMAGE_MAX_BYTES": 100_000,
        "ARCHIVE_MAX_RATIO": 5_000,
    }
    archive = deflated_zip("big.png", 32, png_bytes(seed=906))
    before = stored(media_files)
    # when it is uploaded
    tracemalloc.start()
    response = upload_archive(requester_client, project, archive)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # then it is refused as too large after reading one byte past the cap, not the whole entry
    error = assert_refused(response, 400, "archive:big.png", "file_too_large")
    assert "100,001 bytes" in error["message"]
    assert peak < 10 * 1024 * 1024
    assert stored(media_files) == before

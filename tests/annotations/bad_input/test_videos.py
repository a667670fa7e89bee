"""Bad videos at POST /api/v1/projects/{id}/tasks/: corrupt, truncated, empty, holding no video,
too large, too fast, too long, or making more frames than the quota leaves. Each is refused
naming the file, by the contract in ``contract.py``: no row and no frame file left behind, and
the container closed. What a header can tell is judged before a single frame is decoded."""

from __future__ import annotations

import dataclasses

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

import annotations.video
from annotations.models import Task
from annotations.services import video_intake
from tests.annotations.bad_input.contract import assert_refused, stored
from tests.annotations.video_clips import audio_only_mp4, blocks, clip_bytes
from tests.helpers import png_bytes

pytestmark = pytest.mark.django_db

CLIP = clip_bytes([(blocks(seed), 1) for seed in range(6)])  # 6 s, 10 fps, 64×48
FASTSTART = clip_bytes([(blocks(seed), 1) for seed in range(6)], faststart=True)


def upload(client, project, *files, **fields):
    return client.post(
        f"/api/v1/projects/{project.pk}/tasks/",
        {"images": list(files), **fields},
        format="multipart",
    )


def video(content: bytes, name: str = "clip.mp4"):
    return SimpleUploadedFile(name, content, content_type="video/mp4")


@pytest.fixture
def containers(monkeypatch) -> list:
    """Every container the video module opens, to check that each was closed."""
    opened, real_open = [], annotations.video.av.open

    def recording_open(*args, **kwargs):
        opened.append(real_open(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(annotations.video.av, "open", recording_open)
    return opened


def closed(container) -> bool:
    try:
        container.duration  # noqa: B018 - PyAV asserts the container is open
    except AssertionError:
        return True
    return False


@pytest.fixture
def decoded(monkeypatch) -> list:
    """Frames handed out by the decoder, counted."""
    frames, real = [], annotations.video._decoded

    def counting(*args, **kwargs):
        for frame in real(*args, **kwargs):
            frames.append(frame.time)
            yield frame

    monkeypatch.setattr(annotations.video, "_decoded", counting)
    return frames


@pytest.mark.parametrize(
    ("content", "name", "code"),
    [
        pytest.param(b"", "empty.mp4", "invalid_video", id="zero-length"),
        pytest.param(
            b"\x00\x00\x00\x18ftypisom" + b"\xde\xad" * 500,
            "bad.mp4",
            "invalid_video",
            id="corrupt-mp4",
        ),  # fmt: skip
        pytest.param(
            b"\x1a\x45\xdf\xa3" + b"\xff" * 300, "bad.mkv", "invalid_video", id="corrupt-mkv"
        ),  # fmt: skip
        pytest.param(
            b"hello, I am not a film\n" * 40, "notes.webm", "invalid_video", id="text-as-webm"
        ),  # fmt: skip
        pytest.param(CLIP[: len(CLIP) // 2], "cut.mp4", "invalid_video", id="truncated"),
        pytest.param(
            FASTSTART[: len(FASTSTART) * 3 // 4],
            "cut.mp4",
            "invalid_video",
            id="truncated-faststart",
        ),  # fmt: skip
        pytest.param(audio_only_mp4(), "song.mp4", "no_video_stream", id="audio-only"),
    ],
)
def test_a_broken_video_is_refused_naming_the_file(
    requester_client, project, media_files, containers, content, name, code
):
    before = stored(media_files)
    response = upload(requester_client, project, video(content, name))
    error = assert_refused(response, 400, "images[0]", code)
    assert error["details"][0]["file"] == name
    assert stored(media_files) == before
    assert all(closed(c) for c in containers)


def test_a_video_refused_part_way_leaves_none_of_its_frame_files(
    requester_client, project, media_files, containers, monkeypatch
):
    # given a fast-start MP4 cut short: its header reads, and its first frames are stored
    written = []
    real_store = video_intake.image_store
    monkeypatch.setattr(
        video_intake, "image_store", lambda image: written.append(1) or real_store(image)
    )
    before = stored(media_files)
    # when it is uploaded
    response = upload(requester_client, project, video(FASTSTART[: len(FASTSTART) * 3 // 4]))
    # then frames had been written, and none is left
    assert_refused(response, 400, "images[0]", "invalid_video")
    assert len(written) >= 2
    assert stored(media_files) == before
    assert containers
    assert all(closed(c) for c in containers)


def test_a_bad_video_beside_good_images_is_reported_and_the_images_kept(
    requester_client, make_project, media_files
):
    project = make_project(images=0)
    good = SimpleUploadedFile("a.png", png_bytes(seed=31))
    response = upload(requester_client, project, good, video(b"\x1a\x45\xdf\xa3junk", "b.mkv"))
    assert response.status_code == 201
    body = response.json()
    assert body["created"] == 1
    assert body["errors"] == [
        {
            "field": "images[1]",
            "file": "b.mkv",
            "code": "invalid_video",
            "message": "Not a readable MP4, MOV, MKV or WebM video.",
        }
    ]
    assert [t.original_name for t in Task.objects.filter(project=project)] == ["a.png"]
    assert len(media_files()) == 1


@pytest.mark.parametrize(
    ("limits", "code", "words"),
    [
        pytest.param(
            {"IMAGE_MAX_PIXELS": 3000}, "video_too_large", "3,072 px (64×48)", id="pixels"
        ),  # fmt: skip
        pytest.param(
            {"VIDEO_MAX_FPS": 5}, "frame_rate_too_high", "10 frames per second", id="frame-rate"
        ),  # fmt: skip
        pytest.param({"VIDEO_MAX_SECONDS": 5}, "video_too_long", "6 s", id="duration"),
        pytest.param({"VIDEO_MAX_FRAMES": 6}, "too_many_frames", "up to 7 frames", id="frames"),
        pytest.param(
            {"PROJECT_MAX_TASKS": 9}, "quota_exceeded", "7 tasks and 6 fit", id="quota"
        ),  # fmt: skip
    ],
)
def test_a_video_over_a_limit_is_refused_from_its_header_before_decoding(
    requester_client, project, media_files, settings, containers, decoded, limits, code, words
):
    # given a project of 3 images and a 6 s clip that 1 fps sampling makes 7 frames of
    settings.SEBENZAI = {**settings.SEBENZAI, **limits}
    before = stored(media_files)
    response = upload(requester_client, project, video(CLIP, "big.mp4"))
    error = assert_refused(response, 400, "images[0]", code)
    assert words in error["message"], error["message"]
    assert decoded == []  # not one frame decoded
    assert stored(media_files) == before
    assert all(closed(c) for c in containers)


def test_a_video_over_the_byte_limit_is_refused(requester_client, project, media_files, settings):
    settings.SEBENZAI = {**settings.SEBENZAI, "VIDEO_MAX_BYTES": len(CLIP) - 1}
    before = stored(media_files)
    response = upload(requester_client, project, video(CLIP))
    assert_refused(response, 400, "images[0]", "file_too_large")
    assert stored(media_files) == before


def test_a_header_that_lies_about_its_size_is_stopped_by_the_decoder(
    requester_client, project, media_files, settings, monkeypatch
):
    # given a pixel limit under the clip's, and a header check fooled into passing it
    settings.SEBENZAI = {**settings.SEBENZAI, "IMAGE_MAX_PIXELS": 3000}
    real = annotations.video._header_check
    monkeypatch.setattr(
        annotations.video,
        "_header_check",
        lambda container, limits: real(container, dataclasses.replace(limits, max_pixels=10**9)),
    )
    before = stored(media_files)
    # then FFmpeg's own max_pixels, set from the real limit, refuses to decode
    response = upload(requester_client, project, video(CLIP))
    assert_refused(response, 400, "images[0]", "invalid_video")
    assert stored(media_files) == before


def test_decoding_stops_past_the_limits_whatever_the_header_said(
    requester_client, project, media_files, monkeypatch
):
    # given a header judged fine, then a decoder held to 3 s (as if the header had lied)
    real = annotations.video._decoded
    monkeypatch.setattr(
        annotations.video,
        "_decoded",
        lambda clip, limits: real(clip, dataclasses.replace(limits, max_seconds=3.0)),
    )
    before = stored(media_files)
    response = upload(requester_client, project, video(CLIP))
    assert_refused(response, 400, "images[0]", "video_too_long")
    assert stored(media_files) == before

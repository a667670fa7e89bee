"""Video uploads through POST /api/v1/projects/{id}/tasks/: one task per sampled frame (a fixed
rate or scene changes, near-duplicates dropped), each frame stored as an image and remembering
its video; and group metadata (camera, site, sequence, captured_at) on every task of an upload.
The videos are made here with PyAV (tests/annotations/video_clips.py)."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotations.models import Task
from tests.annotations.bad_input.contract import assert_refused, stored
from tests.annotations.video_clips import CONTAINERS, blocks, clip_bytes, solid
from tests.helpers import png_bytes, zip_bytes

pytestmark = pytest.mark.django_db

FOUR_SCENES = [(blocks(seed), 1) for seed in range(4)]  # 4 s, a new picture each second


def upload(client, project, files, **fields):
    return client.post(
        f"/api/v1/projects/{project.pk}/tasks/", {"images": files, **fields}, format="multipart"
    )


def video_file(content: bytes, name: str = "clip.mp4"):
    return SimpleUploadedFile(name, content, content_type="video/mp4")


def frame_tasks(response) -> list[Task]:
    assert response.status_code == 201, response.content
    ids = response.json()["tasks"]
    return sorted(Task.objects.filter(pk__in=ids), key=lambda t: t.metadata["video"]["frame"])


@pytest.mark.parametrize("container", sorted(CONTAINERS))
def test_a_video_becomes_one_task_per_second_by_default(requester_client, make_project, container):
    # given a 4 s clip at 10 frames per second showing a new picture each second
    project = make_project(images=0)
    extension = CONTAINERS[container][2]
    content = clip_bytes(FOUR_SCENES, container=container)
    # when it is uploaded with no sampling options
    response = upload(requester_client, project, [video_file(content, f"road.{extension}")])
    # then one frame a second became a task
    tasks = frame_tasks(response)
    assert [t.metadata["video"]["time_s"] for t in tasks] == [0.0, 1.0, 2.0, 3.0]
    assert [t.metadata["video"]["frame"] for t in tasks] == [0, 10, 20, 30]


def test_a_higher_fps_takes_more_frames(requester_client, make_project):
    project = make_project(images=0)
    content = clip_bytes([(blocks(seed), 0.1) for seed in range(30)])  # a new picture per frame
    response = upload(requester_client, project, [video_file(content)], fps="2.5")
    times = [t.metadata["video"]["time_s"] for t in frame_tasks(response)]
    assert times == [0.0, 0.4, 0.8, 1.2, 1.6, 2.0, 2.4, 2.8]


def test_each_frame_is_stored_as_an_image_and_remembers_its_video(
    requester_client, make_project, media_files
):
    project = make_project(images=0)
    content = clip_bytes(FOUR_SCENES)
    response = upload(requester_client, project, [video_file(content, "cam 7/road.mp4")])
    first = frame_tasks(response)[1]
    assert first.metadata == {
        "video": {
            "name": "road.mp4",
            "sha256": hashlib.sha256(content).hexdigest(),
            "time_s": 1.0,
            "frame": 10,
        }
    }
    assert (first.image_format, first.width, first.height) == ("JPEG", 64, 48)
    assert first.original_name == "road-f000010.jpg"
    assert first.image == f"images/{first.sha256[:2]}/{first.sha256}.jpg"
    assert first.image in media_files()
    # and the worker gets it like any image
    assert requester_client.get(f"/api/v1/tasks/{first.pk}/image/").status_code == 200


def test_identical_frames_become_one_task(requester_client, make_project):
    # given 6 s of one empty road, a car for 2 s, and the empty road again
    project = make_project(images=0)
    road, car = blocks(1), blocks(2)
    content = clip_bytes([(road, 6), (car, 2), (road, 2)])
    response = upload(requester_client, project, [video_file(content)])
    # then the road is labelled once and the car once, whatever the rate took
    times = [t.metadata["video"]["time_s"] for t in frame_tasks(response)]
    assert times == [0.0, 6.0]
    assert response.json()["duplicates"] == 0  # dropped in sampling, not as project duplicates


def test_a_change_of_colour_alone_is_not_a_duplicate(requester_client, make_project):
    # dHash sees no structure in a solid frame; the brightness check keeps these apart
    project = make_project(images=0)
    content = clip_bytes([(solid((200, 30, 30)), 2), (solid((20, 20, 90)), 2)])
    response = upload(requester_client, project, [video_file(content)])
    assert [t.metadata["video"]["time_s"] for t in frame_tasks(response)] == [0.0, 2.0]


def test_a_dedupe_distance_of_zero_keeps_frames_that_differ_slightly(
    requester_client, make_project
):
    project = make_project(images=0)
    near = blocks(1).copy()
    near[:8, :8] = 255 - near[:8, :8]  # one block of 48 changed
    content = clip_bytes([(blocks(1), 1), (near, 1)])
    loose = upload(requester_client, project, [video_file(content)])
    assert len(frame_tasks(loose)) == 1
    other = make_project(images=0)
    strict = upload(requester_client, other, [video_file(content)], dedupe_distance="0")
    assert len(frame_tasks(strict)) == 2


def test_scene_sampling_takes_the_frame_where_the_picture_changes(requester_client, make_project):
    # given a cut at 2.3 s, between two ticks of a 1 fps rate
    project = make_project(images=0)
    content = clip_bytes([(blocks(1), 2.3), (blocks(2), 1.7)])
    # when sampled on scene change
    response = upload(requester_client, project, [video_file(content)], sample="scene", fps="10")
    # then the first frame and the cut itself are the tasks
    assert [t.metadata["video"]["time_s"] for t in frame_tasks(response)] == [0.0, 2.3]


def test_scene_sampling_takes_at_most_fps_frames_a_second(requester_client, make_project):
    project = make_project(images=0)
    content = clip_bytes([(blocks(seed), 0.1) for seed in range(20)])  # a cut every frame
    response = upload(requester_client, project, [video_file(content)], sample="scene", fps="2")
    times = [t.metadata["video"]["time_s"] for t in frame_tasks(response)]
    assert times == [0.0, 0.5, 1.0, 1.5]


def test_a_video_is_known_by_its_content_not_its_name(requester_client, make_project):
    project = make_project(images=0)
    response = upload(requester_client, project, [video_file(clip_bytes(FOUR_SCENES), "x.jpg")])
    assert len(frame_tasks(response)) == 4


def test_a_video_in_a_zip_becomes_frame_tasks_beside_its_images(requester_client, make_project):
    project = make_project(images=0)
    archive = zip_bytes(
        {"cam1/morning.mp4": clip_bytes(FOUR_SCENES), "cam1/still.png": png_bytes(seed=5)}
    )
    response = requester_client.post(
        f"/api/v1/projects/{project.pk}/tasks/",
        {"archive": SimpleUploadedFile("set.zip", archive), "camera": "cam1"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    tasks = Task.objects.filter(project=project)
    frames = [t for t in tasks if "video" in t.metadata]
    assert len(frames) == 4
    assert tasks.count() == 5
    assert {t.metadata["video"]["name"] for t in frames} == {"morning.mp4"}
    assert {t.metadata["group"]["camera"] for t in tasks} == {"cam1"}


def test_the_same_video_uploaded_again_makes_no_new_tasks(requester_client, make_project):
    project = make_project(images=0)
    content = clip_bytes(FOUR_SCENES)
    upload(requester_client, project, [video_file(content)])
    again = upload(requester_client, project, [video_file(content, "copy.mp4")])
    assert again.status_code == 201
    assert (again.json()["created"], again.json()["duplicates"]) == (0, 4)


# --- group metadata --------------------------------------------------------------------------

GROUP = {
    "camera": "gate-3",
    "site": "Soweto depot",
    "sequence": "2025-03-01-am",
    "captured_at": "2025-03-01T06:30:00+02:00",
}


def test_group_metadata_is_stored_on_every_task_of_the_upload(requester_client, make_project):
    project = make_project(images=0)
    files = [video_file(clip_bytes(FOUR_SCENES)), SimpleUploadedFile("a.png", png_bytes(seed=9))]
    response = upload(requester_client, project, files, **GROUP)
    assert response.status_code == 201, response.content
    tasks = Task.objects.filter(project=project)
    assert tasks.count() == 5
    expected = {**GROUP, "captured_at": "2025-03-01T04:30:00Z"}  # kept as UTC
    assert all(t.metadata["group"] == expected for t in tasks)


def test_group_metadata_is_listed_with_the_results(requester_client, make_project):
    project = make_project(images=0)
    upload(requester_client, project, [video_file(clip_bytes(FOUR_SCENES))], camera="gate-3")
    rows = requester_client.get(f"/api/v1/projects/{project.pk}/results/").json()["results"]
    assert len(rows) == 4
    assert {row["metadata"]["group"]["camera"] for row in rows} == {"gate-3"}
    assert {row["metadata"]["video"]["name"] for row in rows} == {"clip.mp4"}


def test_an_upload_without_group_metadata_stores_none(requester_client, make_project):
    project = make_project(images=0)
    upload(requester_client, project, [SimpleUploadedFile("a.png", png_bytes(seed=9))])
    assert Task.objects.get(project=project).metadata == {}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"camera": "c" * 101}, "camera", id="camera-too-long"),
        pytest.param({"site": "   "}, "site", id="site-blank"),
        pytest.param({"sequence": "a\x1b[31mb"}, "sequence", id="sequence-control-characters"),
        pytest.param({"captured_at": "2025-03-01T06:30:00"}, "captured_at", id="no-utc-offset"),
        pytest.param({"captured_at": "yesterday"}, "captured_at", id="not-a-time"),
        pytest.param({"captured_at": "2025-02-30T06:30:00Z"}, "captured_at", id="no-such-day"),
        pytest.param({"fps": "0"}, "fps", id="fps-zero"),
        pytest.param({"fps": "nan"}, "fps", id="fps-nan"),
        pytest.param({"fps": "1e9"}, "fps", id="fps-absurd"),
        pytest.param({"fps": "fast"}, "fps", id="fps-text"),
        pytest.param({"sample": "keyframes"}, "sample", id="sample-unknown"),
        pytest.param({"dedupe_distance": "99"}, "dedupe_distance", id="dedupe-too-far"),
        pytest.param({"dedupe_distance": "-1"}, "dedupe_distance", id="dedupe-negative"),
    ],
)
def test_bad_upload_options_are_refused_naming_the_field(
    requester_client, make_project, media_files, fields, field
):
    project = make_project(images=0)
    before = stored(media_files)
    response = upload(requester_client, project, [video_file(clip_bytes(FOUR_SCENES))], **fields)
    assert_refused(response, 400, field)
    assert stored(media_files) == before

"""A large zip's images copied by a child process (exports/copier.py): the same bytes and the same
skipped tasks as copying them in the export's own process, and no child left behind when the
export fails, is cancelled or loses the child. test_golden.py checks the bytes of every format
that copies ahead."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from exports import copier as copier_module
from exports import dataset as dataset_module
from exports import staging as staging_module
from exports.copier import CopierFailed, ImageCopier
from exports.dataset import dataset_write
from exports.image_files import ImageUnavailable
from exports.options import export_options_build
from exports.records import CANONICAL_JSON, canonical_json
from exports.writers.coco import CocoWriter
from tests.exports.helpers import bulk_accepted_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def copiers(monkeypatch) -> list[ImageCopier]:
    """Every copier the exports start (copying ahead from the first task, in small batches)."""
    started: list[ImageCopier] = []

    class Recorded(ImageCopier):
        def __init__(self, **kwargs) -> None:
            super().__init__(**kwargs)
            started.append(self)

    monkeypatch.setattr(staging_module, "ImageCopier", Recorded)
    monkeypatch.setattr(dataset_module, "IMAGES_AHEAD_FROM", 0)
    monkeypatch.setattr(dataset_module, "AHEAD_BATCH", 5)
    return started


def coco_zip(project, out: Path):
    options = export_options_build(kind="bbox", fmt="coco", split=None, min_confidence=None)
    return dataset_write(project=project, options=options, out=out, as_zip=True)


def images_of(project) -> list[Path]:
    media = Path(settings.MEDIA_ROOT)
    return [
        media / image for image in project.tasks.order_by("sha256").values_list("image", flat=True)
    ]


def test_missing_and_symlinked_images_skip_the_same_tasks_as_copying_in_process(
    accepted_project, tmp_path, monkeypatch, copiers
):
    # given a project whose 3rd image is gone and whose 8th is a symlink to another image
    project = accepted_project("bbox", images=0)
    bulk_accepted_tasks(project, 14)
    images = images_of(project)
    images[2].unlink()
    images[7].unlink()
    images[7].symlink_to(images[0])
    # when it is exported with the images copied in process, then by the child
    monkeypatch.setattr(dataset_module, "IMAGES_AHEAD_FROM", 10**9)
    here = coco_zip(project, tmp_path / "here.zip")
    monkeypatch.setattr(dataset_module, "IMAGES_AHEAD_FROM", 0)
    ahead = coco_zip(project, tmp_path / "ahead.zip")
    # then only the second started a child, and both skip the same two tasks for the same
    # reasons, in the same bytes
    assert len(copiers) == 1
    assert here.counts["skipped"] == {"missing_image": 1, "unsafe_image_reference": 1}
    assert ahead.counts == here.counts
    assert ahead.sha256 == here.sha256


def test_an_export_that_fails_midway_stops_its_copier_and_leaves_nothing(
    accepted_project, tmp_path, monkeypatch, copiers
):
    # given a writer that breaks on the 12th task, while the child is copying
    project = accepted_project("bbox", images=0)
    bulk_accepted_tasks(project, 30)
    calls = {"n": 0}
    add = CocoWriter.add

    def breaking(self, record):
        calls["n"] += 1
        if calls["n"] == 12:
            raise RuntimeError("disk on fire")
        return add(self, record)

    monkeypatch.setattr(CocoWriter, "add", breaking)
    out = tmp_path / "out.zip"
    # when it is exported
    with pytest.raises(RuntimeError, match="disk on fire"):
        coco_zip(project, out)
    # then the child has exited, and neither the zip nor a work folder is left
    assert len(copiers) == 1
    assert copiers[0]._child.poll() is not None
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".export-")] == []


def test_a_copier_that_dies_fails_the_export_and_leaves_nothing(
    accepted_project, tmp_path, monkeypatch, copiers
):
    # given a child killed after its first batch was sent (an OOM kill, a stray signal)
    project = accepted_project("bbox", images=0)
    bulk_accepted_tasks(project, 30)
    send = ImageCopier.send

    def send_then_die(self, images):
        send(self, images)
        self._child.kill()
        self._child.wait()

    monkeypatch.setattr(ImageCopier, "send", send_then_die)
    out = tmp_path / "out.zip"
    # when it is exported, then the export fails with the copier named, and leaves nothing
    with pytest.raises(CopierFailed, match="image copier"):
        coco_zip(project, out)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".export-")] == []


def test_a_small_export_copies_its_images_itself(accepted_project, tmp_path, monkeypatch):
    # given the default threshold and a project below it
    started = []
    monkeypatch.setattr(staging_module, "ImageCopier", lambda **kw: started.append(kw))
    project = accepted_project("bbox", images=0)
    bulk_accepted_tasks(project, 10)
    # when it is exported, then no child process is started
    coco_zip(project, tmp_path / "out.zip")
    assert started == []


def _copy_in_daemon(work: str, image: str, replies) -> None:
    """In a daemonic process, as a Celery prefork worker runs a task."""
    zip_path, central = Path(work, "a.zip"), Path(work, "central.bin")
    zip_path.touch()
    central.touch()
    copier = ImageCopier(zip_path=zip_path, central_path=central, log_path=Path(work, "log"))
    try:
        copier.send([("images/a.png", image), ("images/b.png", image + ".gone")])
        digest, size = copier.result("images/a.png")
        try:
            copier.result("images/b.png")
        except ImageUnavailable as exc:
            reason = exc.reason
        replies.put((size, reason, copier.finish()))
    finally:
        copier.kill()


def test_the_copier_starts_inside_a_daemonic_worker_process(tmp_path):
    # given a daemonic process (multiprocessing would refuse it a child of its own)
    image = tmp_path / "a.png"
    image.write_bytes(b"\x89PNG" + bytes(300))
    context = multiprocessing.get_context("fork")
    replies = context.Queue()
    worker = context.Process(
        target=_copy_in_daemon, args=(str(tmp_path), str(image), replies), daemon=True
    )
    # when it copies an image and a missing one through the copier
    worker.start()
    size, reason, (position, count) = replies.get(timeout=60)
    worker.join(timeout=60)
    # then the image is in the zip, and the missing one reported as the export reports it
    assert (size, reason, count) == (304, "missing_image", 1)
    assert position == os.path.getsize(tmp_path / "a.zip") > 304


def test_the_child_imports_no_django(tmp_path):
    # given the child's own command, asked which modules it loaded
    probe = copier_module.CHILD.replace("serve()", "print('django' in sys.modules)")
    done = subprocess.run(
        [sys.executable, "-c", probe, str(copier_module.ROOT)], capture_output=True, text=True
    )
    # then Django is not among them: the child holds no settings and no connection
    assert done.stdout.strip() == "False", done.stderr


@pytest.mark.parametrize(
    "value",
    [
        {"boxes": [{"label": 'é"\n', "bbox": [1, 2.5, 1e-05, float("nan")], "score": True}]},
        {"b": 1, "a": [None, {"z": "x", "y": -0.0}]},
        [],
        {"polygons": [{"label": "car", "points": [[1, 2], [3.25, 4], [5, 6e20]]}]},
    ],
)
def test_the_canonical_label_text_is_that_of_the_canonical_encoder(value):
    assert canonical_json(value) == CANONICAL_JSON.encode(value)

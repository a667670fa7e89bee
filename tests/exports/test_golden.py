"""Golden bytes: a fixed project exports to the very bytes it always has, in every format, as a
zip and as a folder. The hashes were taken before the exports were made faster; a change to any
output byte (a deflate setting, an entry's order, a number's text) fails here.

Everything that reaches the files is fixed: ids, image bytes, labels, how each label was accepted,
the tasks still open or in review, and the platform version. Most images are real PNGs, which
VOC re-encodes as JPEG: its bytes also depend on Pillow's JPEG encoder (a Pillow upgrade may
change the two VOC hashes alone).

To regenerate after a deliberate change: run this test, check that only the formats you meant
changed (the failure names them), and paste the GOLDEN it prints in place of the one below."""

from __future__ import annotations

import hashlib
import struct
import uuid
import zlib
from pathlib import Path

import pytest
from django.conf import settings

from annotations.models import Project, Task, TaskState
from consensus.models import ConsensusResult, Decision
from exports import dataset as dataset_module
from exports import manifest as manifest_module
from exports import staging as staging_module
from exports.copier import ImageCopier
from exports.dataset import dataset_write
from exports.options import export_options_build

pytestmark = pytest.mark.django_db

LABELS = ["car", "taxi", "bus stop", "é"]
TASKS = 400  # enough for a COCO JSON and tasks.csv well past 32 KB (deflated as they are written)
LEFT_OUT = 12  # tasks still open or in review, after the TASKS

# (format, as zip) -> sha256 of the zip, or of the folder's manifest.json
GOLDEN = {
    ("coco", True): "2d7fb2e75d9d443f2c64af9262a016d2b7755b6cad0b9c161211aa4416899f02",
    ("coco", False): "f467b80632cea2b98d5b6fba4825981c59b5822db77acdbe18fb731604602645",
    ("yolo", True): "4662ed2d9b949651722b628c0943a154f311d3336e449294623233b238c39f5d",
    ("yolo", False): "68a73e754c2c73851dba5521f2f5f61dbc9d9190a3ffa4f29bd1214501b6fc58",
    ("voc", True): "dc5be27e07acae0941b6ecb2678e19a4bb30de0eaffdc4023ff481e08e064efe",
    ("voc", False): "9b8139104557f3617f1c96fc036a58d17d716d8d5f5abdc6d74208bb08e55312",
    ("csv", True): "2d435104107c510869546c6829e38b04a448bf9373ab99b696e2c26bd6f84157",
    ("csv", False): "fd42414947a391a322e2da6e50d3a07d6f430b840a9049aba939da214196a65e",
    ("jsonl", True): "5e75d0eee56ed97f0f607897e41227729acdeaf6736d33d96f93824b7ede1abd",
    ("jsonl", False): "37d49ef8a8e0e5e13a9bd0edfb5ba41efb6872f26f4615aa9fd2563cd924cbca",
    ("imagefolder", True): "4ec22b067ae45f95e4ed9246fef7bd59ceedac7ea3b4379b89e90a836da905d9",
    ("imagefolder", False): "dfc2052ca8aeb37929a3618e264a665facf638f20e48a4e933e12d642da9fa46",
}


def fixed_id(*parts: object) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, "sebenzai-golden/" + "/".join(map(str, parts)))


def is_jpeg(i: int) -> bool:
    return i % 4 == 3


def image_bytes(i: int) -> bytes:
    """A real 3 × 2 PNG whose pixels spell ``i``, its data stored uncompressed (zlib level 0) so
    the bytes do not depend on the zlib build. A "JPEG" is a stand-in: JPEGs are copied by every
    format, never decoded."""
    if is_jpeg(i):
        return f"image {i};".encode() * (1 + i % 40)  # 8 bytes to a few hundred: stored either way
    pixels = bytes((i >> 8, i & 255, 7 * i % 256, 40, 90, 140, 190, 240, 30, 60, 120, 200))
    raw = b"\x00" + pixels[:9] + b"\x00" + pixels[3:]  # two rows of three RGB pixels

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 3, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 0))
        + chunk(b"IEND", b"")
    )


def bbox_label(i: int) -> dict:
    boxes = []
    for j in range(i % 7):
        x = [0, 1.5, 10.25, 100, 0.1 + 0.2, 1e-05, 333.333][j]
        box = {"label": LABELS[(i + j) % len(LABELS)], "bbox": [x, j * 2.5, 5 + j, 7.75 + i % 3]}
        if (i + j) % 5 == 0:
            box["score"] = [0.5, 1, 0.875][j % 3]
        boxes.append(box)
    if i % 11 == 0:
        boxes.append({"label": "unknown", "bbox": [1, 1, 1, 1]})
    if i % 13 == 0:
        boxes.append({"label": "car", "bbox": [1, 1, -1, 1]})
    return {"boxes": boxes}


def golden_project(owner, kind: str) -> Project:
    project = Project.objects.create(
        id=fixed_id("project", kind),
        owner=owner,
        name=f"golden {kind}",
        kind=kind,
        labels=[{"name": name, "color": "#123456"} for name in LABELS],
        status="active",
    )
    tasks = [golden_task(project, kind, i) for i in range(TASKS + LEFT_OUT)]
    Task.objects.bulk_create(tasks)
    ConsensusResult.objects.bulk_create(
        golden_result(task, i) for i, task in enumerate(tasks) if i % 3 or i >= TASKS
    )
    return project


def golden_task(project: Project, kind: str, i: int) -> Task:
    """Task ``i``: accepted (one gold, some by a model) below TASKS, open or in review after."""
    data = image_bytes(i)
    sha = hashlib.sha256(data).hexdigest()
    image = f"images/{sha[:2]}/{sha}.{'jpg' if is_jpeg(i) else 'png'}"
    path = Path(settings.MEDIA_ROOT) / image
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    label = bbox_label(i) if kind == "bbox" else {"label": LABELS[i % len(LABELS)]}
    decided = i < TASKS
    return Task(
        id=fixed_id(kind, i),
        project=project,
        image=image,
        sha256=sha,
        image_format="JPEG" if is_jpeg(i) else "PNG",
        width=640 + i % 3,
        height=480,
        state=TaskState.ACCEPTED if decided else [TaskState.OPEN, TaskState.REVIEW][i % 2],
        accepted_label=label if decided else None,
        confidence=[None, 0.9, 0.75, 1.0][i % 4],
        answers_count=3 + i % 2,
        target_redundancy=3,
        is_gold=i == 7,
        accepted_by_model=decided and i % 17 == 5,
    )


def golden_result(task: Task, i: int) -> ConsensusResult:
    """The consensus row: some settled by an admin; some left-out tasks have no label yet."""
    label = task.accepted_label
    if i >= TASKS and i % 3:
        label = bbox_label(i) if task.project.kind == "bbox" else {"label": LABELS[i % 4]}
    return ConsensusResult(
        task=task,
        label=label,
        confidence=0.5 + i % 5 / 10,
        method="review_edit" if i % 9 == 1 else "fused",
        decision={TaskState.ACCEPTED: Decision.ACCEPT, TaskState.OPEN: Decision.WAIT}.get(
            task.state, Decision.REVIEW
        ),
        answers=3,
    )


@pytest.fixture
def projects(requester, monkeypatch) -> dict[str, Project]:
    monkeypatch.setattr(manifest_module, "platform_version", lambda: "golden")
    return {kind: golden_project(requester, kind) for kind in ("bbox", "classification")}


def test_every_format_writes_the_bytes_it_always_has(projects, tmp_path):
    written = {}
    for fmt, as_zip in GOLDEN:
        project = projects["classification" if fmt == "imagefolder" else "bbox"]
        options = export_options_build(
            kind=project.kind, fmt=fmt, split=(0.6, 0.3, 0.1), min_confidence=None
        )
        out = tmp_path / f"{fmt}{'.zip' if as_zip else ''}"
        result = dataset_write(project=project, options=options, out=out, as_zip=as_zip)
        written[fmt, as_zip] = result.sha256 if as_zip else result.manifest_sha256
    changed = sorted(key for key in GOLDEN if written[key] != GOLDEN[key])
    assert not changed, f"changed: {changed}; GOLDEN would be:\n" + "\n".join(
        f'    ("{fmt}", {as_zip}): "{digest}",' for (fmt, as_zip), digest in written.items()
    )


@pytest.mark.parametrize("fmt", ["coco", "csv", "jsonl", "imagefolder"])
def test_images_copied_by_the_child_process_give_the_same_bytes(
    projects, tmp_path, monkeypatch, fmt
):
    # given every export's images copied ahead by the child, in batches that split the tasks
    monkeypatch.setattr(dataset_module, "IMAGES_AHEAD_FROM", 0)
    monkeypatch.setattr(dataset_module, "AHEAD_BATCH", 37)
    project = projects["classification" if fmt == "imagefolder" else "bbox"]
    options = export_options_build(
        kind=project.kind, fmt=fmt, split=(0.6, 0.3, 0.1), min_confidence=None
    )
    started = []
    monkeypatch.setattr(staging_module, "ImageCopier", _recorded(started))
    # when exported as a zip
    result = dataset_write(project=project, options=options, out=tmp_path / "out.zip", as_zip=True)
    # then a child copied the images, and the zip is the golden one
    assert len(started) == 1
    assert result.sha256 == GOLDEN[fmt, True]


def _recorded(started: list) -> type[ImageCopier]:
    class Recorded(ImageCopier):
        def __init__(self, **kwargs) -> None:
            super().__init__(**kwargs)
            started.append(self)

    return Recorded

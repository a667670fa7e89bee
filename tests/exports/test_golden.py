"""Golden bytes: a fixed project exports to the very bytes it always has, in every format, as a
zip and as a folder. The hashes were taken before the exports were made faster; a change to any
output byte (a deflate setting, an entry's order, a number's text) fails here.

Everything that reaches the files is fixed: ids, image bytes, labels and the platform version."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from annotations.models import Project, Task, TaskState
from exports import manifest as manifest_module
from exports.dataset import dataset_write
from exports.options import export_options_build

pytestmark = pytest.mark.django_db

LABELS = ["car", "taxi", "bus stop", "é"]
TASKS = 400  # enough for a COCO JSON and tasks.csv well past 32 KB (deflated as they are written)

# (format, as zip) -> sha256 of the zip, or of the folder's manifest.json
GOLDEN = {
    ("coco", True): "bec6595fe22dbbe5ae3f7a97b3cba41c0120441394a76395ee7c39edeffd0405",
    ("coco", False): "1e38cad744030e3d549d19f7ab1b30e377a76c9c56d5b55611e79a715c8be5f9",
    ("yolo", True): "9a849b91ca7b8064965922d4ea2694413e68b4d5d764970349a6d0a566c9a14a",
    ("yolo", False): "02b4ec31590586f19e6df0ad7c868dadd3365f3b71b22b79824b2c71715af6ad",
    ("voc", True): "5ce6d5bcb37827d6d40e3c2650189382db9372803908d5df1294a9ad5f533822",
    ("voc", False): "626dea3fe3b60018794644c8e26e528dfc8f93e862ed2152b13a29b2f6f54aa7",
    ("csv", True): "d1071ac371f71e68a7a5a2103fcfb719da360d762da49dc0ed9721f4dc17b182",
    ("csv", False): "2dc33bad8ce1065307a869314f83dd039360670a67f34b35b4063dce0cd222ee",
    ("jsonl", True): "87f2914605896b36870b47f17f6ccb5aad6ff4850da5deaa4dc9dcdeeae96782",
    ("jsonl", False): "c69a9b6b86741b8b7e1dcc303db587d49cec6fe4902da5fb5b2c55cfc7629936",
    ("imagefolder", True): "c045986294fd8b3ce6bad80bac69eb775c385ae34281f76d25df5cce0d6ad109",
    ("imagefolder", False): "d797c2b8f38719bd070066d8c08e57b13c524b8ac60cf9c2c32cf09abd2f68c3",
}


def fixed_id(*parts: object) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, "sebenzai-golden/" + "/".join(map(str, parts)))


def image_bytes(i: int) -> bytes:
    return f"image {i};".encode() * (1 + i % 40)  # 8 bytes to a few hundred: stored either way


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
    media = Path(settings.MEDIA_ROOT)
    tasks = []
    for i in range(TASKS):
        data = image_bytes(i)
        sha = hashlib.sha256(data).hexdigest()
        path = media / "images" / sha[:2] / f"{sha}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        label = bbox_label(i) if kind == "bbox" else {"label": LABELS[i % len(LABELS)]}
        tasks.append(
            Task(
                id=fixed_id(kind, i),
                project=project,
                image=f"images/{sha[:2]}/{sha}.png",
                sha256=sha,
                image_format="PNG",
                width=640 + i % 3,
                height=480,
                state=TaskState.ACCEPTED,
                accepted_label=label,
                confidence=[None, 0.9, 0.75, 1.0][i % 4],
                answers_count=3 + i % 2,
                target_redundancy=3,
                is_gold=i == 7,
            )
        )
    Task.objects.bulk_create(tasks)
    return project


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
    assert written == GOLDEN

"""Pascal VOC exports: every XML parses, with the accepted boxes; ImageSets split the images;
and the whole export is laid out as torchvision's VOCDetection reads it, every image a JPEG."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET  # noqa: S405 - parses only what the export just wrote
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image

from annotations.models import Task
from exports.dataset import dataset_write
from exports.options import export_options_build
from tests.exports.helpers import manifest_of, sha256, tree_bytes

pytestmark = pytest.mark.django_db

SPLITS = ("train", "val", "test")


def export_voc(project, out: Path, *, as_zip: bool = False, fmt: str = "voc") -> dict:
    options = export_options_build(
        kind=project.kind, fmt=fmt, split=(0.5, 0.25, 0.25), min_confidence=None
    )
    return dataset_write(project=project, options=options, out=out, as_zip=as_zip).counts


def stored_bytes(task: Task) -> bytes:
    return (Path(settings.MEDIA_ROOT) / task.image).read_bytes()


def voc_root(export_zip: Path, base: Path) -> Path:
    """The zip unpacked where VOCDetection(base, year="2007") looks: base/VOCdevkit/VOC2007."""
    root = base / "VOCdevkit" / "VOC2007"
    with zipfile.ZipFile(export_zip) as archive:
        archive.extractall(root)
    return root


def objects(path: Path) -> list[dict]:
    root = ET.parse(path).getroot()  # noqa: S314
    found = []
    for obj in root.iter("object"):
        box = obj.find("bndbox")
        polygon = obj.find("polygon")
        found.append(
            {
                "name": obj.findtext("name"),
                "box": [float(box.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax")],
                "polygon": [float(v.text) for v in polygon] if polygon is not None else None,
            }
        )
    return found


def test_voc_xml_holds_the_image_size_and_the_accepted_boxes(accepted_project, tmp_path):
    project = accepted_project("bbox", images=8)
    export_voc(project, tmp_path / "out")
    for task in Task.objects.filter(project=project):
        path = tmp_path / "out" / "Annotations" / f"{task.sha256}.xml"
        root = ET.parse(path).getroot()  # noqa: S314
        assert root.findtext("filename") == f"{task.sha256}.jpg"
        assert (tmp_path / "out" / "JPEGImages" / root.findtext("filename")).is_file()
        assert int(root.findtext("size/width")) == task.width
        assert int(root.findtext("size/height")) == task.height
        expected = [
            {"name": b["label"], "box": [x, y, x + w, y + h], "polygon": None}
            for b in task.accepted_label["boxes"]
            for x, y, w, h in [b["bbox"]]
        ]
        assert objects(path) == expected


def test_voc_polygons_have_their_bounds_and_points(accepted_project, tmp_path):
    project = accepted_project("polygon", images=6)
    export_voc(project, tmp_path / "out")
    for task in Task.objects.filter(project=project):
        found = objects(tmp_path / "out" / "Annotations" / f"{task.sha256}.xml")
        for obj, polygon in zip(found, task.accepted_label["polygons"], strict=True):
            xs = [p[0] for p in polygon["points"]]
            ys = [p[1] for p in polygon["points"]]
            assert obj["box"] == [min(xs), min(ys), max(xs), max(ys)]
            assert obj["polygon"] == [v for p in polygon["points"] for v in p]


def test_image_sets_partition_the_images_by_split(accepted_project, tmp_path):
    project = accepted_project("bbox", images=10)
    counts = export_voc(project, tmp_path / "out")
    sets = {
        split: (tmp_path / "out" / "ImageSets" / "Main" / f"{split}.txt").read_text().split()
        for split in ("train", "val", "test")
    }
    assert {k: len(v) for k, v in sets.items()} == {
        k: v for k, v in counts["images"].items() if k != "total"
    }
    every = [stem for ids in sets.values() for stem in ids]
    assert sorted(every) == sorted(
        Task.objects.filter(project=project).values_list("sha256", flat=True)
    )
    assert (tmp_path / "out" / "labels.txt").read_text() == "car\ntaxi\n"


def test_label_names_with_markup_are_escaped_not_injected(make_project, tmp_path):
    name = '</name><name>x&"y"'
    project = make_project("bbox", images=1, labels=[name])
    task = Task.objects.get(project=project)
    task.state, task.confidence = "accepted", 1.0
    task.accepted_label = {"boxes": [{"label": name, "bbox": [1, 1, 5, 5]}]}
    task.save()
    export_voc(project, tmp_path / "out")
    (obj,) = objects(tmp_path / "out" / "Annotations" / f"{task.sha256}.xml")
    assert obj["name"] == name


def test_a_voc_zip_has_the_layout_vocdetection_reads_for_every_split(accepted_project, tmp_path):
    # given a project whose images are PNGs, a JPEG and a WebP, exported as a VOC zip
    project = accepted_project("bbox", images=9, formats=("JPEG", "WEBP"))
    counts = export_voc(project, tmp_path / "voc.zip", as_zip=True)
    # when it is unpacked where VOCDetection(root, year="2007", image_set=split) looks
    root = voc_root(tmp_path / "voc.zip", tmp_path / "data")
    tasks = {t.sha256: t for t in Task.objects.filter(project=project)}
    seen = []
    for split in SPLITS:  # year 2007 is the one that allows image_set="test"
        # then every id its split file lists has JPEGImages/<id>.jpg, a JPEG of the task's size,
        # and Annotations/<id>.xml naming that file, read the way VOCDetection reads them
        lines = (root / "ImageSets" / "Main" / f"{split}.txt").read_text().splitlines()
        ids = [line.strip() for line in lines]
        assert len(ids) == counts["images"][split]
        for image_id in ids:
            with Image.open(root / "JPEGImages" / f"{image_id}.jpg") as image:
                assert image.format == "JPEG"
                assert image.convert("RGB").size == (tasks[image_id].width, tasks[image_id].height)
            xml = ET.parse(root / "Annotations" / f"{image_id}.xml").getroot()  # noqa: S314
            assert xml.findtext("filename") == f"{image_id}.jpg"
            assert [o.findtext("name") for o in xml.iter("object")] == [
                b["label"] for b in tasks[image_id].accepted_label["boxes"]
            ]
        seen += ids
    assert sorted(seen) == sorted(tasks)


def test_voc_reencodes_png_and_webp_as_jpeg_and_copies_a_jpeg_byte_for_byte(
    accepted_project, tmp_path
):
    project = accepted_project("bbox", images=3, formats=("JPEG", "WEBP"))
    export_voc(project, tmp_path / "voc")
    files = tree_bytes(tmp_path / "voc")
    for task in Task.objects.filter(project=project):
        exported = files[f"JPEGImages/{task.sha256}.jpg"]
        if task.image_format == "JPEG":
            assert exported == stored_bytes(task)
            continue
        # a re-encoded JPEG at quality 95 keeps the pixels, near enough to train on
        with Image.open(io.BytesIO(stored_bytes(task))) as original:
            before = original.convert("RGB").tobytes()
        with Image.open(io.BytesIO(exported)) as jpeg:
            assert (jpeg.format, jpeg.mode, jpeg.size) == ("JPEG", "RGB", (task.width, task.height))
            after = jpeg.tobytes()
        assert sum(abs(a - b) for a, b in zip(before, after, strict=True)) / len(before) < 2
    manifest = manifest_of(tmp_path / "voc")
    assert manifest["images"]["copied"] == 1
    assert manifest["images"]["reencoded_as_jpeg"] == 2  # the PNG and the WebP
    assert "quality 95" in manifest["images"]["rule"]
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    assert all(listed[rel] == sha256(data) for rel, data in files.items() if rel in listed)


def test_only_voc_reencodes_other_formats_copy_png_and_webp_as_they_are(accepted_project, tmp_path):
    project = accepted_project("bbox", images=3, formats=("WEBP",))
    export_voc(project, tmp_path / "coco", fmt="coco")
    files = tree_bytes(tmp_path / "coco")
    for task in Task.objects.filter(project=project):
        ext = {"PNG": "png", "WEBP": "webp"}[task.image_format]
        rel = next(r for r in files if r.endswith(f"/{task.sha256}.{ext}"))
        assert files[rel] == stored_bytes(task)
    assert manifest_of(tmp_path / "coco")["images"] == {
        "rule": "copied byte for byte, named <sha256>.<jpg|png|webp>",
        "copied": 3,
    }


def test_a_png_that_cannot_be_decoded_is_left_out_of_voc_and_counted(accepted_project, tmp_path):
    # given an accepted task whose stored PNG has been damaged since upload
    project = accepted_project("bbox", images=4)
    broken = Task.objects.filter(project=project).order_by("sha256").first()
    (Path(settings.MEDIA_ROOT) / broken.image).write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    # when it is exported as VOC
    counts = export_voc(project, tmp_path / "voc")
    # then it is skipped with a reason, and nothing of it is written
    assert counts["skipped"] == {"unreadable_image": 1}
    assert counts["images"]["total"] == 3
    files = tree_bytes(tmp_path / "voc")
    assert not [rel for rel in files if broken.sha256 in rel and rel != "tasks.csv"]
    assert broken.sha256 not in "".join(files[f"ImageSets/Main/{s}.txt"].decode() for s in SPLITS)


def test_a_voc_export_loads_in_torchvision_vocdetection(accepted_project, tmp_path):
    datasets = pytest.importorskip(
        "torchvision.datasets",
        reason="torchvision is not installed here; the layout test above checks what it reads",
    )
    project = accepted_project("bbox", images=9, formats=("JPEG", "WEBP"))
    counts = export_voc(project, tmp_path / "voc.zip", as_zip=True)
    voc_root(tmp_path / "voc.zip", tmp_path / "data")
    for split in SPLITS:
        dataset = datasets.VOCDetection(str(tmp_path / "data"), year="2007", image_set=split)
        assert len(dataset) == counts["images"][split]
        for image, target in dataset:
            assert image.mode == "RGB"
            assert target["annotation"]["filename"].endswith(".jpg")

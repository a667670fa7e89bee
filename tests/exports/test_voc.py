"""Pascal VOC exports: every XML parses, with the accepted boxes; ImageSets split the images."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - parses only what the export just wrote
from pathlib import Path

import pytest

from annotations.models import Task
from exports.dataset import dataset_write
from exports.options import export_options_build

pytestmark = pytest.mark.django_db


def export_voc(project, out: Path) -> dict:
    options = export_options_build(
        kind=project.kind, fmt="voc", split=(0.5, 0.25, 0.25), min_confidence=None
    )
    return dataset_write(project=project, options=options, out=out, as_zip=False).counts


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
        assert root.findtext("filename") == f"{task.sha256}.png"
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

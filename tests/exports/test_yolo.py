"""YOLO exports: every label line parses back to the accepted shapes, data.yaml reads as
Ultralytics reads it, and every image has its label file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from annotations.models import Task
from exports.dataset import dataset_write
from exports.options import export_options_build

pytestmark = pytest.mark.django_db


def export_yolo(project, out: Path, split=(0.5, 0.25, 0.25)) -> dict:
    options = export_options_build(kind=project.kind, fmt="yolo", split=split, min_confidence=None)
    return dataset_write(project=project, options=options, out=out, as_zip=False).counts


def label_lines(out: Path) -> dict[str, list[list[str]]]:
    return {
        p.stem: [line.split() for line in p.read_text().splitlines()]
        for p in (out / "labels").rglob("*.txt")
    }


def test_data_yaml_names_the_splits_and_classes_relative_to_its_own_folder(
    accepted_project, tmp_path
):
    project = accepted_project("bbox", images=8)
    export_yolo(project, tmp_path / "out")
    data = yaml.safe_load((tmp_path / "out" / "data.yaml").read_text())
    # Ultralytics takes an empty path as "the folder holding data.yaml"
    root = Path(data["path"] or tmp_path / "out")
    assert data["path"] == ""
    assert {k: data[k] for k in ("train", "val", "test")} == {
        s: f"images/{s}" for s in ("train", "val", "test")
    }
    assert data["nc"] == 2
    assert data["names"] == {0: "car", 1: "taxi"}
    for split in ("train", "val", "test"):
        assert (root / data[split]).is_dir()


def test_every_image_has_a_label_file_and_every_label_file_an_image(accepted_project, tmp_path):
    project = accepted_project("bbox", images=8)
    export_yolo(project, tmp_path / "out")
    out = tmp_path / "out"
    images = {(p.parent.name, p.stem) for p in (out / "images").rglob("*.png")}
    labels = {(p.parent.name, p.stem) for p in (out / "labels").rglob("*.txt")}
    assert images == labels
    assert len(images) == 8


def test_yolo_box_lines_are_normalised_centres_and_sizes_of_the_accepted_boxes(
    accepted_project, tmp_path
):
    project = accepted_project("bbox", images=8)
    export_yolo(project, tmp_path / "out")
    lines = label_lines(tmp_path / "out")
    for task in Task.objects.filter(project=project):
        rows = lines[task.sha256]
        boxes = task.accepted_label["boxes"]
        assert len(rows) == len(boxes)  # an image without boxes has an empty file
        for row, box in zip(rows, boxes, strict=True):
            assert len(row) == 5
            cls, cx, cy, w, h = int(row[0]), *map(float, row[1:])
            assert ["car", "taxi"][cls] == box["label"]
            assert all(0.0 <= v <= 1.0 for v in (cx, cy, w, h))
            x, y, bw, bh = box["bbox"]
            assert (cx - w / 2) * task.width == pytest.approx(x, abs=1e-3)
            assert (cy - h / 2) * task.height == pytest.approx(y, abs=1e-3)
            assert w * task.width == pytest.approx(bw, abs=1e-3)
            assert h * task.height == pytest.approx(bh, abs=1e-3)


def test_yolo_polygon_lines_list_every_normalised_point(accepted_project, tmp_path):
    project = accepted_project("polygon", images=8)
    export_yolo(project, tmp_path / "out")
    lines = label_lines(tmp_path / "out")
    for task in Task.objects.filter(project=project):
        polygons = task.accepted_label["polygons"]
        for row, polygon in zip(lines[task.sha256], polygons, strict=True):
            assert ["car", "taxi"][int(row[0])] == polygon["label"]
            coords = list(map(float, row[1:]))
            assert len(coords) == 2 * len(polygon["points"])
            for (x, y), (u, v) in zip(
                polygon["points"], zip(coords[::2], coords[1::2], strict=True), strict=True
            ):
                assert u * task.width == pytest.approx(x, abs=1e-3)
                assert v * task.height == pytest.approx(y, abs=1e-3)


def test_boxes_overshooting_the_image_are_clamped_into_it(accepted_project, tmp_path):
    project = accepted_project("bbox", images=1)
    task = Task.objects.get(project=project)
    task.accepted_label = {"boxes": [{"label": "taxi", "bbox": [-2, 40, 70, 20]}]}
    task.save()
    export_yolo(project, tmp_path / "out", split=(1.0, 0.0, 0.0))
    (row,) = label_lines(tmp_path / "out")[task.sha256]
    assert row == ["1", "0.500000", "0.916667", "1.000000", "0.166667"]


def test_label_names_that_look_like_yaml_survive_in_data_yaml(make_project, tmp_path):
    names = ["a: b", '"quoted" #not-a-comment', "ünï ✓", "- dash", "null"]
    project = make_project("bbox", images=1, labels=names)
    task = Task.objects.get(project=project)
    task.state, task.confidence = "accepted", 1.0
    task.accepted_label = {"boxes": [{"label": names[4], "bbox": [1, 1, 5, 5]}]}
    task.save()
    export_yolo(project, tmp_path / "out", split=(0.5, 0.5, 0.0))
    data = yaml.safe_load((tmp_path / "out" / "data.yaml").read_text())
    assert data["names"] == dict(enumerate(names))
    assert "test" not in data  # a split with ratio 0 is left out

"""COCO exports load in pycocotools without a warning, and hold exactly the accepted labels."""

from __future__ import annotations

import contextlib
import io
import json
import warnings
from pathlib import Path

import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from annotations.models import Task
from exports.dataset import dataset_write
from exports.options import export_options_build
from exports.shapes import polygon_area

pytestmark = pytest.mark.django_db

SPLIT = [0.5, 0.25, 0.25]


def export_coco(project, out: Path) -> dict:
    options = export_options_build(kind=project.kind, fmt="coco", split=SPLIT, min_confidence=None)
    return dataset_write(project=project, options=options, out=out, as_zip=False).counts


def load(path: Path) -> COCO:
    """pycocotools, with every warning an error and its progress prints silenced."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("error")
        return COCO(str(path))


def accepted_by_task(project) -> dict[str, dict]:
    tasks = Task.objects.filter(project=project, state="accepted", is_gold=False)
    return {str(t.pk): t.accepted_label for t in tasks}


@pytest.mark.parametrize("kind", ["bbox", "polygon"])
def test_every_coco_split_loads_in_pycocotools_with_the_counts_of_the_manifest(
    accepted_project, tmp_path, kind
):
    # given a project with accepted shapes (and a gold task that must stay out)
    project = accepted_project(kind, images=9, gold=1)
    # when it is exported as COCO
    counts = export_coco(project, tmp_path / "out")
    # then each split's file loads, with that split's images and objects
    for split in ("train", "val", "test"):
        coco = load(tmp_path / "out" / "annotations" / f"instances_{split}.json")
        assert len(coco.getImgIds()) == counts["images"][split]
        assert len(coco.getAnnIds()) == counts["objects"][split]
        assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == ["car", "taxi"]
        for image in coco.loadImgs(coco.getImgIds()):
            assert (tmp_path / "out" / "images" / split / image["file_name"]).is_file()
    assert counts["images"]["total"] == 9


def test_coco_boxes_are_the_accepted_boxes_with_their_area_and_no_crowd(accepted_project, tmp_path):
    project = accepted_project("bbox", images=9)
    export_coco(project, tmp_path / "out")
    accepted = accepted_by_task(project)
    seen = 0
    for split in ("train", "val", "test"):
        coco = load(tmp_path / "out" / "annotations" / f"instances_{split}.json")
        names = {c["id"]: c["name"] for c in coco.loadCats(coco.getCatIds())}
        for image in coco.loadImgs(coco.getImgIds()):
            anns = coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]]))
            expected = accepted[image["task_id"]]["boxes"]
            got = [{"label": names[a["category_id"]], "bbox": a["bbox"]} for a in anns]
            assert got == [{"label": b["label"], "bbox": b["bbox"]} for b in expected]
            for ann in anns:
                assert ann["iscrowd"] == 0
                assert ann["area"] == pytest.approx(ann["bbox"][2] * ann["bbox"][3])
                assert ann["segmentation"] == []
            seen += 1
    assert seen == len(accepted)


def test_coco_polygons_keep_their_ring_bounds_and_area_and_rasterise(accepted_project, tmp_path):
    project = accepted_project("polygon", images=9)
    export_coco(project, tmp_path / "out")
    accepted = accepted_by_task(project)
    for split in ("train", "val", "test"):
        coco = load(tmp_path / "out" / "annotations" / f"instances_{split}.json")
        for image in coco.loadImgs(coco.getImgIds()):
            anns = coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]]))
            for ann, polygon in zip(anns, accepted[image["task_id"]]["polygons"], strict=True):
                points = polygon["points"]
                assert ann["segmentation"] == [[v for p in points for v in p]]
                xs, ys = [p[0] for p in points], [p[1] for p in points]
                assert ann["bbox"] == [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
                assert ann["area"] == pytest.approx(polygon_area(tuple(map(tuple, points))))
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    # pycocotools' own decoder warns under numpy 2, whatever the data
                    warnings.filterwarnings(
                        "ignore", "__array__ implementation", DeprecationWarning
                    )
                    assert coco.annToMask(ann).sum() > 0


def test_a_coco_export_scores_perfectly_against_itself_in_cocoeval(accepted_project, tmp_path):
    # given a COCO export, and its own boxes posed as detections
    project = accepted_project("bbox", images=12)
    export_coco(project, tmp_path / "out")
    path = tmp_path / "out" / "annotations" / "instances_train.json"
    truth = load(path)
    detections = [{**a, "score": 1.0} for a in json.loads(path.read_text())["annotations"]]
    # when pycocotools evaluates them
    with contextlib.redirect_stdout(io.StringIO()):
        results = truth.loadRes(detections)
        evaluation = COCOeval(truth, results, "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    # then the file is a usable ground truth: AP 1.0
    assert evaluation.stats[0] == pytest.approx(1.0)


def test_objects_with_unknown_labels_or_bad_geometry_stay_out_and_are_counted(
    accepted_project, tmp_path
):
    project = accepted_project("bbox", images=3)
    task = Task.objects.filter(project=project).order_by("sha256").first()
    task.accepted_label = {
        "boxes": [
            {"label": "car", "bbox": [1, 1, 5, 5], "score": 0.7},
            {"label": "bicycle", "bbox": [1, 1, 5, 5]},
            {"label": "car", "bbox": [1, 1, -5, 5]},
            {"label": "car", "bbox": [1, 1, "x", 5]},
        ]
    }
    task.save()
    counts = export_coco(project, tmp_path / "out")
    assert counts["skipped"] == {"objects_unknown_label": 1, "objects_unreadable": 2}
    rows = []
    for split in ("train", "val", "test"):
        data = json.loads(
            (tmp_path / "out" / "annotations" / f"instances_{split}.json").read_text()
        )
        rows += [i for i in data["images"] if i["task_id"] == str(task.pk)]
    assert len(rows) == 1

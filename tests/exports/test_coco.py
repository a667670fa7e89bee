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
from consensus.models import ConsensusResult, Decision
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


def decided_by_each_way(project) -> dict[str, str | None]:
    """The project's tasks, in sha256 order, accepted by a model, an admin, the crowd, and by no
    recorded way; returns the expected ``accepted_by`` per task id."""
    first, second, third, *rest = Task.objects.filter(project=project).order_by("sha256")
    Task.objects.filter(pk=first.pk).update(accepted_by_model=True)
    ConsensusResult.objects.create(
        task=first, label=first.accepted_label, confidence=0.9, method="model_auto",
        decision=Decision.ACCEPT, answers=0,
    )  # fmt: skip
    for task, method in ((second, "review_edit"), (third, "boxes")):
        ConsensusResult.objects.create(
            task=task, label=task.accepted_label, confidence=0.8, method=method,
            decision=Decision.ACCEPT, answers=3,
        )  # fmt: skip
    expected = {str(first.pk): "model", str(second.pk): "review", str(third.pk): "consensus"}
    return expected | {str(task.pk): None for task in rest}


def coco_files(root: Path) -> list[Path]:
    return [root / "annotations" / f"instances_{split}.json" for split in ("train", "val", "test")]


def test_coco_carries_each_objects_score_and_each_images_confidence_and_acceptance(
    accepted_project, tmp_path
):
    # given accepted boxes, some with a fused score, decided in each of the ways there are
    project = accepted_project("bbox", images=9)
    expected_by = decided_by_each_way(project)
    Task.objects.filter(pk__in=list(expected_by)[3:5]).update(confidence=None)
    tasks = {str(t.pk): t for t in Task.objects.filter(project=project)}
    # when it is exported as COCO and loaded with pycocotools
    export_coco(project, tmp_path / "out")
    seen = {}
    for path in coco_files(tmp_path / "out"):
        coco = load(path)
        for image in coco.loadImgs(coco.getImgIds()):
            task = tasks[image["task_id"]]
            seen[image["task_id"]] = image["accepted_by"]
            # then each image has its task's confidence (null when none) and how it was accepted
            assert image["confidence"] == task.confidence
            # and each object its fused score, or no score at all
            anns = coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]]))
            boxes = task.accepted_label["boxes"]
            assert [a.get("score") for a in anns] == [b.get("score") for b in boxes]
            assert ["score" in a for a in anns] == ["score" in b for b in boxes]
    assert seen == expected_by
    assert any(t.confidence is None for t in tasks.values())


def test_scored_coco_objects_load_as_detections_in_pycocotools(accepted_project, tmp_path):
    # given a COCO export in which some objects carry a fused score
    project = accepted_project("bbox", images=12)
    export_coco(project, tmp_path / "out")
    path = tmp_path / "out" / "annotations" / "instances_train.json"
    truth = load(path)
    scored = [a for a in json.loads(path.read_text())["annotations"] if "score" in a]
    assert scored
    # when those objects are posed as detections with their own scores
    with contextlib.redirect_stdout(io.StringIO()):
        results = truth.loadRes(scored)
        evaluation = COCOeval(truth, results, "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
    # then pycocotools takes them with those scores, matched to their ground truth
    assert sorted(a["score"] for a in results.dataset["annotations"]) == sorted(
        a["score"] for a in scored
    )
    matched = [e for e in evaluation.evalImgs if e is not None and len(e["dtIds"])]
    assert matched
    assert all((e["dtMatches"][0] > 0).all() for e in matched)  # at IoU 0.5, each found its box

"""CSV and JSON lines: one row per accepted shape or label, with confidence and answers."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from annotations.models import Task
from exports.dataset import dataset_write
from exports.options import export_options_build

pytestmark = pytest.mark.django_db


def export_rows(project, fmt: str, out: Path) -> list[dict]:
    options = export_options_build(
        kind=project.kind, fmt=fmt, split=(0.5, 0.25, 0.25), min_confidence=None
    )
    dataset_write(project=project, options=options, out=out, as_zip=False)
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO((out / "labels.csv").read_text())))
    return [json.loads(line) for line in (out / "labels.jsonl").read_text().splitlines()]


def test_csv_has_one_row_per_box_and_one_for_an_image_without_boxes(accepted_project, tmp_path):
    project = accepted_project("bbox", images=6)
    rows = export_rows(project, "csv", tmp_path / "out")
    tasks = {str(t.pk): t for t in Task.objects.filter(project=project)}
    expected = sum(max(1, len(t.accepted_label["boxes"])) for t in tasks.values())
    assert len(rows) == expected
    for row in rows:
        task = tasks[row["task"]]
        assert (tmp_path / "out" / row["image"]).is_file()
        assert float(row["confidence"]) == task.confidence
        assert int(row["answers"]) == task.answers_count
        boxes = task.accepted_label["boxes"]
        if not boxes:
            assert row["label"] == row["x"] == row["score"] == ""
            continue
        box = [b for b in boxes if b["label"] == row["label"]][0]
        assert [float(row[k]) for k in "xywh"] == box["bbox"]
        assert row["score"] == (str(box["score"]) if "score" in box else "")


def test_jsonl_keeps_shapes_as_json_and_nulls_for_missing_values(accepted_project, tmp_path):
    project = accepted_project("polygon", images=6)
    rows = export_rows(project, "jsonl", tmp_path / "out")
    tasks = {str(t.pk): t for t in Task.objects.filter(project=project)}
    for row in rows:
        polygons = tasks[row["task"]].accepted_label["polygons"]
        assert set(row) == {
            "image", "split", "task", "width", "height", "label", "points", "score",
            "confidence", "answers",
        }  # fmt: skip
        if not polygons:
            assert row["label"] is None
            assert row["points"] is None
        else:
            assert row["points"] in [p["points"] for p in polygons]


def test_classification_and_moderation_rows_are_one_per_image(accepted_project, tmp_path):
    classification = export_rows(
        accepted_project("classification", images=5), "csv", tmp_path / "c"
    )
    assert len(classification) == 5
    assert {r["label"] for r in classification} <= {"car", "taxi", "truck"}
    moderation = export_rows(accepted_project("moderation", images=4), "jsonl", tmp_path / "m")
    assert len(moderation) == 4
    for row in moderation:
        assert (row["verdict"] == "safe") == (row["categories"] == [])


def test_a_label_a_spreadsheet_would_run_as_a_formula_is_written_as_text(make_project, tmp_path):
    formula = "=cmd|' /C calc'!A0"
    project = make_project("classification", images=1, labels=[formula, "+taxi", "car"])
    Task.objects.filter(project=project).update(
        state="accepted", accepted_label={"label": formula}, confidence=0.9, answers_count=3
    )
    (row,) = export_rows(project, "csv", tmp_path / "out")
    assert row["label"] == "'" + formula
    # JSON lines are data for programs, not spreadsheets: the label as it is
    (line,) = export_rows(project, "jsonl", tmp_path / "jsonl")
    assert line["label"] == formula

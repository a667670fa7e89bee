"""CSV (``labels.csv``) and JSON lines (``labels.jsonl``), with the images in ``images/<split>/``.

One row per accepted shape (bbox, polygon) or per image (classification, moderation), with the
task's confidence and its number of answers. An image whose accepted label has no shapes still
gets one row with empty shape fields, so deliberate negatives are not lost. A fused object's
``score`` is kept when consensus gave one.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from sebenzai.common.spreadsheet import cell_safe

from ..records import Record
from ..staging import StagedFile
from .base import Writer

COMMON = ["image", "split", "task", "width", "height"]
COLUMNS = {
    "bbox": [*COMMON, "label", "x", "y", "w", "h", "score", "confidence", "answers"],
    "polygon": [*COMMON, "label", "points", "score", "confidence", "answers"],
    "classification": [*COMMON, "label", "confidence", "answers"],
    "moderation": [*COMMON, "verdict", "categories", "confidence", "answers"],
}


def _rows(kind: str, record: Record, image: str) -> Iterator[dict[str, Any]]:
    """The rows of one record as Python values (None for "no value"), in column order."""
    base = {
        "image": image,
        "split": record.split,
        "task": record.task_id,
        "width": record.width,
        "height": record.height,
    }
    tail = {"confidence": record.confidence, "answers": record.answers}
    if kind == "classification":
        yield {**base, "label": record.tag, **tail}
        return
    if kind == "moderation":
        yield {**base, "verdict": record.tag, "categories": record.categories, **tail}
        return
    key = "bbox" if kind == "bbox" else "points"
    if not record.shapes:
        yield {**base, "label": None, key: None, "score": None, **tail}
    for s in record.shapes:
        geometry = [s.x, s.y, s.w, s.h] if kind == "bbox" else [list(p) for p in s.points or ()]
        yield {**base, "label": s.label, key: geometry, "score": s.score, **tail}


class _TabularWriter(Writer):
    file_name = ""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._out: StagedFile = self.staging.open(self.file_name)
        for split in self.options.active_splits:
            self.staging.mkdir(f"images/{split}")

    def add(self, record: Record) -> str:
        rel = f"images/{record.split}/{record.file_name}"
        self.staging.image(rel, record.source)
        for row in _rows(self.project.kind, record, rel):
            self._write(row)
        return rel

    def _write(self, row: dict[str, Any]) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        self._out.close()


class CsvWriter(_TabularWriter):
    """Empty cells for missing values; polygon points as JSON; categories joined with ``;``."""

    file_name = "labels.csv"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._columns = COLUMNS[self.project.kind]
        self._csv = csv.writer(self._out, lineterminator="\n")
        self._csv.writerow(self._columns)

    def _write(self, row: dict[str, Any]) -> None:
        bbox = row.pop("bbox", None)
        if bbox is not None:
            row.update(zip(("x", "y", "w", "h"), bbox, strict=True))
        if row.get("points") is not None:
            row["points"] = json.dumps(row["points"], separators=(",", ":"))
        if "categories" in row:
            row["categories"] = ";".join(row["categories"])
        self._csv.writerow([_cell(row.get(c)) for c in self._columns])


def _cell(value: Any) -> Any:
    """Empty for no value; text (labels, categories) never read as a spreadsheet formula."""
    if value is None:
        return ""
    return cell_safe(value) if isinstance(value, str) else value


class JsonlWriter(_TabularWriter):
    """A box as ``"bbox": [x, y, w, h]``; ``null`` for missing values."""

    file_name = "labels.jsonl"

    def _write(self, row: dict[str, Any]) -> None:
        self._out.write(json.dumps(row, separators=(",", ":")) + "\n")

"""CSV and JSON lines rows are written field by field for speed; their bytes stay those of the
plain way — a dict per row through csv.writer or json.dumps — for any label, number or gap."""

from __future__ import annotations

import csv
import io
import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from exports.options import ExportOptions
from exports.records import ProjectInfo, Record
from exports.shapes import Shape
from exports.writers.tabular import COLUMNS, CsvWriter, JsonlWriter
from sebenzai.common.spreadsheet import cell_safe


class TextSink:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def close(self) -> None:
        pass


class Staging:
    """Just enough of a staging for a writer: the text of its one file."""

    def __init__(self) -> None:
        self.file = TextSink()

    def open(self, rel: str) -> TextSink:
        return self.file

    def mkdir(self, rel: str) -> None:
        pass

    def image(self, rel: str, source: str) -> None:
        pass


def reference_rows(kind: str, record: Record, image: str) -> list[dict]:
    """A row as a dict, in column order: the plain way the formats were first written."""
    base = {
        "image": image,
        "split": record.split,
        "task": record.task_id,
        "width": record.width,
        "height": record.height,
    }
    tail = {"confidence": record.confidence, "answers": record.answers}
    if kind == "classification":
        return [{**base, "label": record.tag, **tail}]
    if kind == "moderation":
        return [{**base, "verdict": record.tag, "categories": record.categories, **tail}]
    key = "bbox" if kind == "bbox" else "points"
    rows = [] if record.shapes else [{**base, "label": None, key: None, "score": None, **tail}]
    for s in record.shapes:
        geometry = [s.x, s.y, s.w, s.h] if kind == "bbox" else [list(p) for p in s.points or ()]
        rows.append({**base, "label": s.label, key: geometry, "score": s.score, **tail})
    return rows


def reference_cell(value):
    """A CSV cell as the export has always written it: text a spreadsheet would run as a
    formula gets a leading quote."""
    if value is None:
        return ""
    return cell_safe(value) if isinstance(value, str) else value


def reference_csv(kind: str, records: list[Record]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS[kind])
    for record in records:
        for row in reference_rows(kind, record, f"images/{record.split}/{record.file_name}"):
            bbox = row.pop("bbox", None)
            if bbox is not None:
                row.update(zip(("x", "y", "w", "h"), bbox, strict=True))
            if row.get("points") is not None:
                row["points"] = json.dumps(row["points"], separators=(",", ":"))
            if "categories" in row:
                row["categories"] = ";".join(row["categories"])
            writer.writerow([reference_cell(row.get(c)) for c in COLUMNS[kind]])
    return out.getvalue()


def reference_jsonl(kind: str, records: list[Record]) -> str:
    return "".join(
        json.dumps(row, separators=(",", ":")) + "\n"
        for record in records
        for row in reference_rows(kind, record, f"images/{record.split}/{record.file_name}")
    )


def written(writer_class, kind: str, records: list[Record]) -> str:
    staging = Staging()
    writer = writer_class(
        staging=staging,
        project=ProjectInfo("p", "project", kind, ()),
        options=ExportOptions(writer_class.file_name.split(".")[1]),
        scratch=None,
    )
    for record in records:
        writer.add(record)
    writer.finish()
    return staging.file.text


def record(**fields) -> Record:
    given_fields = {
        "task_id": "0b5c3c43-51e4-4a4c-9a68-3c1a1f1f2a11",
        "sha256": "ab" * 32,
        "ext": "jpg",
        "width": 640,
        "height": 480,
        "split": "train",
        "source": "/dev/null",
        "confidence": 0.875,
        "answers": 3,
    }
    return Record(**{**given_fields, **fields})


def box(label: str, x, y, w, h, score=None) -> Shape:
    return Shape(label, x, y, w, h, None, round(w * h, 4), score)


def polygon(label: str, points, score=None) -> Shape:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x, y = min(xs), min(ys)
    return Shape(label, x, y, max(xs) - x, max(ys) - y, tuple(points), 1.0, score)


AWKWARD_LABELS = ["car", "traffic light", 'say "hi"', "a,b", "line\nbreak", "cr\rlf", "é🚗", ""]
AWKWARD_NUMBERS = [0, 7, -3, 1.5, 1e-05, 1e20, 123.456789012345, 0.1 + 0.2]


def awkward_records(kind: str) -> list[Record]:
    records = [
        record(confidence=None),
        record(confidence=math.nan, width=None),
        record(confidence=math.inf, answers=0, split="val"),
    ]
    for i, label in enumerate(AWKWARD_LABELS):
        n = AWKWARD_NUMBERS[i % len(AWKWARD_NUMBERS)]
        score = [None, 0.5, 1, n][i % 4]
        if kind == "bbox":
            shapes = [box(label, n, 2, 3.25, n + 10, score), box("car", 1, 1, 1, 1)]
            records.append(record(shapes=shapes, task_id=f"task-{i}"))
        elif kind == "polygon":
            shapes = [polygon(label, [(n, 0), (4.5, 1), (2, 7)], score)]
            records.append(record(shapes=shapes, confidence=n))
        elif kind == "classification":
            records.append(record(tag=label, confidence=score))
        else:
            categories = [] if i % 3 == 0 else sorted({label, "violence"})
            records.append(record(tag="unsafe" if categories else "safe", categories=categories))
    return records


def test_awkward_labels_numbers_and_gaps_are_written_as_the_plain_way_writes_them():
    for kind in COLUMNS:
        records = awkward_records(kind)
        assert written(CsvWriter, kind, records) == reference_csv(kind, records), kind
        assert written(JsonlWriter, kind, records) == reference_jsonl(kind, records), kind


numbers = st.one_of(
    st.integers(-(10**6), 10**6), st.floats(allow_nan=False, allow_infinity=False, width=64)
)
labels = st.text(max_size=12)


@settings(max_examples=150, deadline=None)
@given(
    boxes=st.lists(
        st.tuples(labels, numbers, numbers, numbers, numbers, st.none() | numbers), max_size=4
    ),
    confidence=st.none() | st.floats(width=64),
    task_id=labels,
)
def test_any_boxes_are_written_as_the_plain_way_writes_them(boxes, confidence, task_id):
    shapes = [box(label, x, y, w, h, score) for label, x, y, w, h, score in boxes]
    records = [record(shapes=shapes, confidence=confidence, task_id=task_id)]
    assert written(CsvWriter, "bbox", records) == reference_csv("bbox", records)
    assert written(JsonlWriter, "bbox", records) == reference_jsonl("bbox", records)

"""CSV (``labels.csv``) and JSON lines (``labels.jsonl``), with the images in ``images/<split>/``.

One row per accepted shape (bbox, polygon) or per image (classification, moderation), with the
task's confidence and its number of answers. An image whose accepted label has no shapes still
gets one row with empty shape fields, so deliberate negatives are not lost. A fused object's
``score`` is kept when consensus gave one.

A row is made of three parts: the image's fields, the shape's (or label's), and the task's
confidence and answers; the first and last are put together once per image. Rows are written as
text, the bytes csv.writer and ``json.dumps(row, separators=(",", ":"))`` would write (tests pin
this): those calls cost more per row than everything else, which for 500,000 rows was most of the
time of an export (json.dumps sets up an encoder each call).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from json.encoder import encode_basestring_ascii
from typing import Any

from sebenzai.common.spreadsheet import cell_safe

from ..records import Record
from ..staged import StagedFile
from .base import Writer

COMMON = ["image", "split", "task", "width", "height"]
COLUMNS = {
    "bbox": [*COMMON, "label", "x", "y", "w", "h", "score", "confidence", "answers"],
    "polygon": [*COMMON, "label", "points", "score", "confidence", "answers"],
    "classification": [*COMMON, "label", "confidence", "answers"],
    "moderation": [*COMMON, "verdict", "categories", "confidence", "answers"],
}
SHAPE_FIELDS = {"bbox": 6, "polygon": 3}  # label, geometry, score: the cells of "no shape"
PLAIN = re.compile(r"[A-Za-z0-9_./-]*")  # text csv never quotes (no comma, quote, line end)


class _TabularWriter(Writer):
    images_only = True
    file_name = ""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._out: StagedFile = self.staging.open(self.file_name)
        for split in self.options.active_splits:
            self.staging.mkdir(f"images/{split}")

    def image_rel(self, record: Record) -> str:
        return f"images/{record.split}/{record.file_name}"

    def add(self, record: Record) -> str:
        rel = self.image_rel(record)
        self.staging.image(rel, record.source)
        self._write(record, rel)
        return rel

    def _write(self, record: Record, image: str) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        self._out.close()


class CsvWriter(_TabularWriter):
    """Empty cells for missing values; polygon points as JSON; categories joined with ``;``."""

    file_name = "labels.csv"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        csv.writer(self._out, lineterminator="\n").writerow(COLUMNS[self.project.kind])

    def _write(self, record: Record, image: str) -> None:
        head = ",".join(map(_cell, (image, record.split, record.task_id, record.width)))
        head = f"{head},{_cell(record.height)},"
        tail = f",{_cell(record.confidence)},{_cell(record.answers)}\n"
        for middle in _csv_middles(self.project.kind, record):
            self._out.write(head + middle + tail)


def _csv_middles(kind: str, record: Record) -> Iterator[str]:
    """The cells between the image's and the task's, as CSV text, one string a row."""
    if kind == "classification":
        yield _cell(record.tag)
    elif kind == "moderation":
        yield f"{_cell(record.tag)},{_cell(';'.join(record.categories))}"
    elif not record.shapes:
        yield "," * (SHAPE_FIELDS[kind] - 1)
    elif kind == "bbox":
        for s in record.shapes:  # coordinates are finite ints or floats: csv writes their repr
            yield f"{_cell(s.label)},{s.x!r},{s.y!r},{s.w!r},{s.h!r},{_cell(s.score)}"
    else:
        for s in record.shapes:
            points = json.dumps([list(p) for p in s.points or ()], separators=(",", ":"))
            yield f"{_cell(s.label)},{_cell(points)},{_cell(s.score)}"


def _cell(value: Any) -> str:
    """The text csv.writer writes for a cell of a row of several: text that needs no quotes,
    and numbers, are written out; anything else is left to csv itself."""
    kind = type(value)
    if kind is str:
        value = safe = cell_safe(value)  # text a spreadsheet would run as a formula gets a quote
        if PLAIN.fullmatch(safe):
            return safe
    if kind is int:
        return int.__repr__(value)
    if kind is float:  # csv writes a float's repr
        return float.__repr__(value)
    if value is None:
        return ""
    line = io.StringIO()
    csv.writer(line, lineterminator="\n").writerow([value, ""])
    return line.getvalue()[:-2]  # less the empty last cell's "," and the line's end


class JsonlWriter(_TabularWriter):
    """A box as ``"bbox": [x, y, w, h]``; ``null`` for missing values."""

    file_name = "labels.jsonl"

    def _write(self, record: Record, image: str) -> None:
        head = (
            f'{{"image":{_json(image)},"split":{_json(record.split)},'
            f'"task":{_json(record.task_id)},"width":{_json(record.width)},'
            f'"height":{_json(record.height)},'
        )
        tail = f',"confidence":{_json(record.confidence)},"answers":{_json(record.answers)}}}\n'
        for middle in _jsonl_middles(self.project.kind, record):
            self._out.write(head + middle + tail)


def _jsonl_middles(kind: str, record: Record) -> Iterator[str]:
    """The fields between the image's and the task's, as JSON text, one string a row."""
    if kind == "classification":
        yield f'"label":{_json(record.tag)}'
    elif kind == "moderation":
        categories = ",".join(map(_json, record.categories))
        yield f'"verdict":{_json(record.tag)},"categories":[{categories}]'
    elif not record.shapes:
        yield f'"label":null,"{"bbox" if kind == "bbox" else "points"}":null,"score":null'
    elif kind == "bbox":
        for s in record.shapes:  # coordinates are finite ints or floats: their repr is JSON's
            yield (
                f'"label":{_json(s.label)},"bbox":[{s.x!r},{s.y!r},{s.w!r},{s.h!r}],'
                f'"score":{_json(s.score)}'
            )
    else:
        for s in record.shapes:
            points = ",".join(f"[{x!r},{y!r}]" for x, y in s.points or ())
            yield f'"label":{_json(s.label)},"points":[{points}],"score":{_json(s.score)}'


def _json(value: Any) -> str:
    """``json.dumps(value)`` for a row's value, with the common kinds written out."""
    kind = type(value)
    if kind is str:
        return encode_basestring_ascii(value)  # what json.dumps does with a str
    if kind is int:
        return int.__repr__(value)
    if kind is float and value - value == 0:  # finite; NaN and infinities as json.dumps has them
        return float.__repr__(value)
    if value is None:
        return "null"
    return json.dumps(value)

"""Ultralytics YOLO .txt predictions, one file per image (see the package's docstring)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from sebenzai.common.errors import PayloadInvalid

from . import common as limits  # read when called: tests lower them
from .common import (
    BOX_VALUES,
    CLASS_INDEX,
    FILE,
    FilePrediction,
    JsonObject,
    _expect_kind,
    _score,
    _shapes_prediction,
    _shown,
    _text,
)


def yolo_txt_parse(
    files: Mapping[str, bytes], *, kind: str, labels: Sequence[str]
) -> list[FilePrediction]:
    """One FilePrediction per ``.txt`` file (file name -> bytes), normalised coordinates.

    The image is the file's stem, folders stripped; an empty file predicts no objects. A score
    is required on every line. Raises PayloadInvalid naming the file and line.
    """
    _expect_kind(kind, ("classification", "bbox", "polygon"), "A YOLO .txt file")
    size = sum(len(data) for data in files.values())
    if size > limits.MAX_FILE_BYTES or len(files) > limits.MAX_DETECTIONS:
        message = (
            f"{len(files)} files, {size:,} bytes; the limits are {limits.MAX_DETECTIONS:,} files"
        )
        message += f" and {limits.MAX_FILE_BYTES:,} bytes."
        raise PayloadInvalid(code="too_large", field=FILE, message=message)
    stems: dict[str, str] = {}
    predictions, lines_seen = [], 0
    for name, data in files.items():
        field = f"{FILE}[{name}]"
        image = _yolo_image(name, field, stems)
        lines = _yolo_lines(data, field)
        lines_seen += len(lines)
        if lines_seen > limits.MAX_DETECTIONS:
            message = f"More than {limits.MAX_DETECTIONS:,} lines in all; the limit is per upload."
            raise PayloadInvalid(code="too_large", field=field, message=message)
        predictions.append(_yolo_prediction(image, field, lines, kind, labels))
    return predictions


def _yolo_image(name: str, field: str, stems: dict[str, str]) -> str:
    """The image key: the stem, folders stripped. ``stems`` (stem -> file) catches a repeat."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if not base.lower().endswith(".txt") or len(base) == len(".txt"):
        message = "Expected Ultralytics' <image stem>.txt, one file per image."
        raise PayloadInvalid(code="invalid_format", field=field, message=message)
    stem = base[: -len(".txt")]
    if stem in stems:
        message = f"{stems[stem]!r} and {name!r} both predict image {stem!r}."
        raise PayloadInvalid(code="duplicate", field=field, message=message)
    stems[stem] = name
    return stem


def _yolo_lines(data: bytes, field: str) -> list[tuple[str, str]]:
    """(where, text) of each line that is not blank, numbered from 1 as an editor shows them."""
    lines = []
    for number, line in enumerate(_text(data, field).split("\n"), 1):
        where = f"{field} line {number}"
        if len(line) > limits.MAX_LINE_CHARS:
            message = f"{len(line):,} characters; the limit is {limits.MAX_LINE_CHARS:,}."
            raise PayloadInvalid(code="too_large", field=where, message=message)
        if line.strip():
            lines.append((where, line.strip()))
    return lines


def _yolo_prediction(
    image: str, field: str, lines: list[tuple[str, str]], kind: str, labels: Sequence[str]
) -> FilePrediction:
    if kind == "classification":
        return _yolo_classification(image, field, lines, frozenset(labels))
    read = _yolo_box if kind == "bbox" else _yolo_polygon
    shapes = [(read(line.split(), where, labels), where) for where, line in lines]
    return _shapes_prediction(image, field, shapes, kind, normalised=True)


def _yolo_classification(
    image: str, field: str, lines: list[tuple[str, str]], labels: frozenset[str]
) -> FilePrediction:
    """Ultralytics writes the top k classes, highest first: the first line is the prediction."""
    if not lines:
        message = "Empty; a classification file starts with a 'prob name' line."
        raise PayloadInvalid(code="invalid_format", field=field, message=message)
    where, line = lines[0]
    # A class name may hold spaces ("traffic light"): the name is the rest of the line.
    prob, *rest = line.split(maxsplit=1)
    name = rest[0] if rest else ""
    if not name:
        message = "Expected 'prob name', e.g. '0.93 car'."
        raise PayloadInvalid(code="invalid_format", field=where, message=message)
    if name not in labels:
        allowed = ", ".join(sorted(labels)[:20])
        message = f"Class {_shown(name)} is not one of this project's labels ({allowed})."
        raise PayloadInvalid(code="unknown_category", field=where, message=message)
    payload = {"label": name, "score": _score(_token_number(prob, where, "prob"), where)}
    return FilePrediction(image=image, payload=payload, where=where)


def _yolo_box(tokens: list[str], where: str, labels: Sequence[str]) -> JsonObject:
    if len(tokens) == 5:
        message = "No confidence: expected 'class cx cy w h conf' (predict with save_conf=True)."
        raise PayloadInvalid(code="invalid_score", field=where, message=message)
    if len(tokens) != 6:
        message = f"{len(tokens)} values; expected 'class cx cy w h conf'."
        raise PayloadInvalid(code="invalid_format", field=where, message=message)
    cx, cy, w, h = (_token_number(tokens[i], where, n) for i, n in enumerate(BOX_VALUES, 1))
    bbox = [cx - w / 2, cy - h / 2, w, h]
    score = _score(_token_number(tokens[5], where, "conf"), where)
    return {"label": _yolo_label(tokens[0], where, labels), "bbox": bbox, "score": score}


def _yolo_polygon(tokens: list[str], where: str, labels: Sequence[str]) -> JsonObject:
    if len(tokens) % 2:  # class, x y pairs, conf: an even count
        message = (
            f"{len(tokens)} values: the confidence is missing (predict with save_conf=True) or a"
            " coordinate is; expected 'class x1 y1 ... xn yn conf'."
        )
        raise PayloadInvalid(code="invalid_score", field=where, message=message)
    if len(tokens) < 8:
        message = f"{len(tokens)} values; expected 'class x1 y1 ... xn yn conf', 3 points or more."
        raise PayloadInvalid(code="invalid_format", field=where, message=message)
    flat = [_token_number(token, where, f"value {i}") for i, token in enumerate(tokens[1:-1], 2)]
    points = [[x, y] for x, y in zip(flat[::2], flat[1::2], strict=True)]
    score = _score(_token_number(tokens[-1], where, "conf"), where)
    return {"label": _yolo_label(tokens[0], where, labels), "points": points, "score": score}


def _yolo_label(token: str, where: str, labels: Sequence[str]) -> str:
    if not CLASS_INDEX.fullmatch(token):
        message = f"The class {_shown(token)} is not a class number."
        raise PayloadInvalid(code="invalid_format", field=where, message=message)
    if int(token) >= len(labels):
        message = (
            f"Class {token} is not one of this project's {len(labels)} labels (0 to"
            f" {len(labels) - 1}, in the order of its YOLO export)."
        )
        raise PayloadInvalid(code="unknown_category", field=where, message=message)
    return labels[int(token)]


def _token_number(token: str, where: str, name: str) -> float:
    try:
        value = float(token)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        message = f"{name} is {_shown(token)}; expected a finite number."
        raise PayloadInvalid(code="invalid_number", field=where, message=message)
    return value


# --- pixels ------------------------------------------------------------------------------------

"""Validation and normalisation of answers (and gold answers) per project kind.

Coordinates are image pixels, origin top-left. A shape may overshoot the image by a small
tolerance (a finger on a phone screen); the overshoot is clipped, and the same clipped shape is
what consensus and export see. Anything else wrong is a PayloadInvalid naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from shapely import Polygon, box
from shapely.validation import explain_validity

from sebenzai.common.errors import PayloadInvalid

MODERATION_VERDICTS = ("safe", "unsafe")
EDGE_TOLERANCE = 0.02  # fraction of the image side a shape may overshoot before it is refused
MAX_LABEL_LENGTH = 64

JsonObject = dict[str, Any]  # a parsed JSON object: string keys, any JSON value


@dataclass(frozen=True)
class PayloadRules:
    kind: str
    labels: Sequence[str]
    width: int
    height: int
    max_objects: int = 500
    max_points: int = 1000


def payload_validate(payload: Any, rules: PayloadRules, field: str = "payload") -> JsonObject:
    """Return the normalised payload, or raise PayloadInvalid naming the offending field."""
    validate = _VALIDATORS[rules.kind]
    if not isinstance(payload, dict):
        raise PayloadInvalid(code="invalid_type", field=field, message="Expected a JSON object.")
    return validate(payload, rules, field)


def _expect_keys(payload: JsonObject, required: set[str], optional: set[str], field: str) -> None:
    for key in payload:
        if key not in required | optional:
            raise PayloadInvalid(
                code="unknown_field", field=f"{field}.{key}", message="Unknown field."
            )
    for key in sorted(required - payload.keys()):
        raise PayloadInvalid(
            code="required", field=f"{field}.{key}", message="This field is required."
        )


def _label(value: Any, rules: PayloadRules, field: str) -> str:
    if not isinstance(value, str):
        raise PayloadInvalid(
            code="invalid_type", field=field, message="Expected a label name (string)."
        )
    if value not in rules.labels:
        allowed = ", ".join(rules.labels[:20])
        message = (
            f"Unknown label {value[:MAX_LABEL_LENGTH]!r}; this project's labels are: {allowed}."
        )
        raise PayloadInvalid(code="unknown_label", field=field, message=message)
    return value


def _number(value: Any, field: str) -> float:
    # bool is an int in Python; a JSON true is not a coordinate.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PayloadInvalid(
            code="invalid_number", field=field, message="Expected a finite number."
        )
    return float(value)


def _list(value: Any, field: str, *, max_len: int, code: str) -> list[Any]:
    if not isinstance(value, list):
        raise PayloadInvalid(code="invalid_type", field=field, message="Expected a list.")
    if len(value) > max_len:
        message = f"{len(value)} items; the limit is {max_len}."
        raise PayloadInvalid(code=code, field=field, message=message)
    return value


def _classification(payload: JsonObject, rules: PayloadRules, field: str) -> JsonObject:
    _expect_keys(payload, {"label"}, set(), field)
    return {"label": _label(payload["label"], rules, f"{field}.label")}


def _moderation(payload: JsonObject, rules: PayloadRules, field: str) -> JsonObject:
    _expect_keys(payload, {"verdict"}, {"categories"}, field)
    verdict = payload["verdict"]
    if verdict not in MODERATION_VERDICTS:
        raise PayloadInvalid(
            code="invalid_choice", field=f"{field}.verdict", message="Expected 'safe' or 'unsafe'."
        )
    raw = _list(
        payload.get("categories", []),
        f"{field}.categories",
        max_len=len(rules.labels),
        code="too_many_objects",
    )
    categories = [_label(c, rules, f"{field}.categories[{i}]") for i, c in enumerate(raw)]
    if len(set(categories)) != len(categories):
        raise PayloadInvalid(
            code="duplicate", field=f"{field}.categories", message="A category is listed twice."
        )
    if verdict == "safe" and categories:
        message = "A safe verdict takes no categories."
        raise PayloadInvalid(code="inconsistent", field=f"{field}.categories", message=message)
    return {"verdict": verdict, "categories": sorted(categories)}


def _clip(value: float, limit: int, field: str) -> float:
    slack = EDGE_TOLERANCE * limit
    if value < -slack or value > limit + slack:
        message = f"{value:g} lies outside the image (0..{limit})."
        raise PayloadInvalid(code="out_of_image", field=field, message=message)
    return round(min(max(value, 0.0), float(limit)), 2)


def _box(item: Any, rules: PayloadRules, field: str) -> JsonObject:
    if not isinstance(item, dict):
        raise PayloadInvalid(code="invalid_type", field=field, message="Expected a JSON object.")
    _expect_keys(item, {"label", "bbox"}, set(), field)
    label = _label(item["label"], rules, f"{field}.label")
    coords = _list(item["bbox"], f"{field}.bbox", max_len=4, code="invalid_box")
    if len(coords) != 4:
        raise PayloadInvalid(
            code="invalid_box", field=f"{field}.bbox", message="Expected [x, y, w, h]."
        )
    x, y, w, h = (_number(v, f"{field}.bbox[{i}]") for i, v in enumerate(coords))
    if w <= 0 or h <= 0:
        message = "Width and height must be positive."
        raise PayloadInvalid(code="invalid_geometry", field=f"{field}.bbox", message=message)
    x1, y1 = _clip(x, rules.width, f"{field}.bbox[0]"), _clip(y, rules.height, f"{field}.bbox[1]")
    x2, y2 = (
        _clip(x + w, rules.width, f"{field}.bbox[2]"),
        _clip(y + h, rules.height, f"{field}.bbox[3]"),
    )
    if box(x1, y1, x2, y2).area <= 0 or x2 <= x1 or y2 <= y1:
        raise PayloadInvalid(
            code="invalid_geometry", field=f"{field}.bbox", message="The box has no area."
        )
    return {"label": label, "bbox": [x1, y1, round(x2 - x1, 2), round(y2 - y1, 2)]}


def _bbox(payload: JsonObject, rules: PayloadRules, field: str) -> JsonObject:
    _expect_keys(payload, {"boxes"}, set(), field)
    items = _list(
        payload["boxes"], f"{field}.boxes", max_len=rules.max_objects, code="too_many_objects"
    )
    return {"boxes": [_box(item, rules, f"{field}.boxes[{i}]") for i, item in enumerate(items)]}


def _points(raw: Any, rules: PayloadRules, field: str) -> list[list[float]]:
    items = _list(raw, field, max_len=rules.max_points, code="too_many_points")
    points = []
    for i, point in enumerate(items):
        if not isinstance(point, list) or len(point) != 2:
            raise PayloadInvalid(
                code="invalid_point", field=f"{field}[{i}]", message="Expected [x, y]."
            )
        x = _clip(_number(point[0], f"{field}[{i}][0]"), rules.width, f"{field}[{i}][0]")
        y = _clip(_number(point[1], f"{field}[{i}][1]"), rules.height, f"{field}[{i}][1]")
        points.append([x, y])
    if len(points) > 1 and points[0] == points[-1]:
        points.pop()  # an explicitly closed ring: the closing point is implied
    if len({tuple(p) for p in points}) < 3:
        raise PayloadInvalid(
            code="invalid_geometry", field=field, message="A polygon needs 3 distinct points."
        )
    return points


def _polygon_item(item: Any, rules: PayloadRules, field: str) -> JsonObject:
    if not isinstance(item, dict):
        raise PayloadInvalid(code="invalid_type", field=field, message="Expected a JSON object.")
    _expect_keys(item, {"label", "points"}, set(), field)
    label = _label(item["label"], rules, f"{field}.label")
    points = _points(item["points"], rules, f"{field}.points")
    shape = Polygon(points)
    if not shape.is_valid:
        reason = explain_validity(shape)
        message = f"The polygon is not simple: {reason.replace('[', 'at (').replace(']', ')')}."
        raise PayloadInvalid(code="invalid_geometry", field=f"{field}.points", message=message)
    if shape.area <= 0:
        raise PayloadInvalid(
            code="invalid_geometry", field=f"{field}.points", message="The polygon has no area."
        )
    return {"label": label, "points": points}


def _polygon(payload: JsonObject, rules: PayloadRules, field: str) -> JsonObject:
    _expect_keys(payload, {"polygons"}, set(), field)
    items = _list(
        payload["polygons"], f"{field}.polygons", max_len=rules.max_objects, code="too_many_objects"
    )
    return {
        "polygons": [
            _polygon_item(item, rules, f"{field}.polygons[{i}]") for i, item in enumerate(items)
        ]
    }


_VALIDATORS: dict[str, Callable[[JsonObject, PayloadRules, str], JsonObject]] = {
    "classification": _classification,
    "moderation": _moderation,
    "bbox": _bbox,
    "polygon": _polygon,
}


SAME_WITHIN_PX = 0.01  # the worker's tools round coordinates to hundredths of a pixel


def answers_same(a: Any, b: Any) -> bool:
    """The same answer: equal labels and lists, coordinates within SAME_WITHIN_PX (an answer
    that leaves a proposal as it was is the proposal, as the tool rounded it)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(answers_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(answers_same(x, y) for x, y in zip(a, b, strict=True))
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool):
        return abs(a - b) <= SAME_WITHIN_PX
    return bool(a == b)

"""Reading accepted labels into shapes, tolerating what consensus may add to them.

Accepted labels have the answer-payload shapes (``annotations.payloads``); fused objects may also
carry a ``"score"``. Other extra keys are ignored. An object whose geometry cannot be read is
left out and counted by the caller, never guessed at.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple


class Shape(NamedTuple):
    label: str
    x: float  # the box, or the polygon's bounding box; image pixels, origin top-left
    y: float
    w: float
    h: float
    points: tuple[tuple[float, float], ...] | None  # polygons only
    area: float
    score: float | None


NUMBER = (int, float)  # exact types, compared by identity: a bool is not a number here
# Shape(...) without the Python frame of a named tuple's __new__: once per box.
_shape = tuple.__new__


def _finite(value: Any) -> bool:
    # Exact type checks: a JSON true is not a coordinate, and json.loads accepts NaN.
    kind = type(value)
    return kind is int or (kind is float and math.isfinite(value))


def _number(value: Any) -> float | None:
    return value if _finite(value) else None


def polygon_area(points: tuple[tuple[float, float], ...]) -> float:
    """Shoelace area of a simple polygon."""
    total = 0.0
    for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True):
        total += x1 * y2 - x2 * y1
    return abs(total) / 2.0


def _box(obj: dict) -> Shape | None:
    # Written out rather than looped: it runs once per box, 500,000 times in a large export.
    coords = obj.get("bbox")
    if type(coords) is not list or len(coords) != 4:
        return None
    x, y, w, h = coords
    if not (type(x) in NUMBER and type(y) in NUMBER and type(w) in NUMBER and type(h) in NUMBER):
        return None
    # One isfinite for four numbers: a NaN or an infinity anywhere makes the sum non-finite.
    if not math.isfinite(x + y + w + h) or w <= 0 or h <= 0:
        return None
    score = obj.get("score")
    score = None if score is None else _number(score)
    return _shape(Shape, (obj["label"], x, y, w, h, None, round(w * h, 4), score))


def _point(raw: Any) -> tuple[float, float] | None:
    if type(raw) is not list or len(raw) != 2 or not (_finite(raw[0]) and _finite(raw[1])):
        return None
    return (raw[0], raw[1])


def _polygon(obj: dict) -> Shape | None:
    raw = obj.get("points")
    if not isinstance(raw, list) or len(raw) < 3:
        return None
    points = tuple(_point(p) for p in raw)
    if any(p is None for p in points):
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]  # type: ignore[index]
    area = round(polygon_area(points), 4)  # type: ignore[arg-type]
    if area <= 0:
        return None
    x, y = min(xs), min(ys)
    score = _number(obj.get("score"))
    return Shape(obj["label"], x, y, max(xs) - x, max(ys) - y, points, area, score)  # type: ignore[arg-type]


_READERS = {"bbox": ("boxes", _box), "polygon": ("polygons", _polygon)}


def shapes_read(kind: str, label: Any) -> tuple[list[Shape], int]:
    """The readable shapes of a bbox or polygon label, and how many objects were unreadable."""
    key, read = _READERS[kind]
    objects = label.get(key) if isinstance(label, dict) else None
    if not isinstance(objects, list):
        return [], 1
    shapes, bad = [], 0
    for obj in objects:
        shape = read(obj) if isinstance(obj, dict) and isinstance(obj.get("label"), str) else None
        if shape is None:
            bad += 1
        else:
            shapes.append(shape)
    return shapes, bad

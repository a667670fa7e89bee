"""Boxes and polygons for the CLI: fusion with worker skills learnt from the file itself.

``fusion`` (default) learns each worker's skills from the file (shape_skills.py) and fuses with
them; ``unweighted`` fuses once with every worker at the prior. A worker polygon that crosses
itself is repaired or left out (``--invalid``, see repair.py) and counted, never a reason to stop.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from collections.abc import Iterable
from itertools import chain
from typing import IO

from ..algorithms.clusters import Fusion
from .files import InputError, finite, json_lines, warn, write_csv
from .repair import InvalidPolygons
from .shape_skills import SKILL_ROUNDS, ShapeRun, box_fusions, polygon_fusions

KEYS = {"bbox": ("boxes", "bbox"), "polygon": ("polygons", "points")}


def _shape_error(kind: str, coords: object) -> str | None:
    if kind == "bbox":
        if not (isinstance(coords, list) and len(coords) == 4 and all(finite(v) for v in coords)):
            return "bbox must be [x, y, w, h] of finite numbers"
        return None if coords[2] > 0 and coords[3] > 0 else "bbox width and height must be positive"
    if not (
        isinstance(coords, list)
        and len(coords) >= 3
        and all(isinstance(p, list) and len(p) == 2 and all(finite(v) for v in p) for p in coords)
    ):
        return "points must be at least 3 [x, y] pairs of finite numbers"
    return None  # a polygon that crosses itself is no reason to stop: see repair.py


def _plain_boxes(items: list) -> bool:
    """True when every item is a dict with a str label and a bbox of 4 finite numbers (not
    bools) with positive width and height: the common case, checked with C-level maps and
    sets. False sends the items through the item-by-item checks that name the problem."""
    try:
        if set(map(type, items)) - {dict}:
            return False
        labels, coords = [i["label"] for i in items], [i["bbox"] for i in items]
        if set(map(type, labels)) - {str} or set(map(type, coords)) - {list}:
            return False
        if set(map(len, coords)) - {4}:
            return False
        flat = list(chain.from_iterable(coords))
        if set(map(type, flat)) - {int, float} or not all(map(math.isfinite, flat)):
            return False
        return not flat or (min(flat[2::4]) > 0 and min(flat[3::4]) > 0)
    except (KeyError, OverflowError):
        return False


def _objects(kind: str, record: dict, where: str, invalid: InvalidPolygons) -> list[dict]:
    key, coord_key = KEYS[kind]
    items = record.get(key)
    if not isinstance(items, list):
        raise InputError(f"{where}: expected a list in {key!r}")
    if kind == "bbox" and _plain_boxes(items):
        return items
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("label"), str):
            raise InputError(f"{where}: {key}[{i}] needs a string label")
        problem = _shape_error(kind, item.get(coord_key))
        if problem:
            raise InputError(f"{where}: {key}[{i}]: {problem}")
    if kind == "bbox":
        return items
    kept = [(item, invalid.handle(item[coord_key])) for item in items]
    return [{**item, coord_key: points} for item, points in kept if points is not None]


def read_shapes(
    path: str, kind: str, invalid: InvalidPolygons, *, with_worker: bool = True
) -> dict[str, dict[str, list[dict]]]:
    """task -> worker -> objects (for gold files: task -> "" -> objects); the last line wins.
    Polygons that are not simple are repaired or left out, as ``invalid`` says, and counted."""
    tasks: dict[str, dict[str, list[dict]]] = defaultdict(dict)
    for number, record in json_lines(path):
        where = f"{path}: line {number}"
        if "task" not in record or (with_worker and "worker" not in record):
            raise InputError(f"{where}: needs 'task'" + (" and 'worker'" if with_worker else ""))
        worker = str(record["worker"]) if with_worker else ""
        tasks[str(record["task"])][worker] = _objects(kind, record, where, invalid)
    if not tasks:
        raise InputError(f"{path}: no answers")
    return tasks


def aggregate_shapes(args: argparse.Namespace, out: IO[str]) -> None:
    """Options were checked by ``options.check`` (method, --iou, --invalid, --skills-out)."""
    invalid = InvalidPolygons(args.invalid or "repair")
    tasks = read_shapes(args.input, args.kind, invalid)
    gold = read_shapes(args.gold, args.kind, invalid, with_worker=False) if args.gold else {}
    summary = invalid.summary()
    if summary:
        warn(summary)
    labels = sorted(
        {
            o["label"]
            for answers in [*tasks.values(), *gold.values()]
            for objs in answers.values()
            for o in objs
        }
    )
    workers = sorted({w for answers in tasks.values() for w in answers})
    rounds = SKILL_ROUNDS if args.method == "fusion" else 0
    fuse = box_fusions if args.kind == "bbox" else polygon_fusions
    fused, skill = fuse(ShapeRun(tasks, workers, labels, gold, args.iou, rounds))
    _write(out, args.kind, zip(tasks, fused, strict=True))
    if args.skills_out:
        with open(args.skills_out, "w", newline="", encoding="utf-8") as handle:
            rows = [[w, f"{p:.6f}"] for w, p in zip(workers, skill.tolist(), strict=True)]
            write_csv(handle, ["worker", "accuracy"], rows)


def _write(out: IO[str], kind: str, fused: Iterable[tuple[str, Fusion]]) -> None:
    key, coord_key = KEYS[kind]
    for task, fusion in fused:
        objects = [
            {
                "label": o.label,
                coord_key: _round(getattr(o, coord_key)),
                "score": round(o.confidence, 4),
            }
            for o in fusion.objects
        ]
        out.write(
            json.dumps({"task": task, key: objects, "confidence": round(fusion.confidence, 4)})
            + "\n"
        )


def _round(value: list) -> list:
    return [_round(v) if isinstance(v, list) else round(float(v), 2) for v in value]

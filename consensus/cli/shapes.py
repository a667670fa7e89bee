"""Boxes and polygons for the CLI: fusion with worker skills learnt from the file itself.

``fusion`` (default) starts every worker at the platform's prior accuracy, fuses every image,
re-estimates each worker's accuracy as a Beta posterior over their F1 against the fused sets
(and against gold, counted GOLD_WEIGHT times, where given), and fuses again; SKILL_ROUNDS rounds.
``unweighted`` fuses once with every worker at the prior. A worker polygon that crosses itself is
repaired or left out (``--invalid``, see repair.py) and counted, never a reason to stop.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from typing import IO

import numpy as np

from ..algorithms.boxes import fuse_boxes_many
from ..algorithms.grading import boxes_f1, polygons_f1
from ..algorithms.polygons import fuse_polygons
from ..algorithms.skill import BetaSkill
from .files import InputError, finite, json_lines, warn, write_csv
from .repair import InvalidPolygons

SKILL_ROUNDS = 3
GOLD_WEIGHT = 3.0  # a gold grade counts like this many agreement observations
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


def _objects(kind: str, record: dict, where: str, invalid: InvalidPolygons) -> list[dict]:
    key, coord_key = KEYS[kind]
    items = record.get(key)
    if not isinstance(items, list):
        raise InputError(f"{where}: expected a list in {key!r}")
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


def _fuse_all(
    kind: str, tasks: dict, labels: list[str], skill: dict[str, float], iou: float
) -> dict:
    key, coord_key = KEYS[kind]
    prepared = {}
    for task, answers in tasks.items():
        workers = list(answers)
        shapes = [
            (
                [np.asarray(o[coord_key], dtype=float) for o in answers[w]],
                [o["label"] for o in answers[w]],
            )
            for w in workers
        ]
        prepared[task] = (workers, shapes, [skill[w] for w in workers])
    if kind == "bbox":
        batch = [
            ([(np.asarray(s, dtype=float).reshape(-1, 4), ls) for s, ls in shapes], acc)
            for _, shapes, acc in prepared.values()
        ]
        fused = fuse_boxes_many(batch, labels, iou_threshold=iou)
    else:
        fused = [
            fuse_polygons(shapes, acc, labels, iou_threshold=iou)
            for _, shapes, acc in prepared.values()
        ]
    return {task: (prepared[task][0], f) for task, f in zip(prepared, fused, strict=True)}


def _estimate(kind: str, tasks: dict, fused: dict, gold: dict, iou: float) -> dict[str, float]:
    skills: dict[str, BetaSkill] = defaultdict(BetaSkill)
    grade = boxes_f1 if kind == "bbox" else polygons_f1
    for task, (workers, fusion) in fused.items():
        for worker, agreement in zip(workers, fusion.agreement, strict=True):
            skills[worker] = skills[worker].observe(agreement, 1.0)
            if task in gold:
                skills[worker] = skills[worker].observe(
                    grade(tasks[task][worker], gold[task][""], iou), GOLD_WEIGHT
                )
    return {w: s.accuracy for w, s in skills.items()}


def aggregate_shapes(args: argparse.Namespace, out: IO[str]) -> None:
    """Options were checked by ``options.check`` (method, --iou, --invalid, --skills-out)."""
    method = args.method
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
    skill = dict.fromkeys(workers, BetaSkill().accuracy)
    fused = _fuse_all(args.kind, tasks, labels, skill, args.iou)
    for _ in range(SKILL_ROUNDS if method == "fusion" else 0):
        skill = _estimate(args.kind, tasks, fused, gold, args.iou)
        fused = _fuse_all(args.kind, tasks, labels, skill, args.iou)
    _write(out, args.kind, fused)
    if args.skills_out:
        with open(args.skills_out, "w", newline="", encoding="utf-8") as handle:
            write_csv(handle, ["worker", "accuracy"], [[w, f"{skill[w]:.6f}"] for w in workers])


def _write(out: IO[str], kind: str, fused: dict) -> None:
    key, coord_key = KEYS[kind]
    for task, (_, fusion) in fused.items():
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

"""Worker skills for shape fusion learnt from the file itself.

Every worker starts at the platform's prior (skill.py's Beta(4, 1), mean 0.8). A round fuses
every image with the current skills and updates each worker's Beta posterior with their F1
against the fused sets (weight 1 per image) and against gold (GOLD_WEIGHT per gold image, graded
once: gold does not move). After SKILL_ROUNDS rounds the images are fused for the output.

Boxes learn two skills, as the fusion's weights want them (boxes.py): presence, the F1 of a
worker's boxes against the fused set whatever their labels, and label, the share of a worker's
matched boxes that carry the fused label. Their rounds re-vote a clustering made once
(``cluster_boxes_many``) rather than fusing again. Polygons learn one skill (the F1 with labels)
and fuse every image each round.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..algorithms.box_clusters import cluster_boxes_many
from ..algorithms.boxes import BoxFusion
from ..algorithms.grading import box_grades, polygons_f1
from ..algorithms.skill import BetaSkill

if TYPE_CHECKING:
    from ..algorithms.polygons import PolygonFusion

SKILL_ROUNDS = 3
GOLD_WEIGHT = 3.0  # a gold grade counts like this many agreement observations
PRIOR = BetaSkill()

Answers = dict[str, list[dict[str, Any]]]  # worker -> objects


def beta_means(
    worker: np.ndarray, grade: np.ndarray, weight: np.ndarray, n_workers: int
) -> np.ndarray:
    """Per worker the Beta posterior mean after the prior and the weighted grades (in [0, 1])."""
    grade = np.clip(grade, 0.0, 1.0)
    alpha = PRIOR.alpha + np.bincount(worker, weights=weight * grade, minlength=n_workers)
    beta = PRIOR.beta + np.bincount(worker, weights=weight * (1 - grade), minlength=n_workers)
    return alpha / (alpha + beta)


class Slots:
    """One slot per (task, worker) answer, tasks in the file's order, each with the worker's
    index among ``workers``."""

    def __init__(self, tasks: dict[str, Answers], workers: Sequence[str]) -> None:
        index = {w: k for k, w in enumerate(workers)}
        self.n_workers = len(workers)
        self.worker = np.array(
            [index[w] for answers in tasks.values() for w in answers], dtype=np.intp
        )
        self.per_task = [len(answers) for answers in tasks.values()]

    def by_task(self, values: np.ndarray) -> list[list[float]]:
        bounds = np.cumsum([0, *self.per_task]).tolist()
        flat = values.tolist()
        return [flat[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def gold_grades(
    tasks: dict[str, Answers], gold: dict[str, Answers], iou: float, kind: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per slot (label-required F1, presence F1, label share) against gold, NaN off gold."""
    grades: list[tuple[float, float, float]] = []
    for task, answers in tasks.items():
        for objects in answers.values():
            if task not in gold:
                grades.append((np.nan, np.nan, np.nan))
            elif kind == "bbox":
                grades.append(box_grades(objects, gold[task][""], iou))
            else:
                grade = polygons_f1(objects, gold[task][""], iou)
                grades.append((grade, grade, np.nan))
    table = np.array(grades, dtype=float).reshape(-1, 3)
    return table[:, 0], table[:, 1], table[:, 2]


def with_gold(
    slots: Slots, agreement: np.ndarray, weight: np.ndarray, gold: np.ndarray
) -> np.ndarray:
    """Per worker Beta mean over the agreement observations and the gold grades."""
    on_gold = np.isfinite(gold)
    worker = np.concatenate([slots.worker, slots.worker[on_gold]])
    grade = np.concatenate([agreement, gold[on_gold]])
    weights = np.concatenate([weight, np.full(int(on_gold.sum()), GOLD_WEIGHT)])
    return beta_means(worker, grade, weights, slots.n_workers)


@dataclass(frozen=True)
class ShapeRun:
    """What a fusion of one shapes file reads: per task each worker's objects, the workers and
    labels seen, the gold sets, the IoU that matches two shapes, and the skill rounds."""

    tasks: dict[str, Answers]
    workers: Sequence[str]
    labels: list[str]
    gold: dict[str, Answers]
    iou: float
    rounds: int


def box_fusions(run: ShapeRun) -> tuple[list[BoxFusion], np.ndarray]:
    """Per task the fusion, and per worker the presence accuracy learnt (--skills-out)."""
    slots = Slots(run.tasks, run.workers)
    answers = _answers(
        run.tasks,
        lambda objects: np.array([o["bbox"] for o in objects], dtype=float).reshape(-1, 4),
    )
    presence = np.full(slots.n_workers, PRIOR.accuracy)
    label = presence.copy()
    clusters = cluster_boxes_many(answers, run.labels, iou_threshold=run.iou)
    gold = bool(run.gold)
    if gold and run.rounds:
        _, gold_presence, gold_label = gold_grades(run.tasks, run.gold, run.iou, "bbox")
    for _ in range(run.rounds):
        agree = clusters.agreement(presence[slots.worker], label[slots.worker])
        ones = np.ones(len(slots.worker))
        share = np.divide(
            agree.right_label, agree.hits, out=np.zeros(len(ones)), where=agree.hits > 0
        )
        label_weight = (agree.hits > 0).astype(float)
        if gold:
            presence = with_gold(slots, agree.presence, ones, gold_presence)
            label = with_gold(slots, share, label_weight, gold_label)
        else:
            presence = beta_means(slots.worker, agree.presence, ones, slots.n_workers)
            label = beta_means(slots.worker, share, label_weight, slots.n_workers)
    return clusters.fuse(run.labels, presence[slots.worker], label[slots.worker]), presence


def polygon_fusions(run: ShapeRun) -> tuple[list[PolygonFusion], np.ndarray]:
    """Per task the fusion, and per worker the accuracy learnt."""
    from ..algorithms.polygons import fuse_polygons  # loaded for polygon runs only

    slots = Slots(run.tasks, run.workers)
    answers = _answers(
        run.tasks, lambda objects: [np.asarray(o["points"], dtype=float) for o in objects]
    )
    gold_f1 = None
    if run.gold and run.rounds:
        gold_f1 = gold_grades(run.tasks, run.gold, run.iou, "polygon")[0]
    accuracy = np.full(slots.n_workers, PRIOR.accuracy)
    for round_ in range(run.rounds + 1):
        p = slots.by_task(accuracy[slots.worker])
        fused = [
            fuse_polygons(shapes, acc, run.labels, iou_threshold=run.iou)
            for shapes, acc in zip(answers, p, strict=True)
        ]
        if round_ == run.rounds:
            return fused, accuracy
        agreement = np.array([a for f in fused for a in f.agreement], dtype=float)
        ones = np.ones(len(agreement))
        if gold_f1 is None:
            accuracy = beta_means(slots.worker, agreement, ones, slots.n_workers)
        else:
            accuracy = with_gold(slots, agreement, ones, gold_f1)
    raise AssertionError("unreachable")


def _answers(tasks: dict[str, Answers], shapes_of: Callable[[list[dict]], Any]) -> list[list]:
    """Per task, per worker: (their shapes as the fusion takes them, their labels)."""
    return [
        [(shapes_of(objects), [o["label"] for o in objects]) for objects in task.values()]
        for task in tasks.values()
    ]

"""Per-kind aggregation: a task's answers and the workers' accuracies in, a fused label out.

Plain Python over the pure algorithms, with no database access, so the CLI uses it too.
Degenerate cases, all defined rather than raised: one answer is fused like any other (its
confidence then rests on that one worker's skill); shape answers in which nobody drew anything
fuse to an empty set, confident when the workers are; answers that all disagree fuse to the
skill-weighted winner with a low confidence, which sends the task for more answers or review.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .algorithms.boxes import fuse_boxes
from .algorithms.classification import VoteOutcome, weighted_share, weighted_vote
from .algorithms.grading import boxes_f1, polygons_f1
from .algorithms.polygons import fuse_polygons

MODERATION_VERDICTS = ("safe", "unsafe")
CATEGORY_QUORUM = 0.5  # a category is kept when over half the (weighted) unsafe voters chose it


@dataclass(frozen=True)
class Fused:
    label: dict
    confidence: float
    method: str
    weights: list[float]
    agreement: list[float]  # per answer in [0, 1]: 1.0 when it matches the fused label


Fuser = Callable[[Sequence[dict], Sequence[float], Sequence[str], float], Fused]


def classification_fuse(
    payloads: Sequence[dict], accuracies: Sequence[float], labels: Sequence[str], iou: float
) -> Fused:
    outcome = weighted_vote([p["label"] for p in payloads], accuracies, labels)
    agreement = [float(p["label"] == outcome.label) for p in payloads]
    return Fused(
        {"label": outcome.label}, outcome.confidence, "weighted_vote", outcome.weights, agreement
    )


def moderation_fuse(
    payloads: Sequence[dict], accuracies: Sequence[float], labels: Sequence[str], iou: float
) -> Fused:
    outcome: VoteOutcome = weighted_vote(
        [p["verdict"] for p in payloads], accuracies, MODERATION_VERDICTS
    )
    categories: list[str] = []
    if outcome.label == "unsafe":
        voters = [i for i, p in enumerate(payloads) if p["verdict"] == "unsafe"]
        share = weighted_share(
            [payloads[i]["categories"] for i in voters],
            [outcome.weights[i] for i in voters],
            labels,
        )
        categories = sorted(name for name, value in share.items() if value > CATEGORY_QUORUM)
    agreement = [float(p["verdict"] == outcome.label) for p in payloads]
    label = {"verdict": outcome.label, "categories": categories}
    return Fused(label, outcome.confidence, "weighted_vote", outcome.weights, agreement)


def _rounded(values: Sequence[float]) -> list[float]:
    return [round(float(v), 2) for v in values]


def bbox_fuse(
    payloads: Sequence[dict], accuracies: Sequence[float], labels: Sequence[str], iou: float
) -> Fused:
    answers = [
        (
            np.asarray([b["bbox"] for b in p["boxes"]], dtype=float).reshape(-1, 4),
            [b["label"] for b in p["boxes"]],
        )
        for p in payloads
    ]
    fusion = fuse_boxes(answers, accuracies, labels, iou_threshold=iou)
    boxes = [
        {"label": o.label, "bbox": _rounded(o.bbox), "score": round(o.confidence, 4)}
        for o in fusion.objects
    ]
    return Fused(
        {"boxes": boxes}, fusion.confidence, "box_fusion", fusion.weights, fusion.agreement
    )


def polygon_fuse(
    payloads: Sequence[dict], accuracies: Sequence[float], labels: Sequence[str], iou: float
) -> Fused:
    answers = [
        (
            [np.asarray(p["points"], dtype=float) for p in answer["polygons"]],
            [p["label"] for p in answer["polygons"]],
        )
        for answer in payloads
    ]
    fusion = fuse_polygons(answers, accuracies, labels, iou_threshold=iou)
    polygons = [
        {
            "label": o.label,
            "points": [_rounded(pt) for pt in o.points],
            "score": round(o.confidence, 4),
        }
        for o in fusion.objects
    ]
    return Fused(
        {"polygons": polygons},
        fusion.confidence,
        "polygon_fusion",
        fusion.weights,
        fusion.agreement,
    )


FUSERS: dict[str, Fuser] = {
    "classification": classification_fuse,
    "moderation": moderation_fuse,
    "bbox": bbox_fuse,
    "polygon": polygon_fuse,
}


def gold_grade(kind: str, answer: dict, gold: dict, iou: float = 0.5) -> float:
    """How right an answer is against the known answer, in [0, 1]: 1/0 for a class or verdict,
    F1 at the IoU threshold (labels must match) for shapes."""
    if kind == "classification":
        return float(answer["label"] == gold["label"])
    if kind == "moderation":
        return float(answer["verdict"] == gold["verdict"])
    if kind == "bbox":
        return boxes_f1(answer["boxes"], gold["boxes"], iou)
    return polygons_f1(answer["polygons"], gold["polygons"], iou)

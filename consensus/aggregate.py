"""Per-kind aggregation: turns a task's answers and the workers' accuracies into a fused label.

Plain Python over the pure algorithms; no database access here, so the CLI can use it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .algorithms.classification import VoteOutcome, weighted_share, weighted_vote

MODERATION_VERDICTS = ("safe", "unsafe")
CATEGORY_QUORUM = 0.5  # a category is kept when over half the (weighted) unsafe voters chose it


@dataclass(frozen=True)
class Fused:
    label: dict
    confidence: float
    method: str
    weights: list[float]
    agreement: list[float]  # per answer, 1.0 when it matches the fused label


def classification_fuse(
    payloads: Sequence[dict], accuracies: Sequence[float], labels: Sequence[str]
) -> Fused:
    outcome = weighted_vote([p["label"] for p in payloads], accuracies, labels)
    agreement = [float(p["label"] == outcome.label) for p in payloads]
    return Fused(
        {"label": outcome.label}, outcome.confidence, "weighted_vote", outcome.weights, agreement
    )


def moderation_fuse(
    payloads: Sequence[dict], accuracies: Sequence[float], labels: Sequence[str]
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


FUSERS = {"classification": classification_fuse, "moderation": moderation_fuse}


def gold_grade(kind: str, answer: dict, gold: dict) -> float:
    """1.0 for an answer that matches the known answer, else 0.0."""
    if kind == "classification":
        return float(answer["label"] == gold["label"])
    if kind == "moderation":
        return float(answer["verdict"] == gold["verdict"])
    raise ValueError(f"no gold grading for {kind} yet")

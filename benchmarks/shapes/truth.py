"""Scoring fused shapes against the simulator's truth, and the skills gold gives: the parts of
benchmarks/consensus_shapes.py that every section shares."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from consensus.algorithms.clusters import f1_score, match_pairs
from consensus.algorithms.geometry import iou_matrix, polygon_iou_matrix
from consensus.algorithms.simulate import SimImage
from consensus.algorithms.skill import GOLD_WEIGHT, BetaSkill

THRESHOLD = 0.5


@dataclass
class Tally:
    """Micro-averaged detection counts over images."""

    tp: int = 0
    pred: int = 0
    truth: int = 0
    iou_sum: float = 0.0

    def add(self, other: Tally) -> None:
        self.tp += other.tp
        self.pred += other.pred
        self.truth += other.truth
        self.iou_sum += other.iou_sum

    @property
    def f1(self) -> float:
        return f1_score(self.tp, self.pred, self.truth)

    @property
    def precision(self) -> float:
        return self.tp / self.pred if self.pred else 1.0

    @property
    def recall(self) -> float:
        return self.tp / self.truth if self.truth else 1.0

    @property
    def mean_iou(self) -> float:
        return self.iou_sum / self.tp if self.tp else 0.0


def tally(iou: np.ndarray, pred_labels: Sequence[str], truth_labels: Sequence[str]) -> Tally:
    compatible = (
        np.asarray(pred_labels, dtype=object)[:, None]
        == np.asarray(truth_labels, dtype=object)[None, :]
    )
    rows, cols = match_pairs(iou, compatible.reshape(iou.shape), THRESHOLD)
    return Tally(len(rows), iou.shape[0], iou.shape[1], float(iou[rows, cols].sum()))


def box_tally(boxes: np.ndarray, names: Sequence[str], image: SimImage) -> Tally:
    return tally(iou_matrix(boxes, image.truth), names, image.truth_labels)


def polygon_tally(polygons: Sequence[np.ndarray], names: Sequence[str], image: SimImage) -> Tally:
    return tally(polygon_iou_matrix(polygons, image.truth), names, image.truth_labels)


@dataclass(frozen=True)
class Skills:
    """Per pool worker, Beta posterior means after the gold images (skill.py's BetaSkill)."""

    presence: np.ndarray  # graded by label-agnostic F1: finds and places the objects
    label: np.ndarray  # graded by the share of right labels among the boxes matched
    single: np.ndarray  # graded by F1 with the label required: the one-number skill


def estimate_skills(gold: list[SimImage], n_workers: int, iou: Callable) -> Skills:
    presence = [BetaSkill() for _ in range(n_workers)]
    label = [BetaSkill() for _ in range(n_workers)]
    single = [BetaSkill() for _ in range(n_workers)]
    for image in gold:
        for a in image.answers:
            m = iou(a.shapes, image.truth)
            rows, cols = match_pairs(m, np.ones(m.shape, dtype=bool), THRESHOLD)
            k = a.worker
            presence[k] = presence[k].observe(f1_score(len(rows), *m.shape), GOLD_WEIGHT)
            if len(rows):
                right = np.mean(
                    [a.labels[r] == image.truth_labels[c] for r, c in zip(rows, cols, strict=True)]
                )
                label[k] = label[k].observe(float(right), GOLD_WEIGHT)
            t = tally(m, a.labels, image.truth_labels)
            single[k] = single[k].observe(t.f1, GOLD_WEIGHT)
    mean = lambda skills: np.array([s.accuracy for s in skills])  # noqa: E731
    return Skills(mean(presence), mean(label), mean(single))


def matched_ious(iou: np.ndarray, names: Sequence[str], image: SimImage) -> dict[int, float]:
    """{truth index: IoU} of the predictions matched to the truth (label must match)."""
    compatible = (
        np.asarray(names, dtype=object)[:, None]
        == np.asarray(image.truth_labels, dtype=object)[None, :]
    )
    rows, cols = match_pairs(iou, compatible.reshape(iou.shape), THRESHOLD)
    return {int(c): float(iou[r, c]) for r, c in zip(rows, cols, strict=True)}

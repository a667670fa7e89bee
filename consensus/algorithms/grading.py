"""Grading one answer's shapes against a reference set (a gold answer).

F1 at an IoU threshold, labels must match: shapes are paired one-to-one greedily by descending
IoU (pairs below the threshold or with different labels never pair), then
F1 = 2·pairs / (|answer| + |reference|). Two empty sets agree perfectly (F1 = 1): "there is
nothing here" is a correct answer on an empty image.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .clusters import match_pairs
from .geometry import iou_matrix, polygon_iou_matrix


def greedy_pairs(iou: np.ndarray, threshold: float) -> int:
    """Number of one-to-one pairs taken greedily by descending IoU, each at least ``threshold``."""
    if iou.size == 0:
        return 0
    rows, cols = np.nonzero(iou >= threshold)
    order = np.argsort(-iou[rows, cols], kind="stable")
    used_r, used_c, pairs = set(), set(), 0
    for r, c in zip(rows[order].tolist(), cols[order].tolist(), strict=True):
        if r not in used_r and c not in used_c:
            used_r.add(r)
            used_c.add(c)
            pairs += 1
    return pairs


def _f1(
    iou: np.ndarray, labels_a: Sequence[str], labels_b: Sequence[str], threshold: float
) -> float:
    total = len(labels_a) + len(labels_b)
    if total == 0:
        return 1.0
    same = (
        np.asarray(labels_a, dtype=object)[:, None] == np.asarray(labels_b, dtype=object)[None, :]
    )
    return 2.0 * greedy_pairs(np.where(same, iou, 0.0), threshold) / total


def boxes_f1(
    answer: Sequence[dict[str, Any]], reference: Sequence[dict[str, Any]], threshold: float
) -> float:
    """``answer`` and ``reference`` are lists of ``{"label", "bbox": [x, y, w, h]}``."""
    a = np.asarray([b["bbox"] for b in answer], dtype=float).reshape(-1, 4)
    b = np.asarray([b["bbox"] for b in reference], dtype=float).reshape(-1, 4)
    return _f1(
        iou_matrix(a, b), [x["label"] for x in answer], [x["label"] for x in reference], threshold
    )


def box_grades(
    answer: Sequence[dict[str, Any]], reference: Sequence[dict[str, Any]], threshold: float
) -> tuple[float, float, float]:
    """(F1 with labels, F1 whatever the labels, share of the boxes paired whatever the labels
    that carry the reference's label; NaN when none paired): the grades behind the box fusion's
    two skills, presence and label."""
    a = np.asarray([b["bbox"] for b in answer], dtype=float).reshape(-1, 4)
    b = np.asarray([b["bbox"] for b in reference], dtype=float).reshape(-1, 4)
    names_a, names_b = [x["label"] for x in answer], [x["label"] for x in reference]
    iou = iou_matrix(a, b)
    rows, cols = match_pairs(iou, np.ones(iou.shape, dtype=bool), threshold)
    right = sum(names_a[r] == names_b[c] for r, c in zip(rows.tolist(), cols.tolist(), strict=True))
    total = len(names_a) + len(names_b)
    presence = 2.0 * len(rows) / total if total else 1.0
    share = right / len(rows) if len(rows) else float("nan")
    return _f1(iou, names_a, names_b, threshold), presence, share


def polygons_f1(
    answer: Sequence[dict[str, Any]], reference: Sequence[dict[str, Any]], threshold: float
) -> float:
    """``answer`` and ``reference`` are lists of ``{"label", "points": [[x, y], ...]}``."""
    iou = polygon_iou_matrix([p["points"] for p in answer], [p["points"] for p in reference])
    iou = np.asarray(iou, dtype=float).reshape(len(answer), len(reference))
    return _f1(iou, [x["label"] for x in answer], [x["label"] for x in reference], threshold)

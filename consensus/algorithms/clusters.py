"""The crowd model that box and polygon fusion share (``boxes.py`` explains its maths):
skills and weights per (image, worker) slot, label-agnostic clustering with at most one shape
per worker per cluster, the quorum and the existence posterior, the label vote, grouped means
and medians, per-worker agreement, and the task confidence. Pure numpy on flat arrays; the
geometry (what a shape is, how alike two shapes are, how a cluster is fused) is the caller's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from consensus.algorithms.classification import ACCURACY_CEILING, ACCURACY_FLOOR

CHANCE_ACCURACY = 0.5
TOLERANCE = 1e-9  # IoU and weight comparisons forgive float rounding


FusedT = TypeVar("FusedT")


@dataclass(frozen=True)
class Fusion(Generic[FusedT]):
    """One image's consensus: the fused objects (boxes or polygons), the task's confidence, and
    each worker's agreement (F1 against ``objects``) and weight, in the workers' order."""

    objects: list[FusedT]
    confidence: float
    agreement: list[float]  # per worker F1 against ``objects``
    weights: list[float]  # per worker w_i


@dataclass(frozen=True)
class Crowd:
    """The workers of a batch of images: one slot per (image, worker)."""

    image: np.ndarray  # (S,) image of each slot, non-decreasing
    worker: np.ndarray  # (S,) the worker's index within its image's answers
    w: np.ndarray  # (S,) presence and placement weight
    label_w: np.ndarray  # (S,) label-vote weight λ
    fuse_w: np.ndarray  # (S,) w, or 1 for every slot of an image where all w are 0
    n_images: int
    total_w: np.ndarray  # (n_images,) Σ w over the image's workers
    total_fuse: np.ndarray  # (n_images,) Σ fuse_w


@dataclass(frozen=True)
class ClusterVotes:
    """Per cluster (index = cluster id) its image, the quorum decision and the posteriors."""

    image: np.ndarray
    keep: np.ndarray
    existence: np.ndarray
    label: np.ndarray
    label_confidence: np.ndarray


def crowd_weights(
    accuracies: Sequence[float], n_labels: int, label_accuracies: Sequence[float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(w, λ): w_i = max(0, logit p_i - logit 1/2) for presence and placement; λ_i = max(0,
    logit q_i + log(K - 1)) for the label vote (classification.log_odds_weights, floored at 0),
    q = label_accuracies or else p. Accuracies are clipped to [ACCURACY_FLOOR, ACCURACY_CEILING];
    a non-finite one counts as chance (1/2 for presence, 1/K for labels)."""
    chance = math.log(CHANCE_ACCURACY / (1 - CHANCE_ACCURACY))
    extra = math.log(max(n_labels, 2) - 1)
    w = np.maximum(_logits(accuracies, CHANCE_ACCURACY) - chance, 0.0)
    q = accuracies if label_accuracies is None else label_accuracies
    lam = np.maximum(_logits(q, 1.0 / max(n_labels, 2)) + extra, 0.0)
    return w, lam


def _logits(values: Sequence[float], fallback: float) -> np.ndarray:
    p = np.asarray(values, dtype=float).reshape(-1)
    p = np.clip(np.where(np.isfinite(p), p, fallback), ACCURACY_FLOOR, ACCURACY_CEILING)
    logits: np.ndarray = np.log(p / (1 - p))
    return logits


def crowd_slots(
    accuracies: Sequence[Sequence[float]],
    n_labels: int,
    label_accuracies: Sequence[Sequence[float] | None] | None = None,
) -> Crowd:
    """Slots for a batch of images, given each image's workers' accuracies (and, optionally,
    label accuracies; None for an image means: the same as its accuracies)."""
    flat = [p for image in accuracies for p in image]
    flat_q = flat
    if label_accuracies is not None:
        flat_q = [
            q
            for image, labelled in zip(accuracies, label_accuracies, strict=True)
            for q in (image if labelled is None else labelled)
        ]
        if len(flat_q) != len(flat):
            raise ValueError("label_accuracies must give one value per worker")
    w, label_w = crowd_weights(flat, n_labels, flat_q)
    n = len(accuracies)
    if n == 1:  # the per-image call: skip the bookkeeping
        image, worker = np.zeros(len(flat), dtype=np.intp), np.arange(len(flat), dtype=np.intp)
        total_w = image_sums(w, image, 1)
    else:
        sizes = [len(image) for image in accuracies]
        image = np.repeat(np.arange(n, dtype=np.intp), sizes)
        starts = np.cumsum(sizes) - sizes
        worker = np.arange(len(flat), dtype=np.intp) - np.repeat(starts, sizes).astype(np.intp)
        total_w = image_sums(w, image, n)
    fuse_w = np.where(total_w[image] > 0, w, 1.0)
    total_fuse = np.where(total_w > 0, total_w, np.bincount(image, minlength=n))
    return Crowd(image, worker, w, label_w, fuse_w, n, total_w, total_fuse)


def sigmoid(x: np.ndarray | float) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))


def pairs_before(end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-major pairs (i, j) with i < j < end[i]."""
    count = np.maximum(end - np.arange(len(end)) - 1, 0)
    rows = np.repeat(np.arange(len(end), dtype=np.intp), count)
    starts = np.cumsum(count) - count
    cols = np.arange(len(rows), dtype=np.intp) - np.repeat(starts, count) + rows + 1
    return rows, cols


def cluster_pairs(
    n: int, rows: np.ndarray, cols: np.ndarray, iou: np.ndarray, owner: np.ndarray
) -> np.ndarray:
    """Cluster id per shape: merge the candidate pairs (rows[k] < cols[k], IoU ≥ threshold,
    different workers, row-major order) by descending IoU, never giving one worker (``owner``,
    the worker's index within the image) two shapes in a cluster. Ties keep the row-major
    order, so the result depends only on the (canonical) order of the shapes. Ids follow each
    cluster's first (lowest) member."""
    if not len(rows):
        return np.arange(n, dtype=np.intp)
    order = np.argsort(-iou, kind="stable")
    parent = list(range(n))
    workers = [1 << o for o in owner.tolist()]
    for i, j in zip(rows[order].tolist(), cols[order].tolist(), strict=True):
        while parent[i] != i:
            i = parent[i]
        while parent[j] != j:
            j = parent[j]
        if i != j and not workers[i] & workers[j]:
            if i > j:
                i, j = j, i  # a cluster's root is its lowest member
            parent[j] = i
            workers[i] |= workers[j]
    for i in range(n):
        parent[i] = parent[parent[i]]  # parents are lower than children: one pass reaches roots
    roots = np.array(parent, dtype=np.intp)
    return np.cumsum(roots == np.arange(n))[roots] - 1


def cluster_greedy(iou: np.ndarray, owner: np.ndarray, threshold: float) -> np.ndarray:
    """``cluster_pairs`` on a full (N, N) IoU matrix of one image."""
    candidate = iou >= threshold - TOLERANCE
    candidate &= owner[:, None] != owner[None, :]
    rows, cols = np.nonzero(candidate)
    upper = rows < cols
    rows, cols = rows[upper], cols[upper]
    return cluster_pairs(len(owner), rows, cols, iou[rows, cols], owner)


def vote_clusters(
    cid: np.ndarray, slot: np.ndarray, label: np.ndarray, crowd: Crowd, n_labels: int, quorum: float
) -> ClusterVotes:
    """Keep Σ_S fuse_w ≥ quorum · Σ fuse_w (per image); P(object) = σ(2 Σ_S w - Σ w);
    P(label y) ∝ exp(Σ_{members voting y} λ)."""
    n_clusters = int(cid.max()) + 1 if len(cid) else 0
    image = np.zeros(n_clusters, dtype=np.intp)
    if crowd.n_images > 1:
        image[cid] = crowd.image[slot]
    total_w, total_fuse = crowd.total_w[image], crowd.total_fuse[image]
    support = np.bincount(cid, weights=crowd.fuse_w[slot], minlength=n_clusters)
    drawn = np.bincount(cid, weights=crowd.w[slot], minlength=n_clusters)
    k = max(n_labels, 1)
    cell = cid * k + label
    scores = np.bincount(cell, weights=crowd.label_w[slot], minlength=n_clusters * k)
    counts = np.bincount(cell, minlength=n_clusters * k)
    scores, counts = scores.reshape(-1, k), counts.reshape(-1, k)
    winner = np.argmax(scores + TOLERANCE * counts, axis=1)
    posterior = np.exp(scores - scores[np.arange(n_clusters), winner][:, None])
    return ClusterVotes(
        image=image,
        keep=support >= quorum * total_fuse * (1 - TOLERANCE),
        existence=sigmoid(2 * drawn - total_w),
        label=winner,
        label_confidence=1.0 / posterior.sum(axis=1),
    )


def member_weights(
    cid: np.ndarray, slot: np.ndarray, crowd: Crowd, power: float = 2.0
) -> np.ndarray:
    """Each shape's placement weight w^power (boxes: w², polygons: w); equal weights inside a
    cluster whose members all weigh 0."""
    w = crowd.fuse_w[slot] ** power
    n_clusters = int(cid.max()) + 1 if len(cid) else 0
    weightless = np.bincount(cid, weights=w, minlength=n_clusters) <= 0
    return np.where(weightless[cid], 1.0, w)


def image_sums(values: np.ndarray, image: np.ndarray, n_images: int) -> np.ndarray:
    """Per image Σ values, added in sorted order so that the float result cannot depend on the
    order in which the image's workers are listed."""
    order = np.lexsort((values, image))
    return np.bincount(image[order], weights=values[order], minlength=n_images)


def grouped_mean(values: np.ndarray, cid: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Per cluster Σ w v / Σ w for (N,) or (N, d) values; 0 for a cluster without weight. Taken
    as the first member's value plus the weighted mean deviation from it, so that one member,
    or identical members, give back their value exactly."""
    if not len(cid):
        return np.zeros((0, *values.shape[1:]))
    n_clusters = int(cid.max()) + 1
    total = np.bincount(cid, weights=w, minlength=n_clusters).astype(float)
    first = np.argsort(cid, kind="stable")[np.searchsorted(np.sort(cid), np.arange(n_clusters))]
    base = values[first]
    deviation = values - base[cid]
    if values.ndim == 1:
        sums = np.bincount(cid, weights=w * deviation, minlength=n_clusters)
    else:
        d = values.shape[1]
        cell = (cid[:, None] * d + np.arange(d)).ravel()
        flat = (w[:, None] * deviation).ravel()
        sums = np.bincount(cell, weights=flat, minlength=n_clusters * d).reshape(-1, d)
    shape = (-1,) if values.ndim == 1 else (-1, 1)
    mean = np.divide(
        sums, total.reshape(shape), out=np.zeros_like(sums), where=total.reshape(shape) > 0
    )
    return np.where(total.reshape(shape) > 0, base + mean, 0.0)


def grouped_median(values: np.ndarray, cid: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Per cluster the weighted median: the value where the cumulative weight (values sorted)
    first reaches half the cluster's weight; exactly half → midpoint with the next value."""
    if not len(cid):
        return np.zeros(0)
    n_clusters = int(cid.max()) + 1
    total = np.bincount(cid, weights=w, minlength=n_clusters)
    order = np.lexsort((values, cid))
    v, g, ww = values[order], cid[order], w[order]
    cum = np.cumsum(ww)
    starts = np.searchsorted(g, np.arange(n_clusters))
    cum_within = cum - (cum[starts] - ww[starts])[g]
    half = total[g] / 2
    hits = np.flatnonzero(cum_within >= half - TOLERANCE * total[g])
    first = hits[np.r_[True, g[hits][1:] != g[hits][:-1]]]
    nxt = np.minimum(first + 1, len(v) - 1)
    exact = np.abs(cum_within[first] - half[first]) <= TOLERANCE * total[g[first]]
    exact &= g[nxt] == g[first]
    return np.where(exact, (v[first] + v[nxt]) / 2, v[first])


def member_agreement(
    cid: np.ndarray,
    slot: np.ndarray,
    label: np.ndarray,
    member_iou: np.ndarray,
    votes: ClusterVotes,
    crowd: Crowd,
    threshold: float,
) -> np.ndarray:
    """Per slot F1 = 2·hits / (drawn + fused in its image); a hit: kept cluster, fused label,
    IoU with the fused shape ≥ threshold."""
    hit = votes.keep[cid] & (label == votes.label[cid]) & (member_iou >= threshold - TOLERANCE)
    n_slots = len(crowd.image)
    hits = np.bincount(slot[hit], minlength=n_slots)
    fused = np.bincount(votes.image[votes.keep], minlength=crowd.n_images)
    drawn = np.bincount(slot, minlength=n_slots) + fused[crowd.image]
    f1 = np.ones(n_slots)
    np.divide(2.0 * hits, drawn, out=f1, where=drawn > 0)
    return f1


def task_confidence(votes: ClusterVotes, crowd: Crowd, agreement: np.ndarray) -> np.ndarray:
    """Per image min(each keep/drop decision's probability, σ(Σ w), fuse_w-weighted mean
    agreement); 0 for an image nobody answered."""
    n = crowd.n_images
    agree = image_sums(crowd.fuse_w * agreement, crowd.image, n)
    mean_agree = np.divide(agree, crowd.total_fuse, out=np.zeros(n), where=crowd.total_fuse > 0)
    confidence: np.ndarray = np.minimum(sigmoid(crowd.total_w), mean_agree)
    decisions = np.where(
        votes.keep, votes.existence * votes.label_confidence, 1.0 - votes.existence
    )
    if n == 1:
        confidence = np.minimum(confidence, decisions.min(initial=1.0))
    else:
        np.minimum.at(confidence, votes.image, decisions)
    return confidence


def supporters(cid: np.ndarray, worker: np.ndarray, n_clusters: int) -> list[list[int]]:
    """Per cluster, the sorted indices (within the image) of the workers with a shape in it."""
    order = np.lexsort((worker, cid))
    bounds = np.searchsorted(cid[order], np.arange(n_clusters + 1)).tolist()
    workers = worker[order].tolist()
    return [workers[bounds[c] : bounds[c + 1]] for c in range(n_clusters)]


def match_pairs(
    iou: np.ndarray, compatible: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy one-to-one matching of rows to columns by descending IoU among compatible pairs
    with IoU ≥ threshold (ties to the lower row, then column). Used to score against a truth."""
    rows, cols = np.nonzero((iou >= threshold - TOLERANCE) & compatible)
    order = np.argsort(-iou[rows, cols], kind="stable")
    used_rows: set[int] = set()
    used_cols: set[int] = set()
    out_r, out_c = [], []
    for r, c in zip(rows[order].tolist(), cols[order].tolist(), strict=True):
        if r not in used_rows and c not in used_cols:
            used_rows.add(r)
            used_cols.add(c)
            out_r.append(r)
            out_c.append(c)
    return np.array(out_r, dtype=np.intp), np.array(out_c, dtype=np.intp)


def f1_score(matched: int, n_pred: int, n_ref: int) -> float:
    """2·TP / (|pred| + |ref|), and 1.0 when both sets are empty."""
    return 1.0 if n_pred + n_ref == 0 else 2.0 * matched / (n_pred + n_ref)


def label_indices(names: Sequence[str], labels: Sequence[str], worker: int) -> np.ndarray:
    """Positions of ``names`` in the project's ``labels`` (ValueError on a foreign label)."""
    index = {name: k for k, name in enumerate(labels)}
    missing = [name for name in names if name not in index]
    if missing:
        raise ValueError(f"worker {worker}: label {missing[0]!r} is not a project label")
    return np.array([index[name] for name in names], dtype=np.intp)


def check_parameters(iou_threshold: float, quorum: float) -> None:
    if not 0 < iou_threshold <= 1:
        raise ValueError(f"iou_threshold must be in (0, 1], not {iou_threshold}")
    if not 0 <= quorum <= 1:
        raise ValueError(f"quorum must be in [0, 1], not {quorum}")

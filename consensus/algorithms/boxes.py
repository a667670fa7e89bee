"""Fusing the boxes several workers drew on one image into one skill-weighted answer.

Skills. Two numbers per worker, both in [0, 1] (WorkerSkill posteriors learnt from gold):
p, their accuracy at finding and placing objects (label-agnostic F1 on gold), and q, their label
accuracy on the boxes they got right; q defaults to p, so one number per worker also works (then
the label-aware gold F1 is the natural choice; benchmarks/consensus_shapes.py measures both).

Weights. A worker's evidence about an object is one coin, so they weigh its log-odds above
chance,

    w_i = max(0, logit p_i - logit CHANCE_ACCURACY),   CHANCE_ACCURACY = 1/2:

a worker whose boxes are as often wrong as right weighs 0, and so does anyone worse (a spammer,
p → 0, or a lazy worker who draws one box of ten). p is clipped to [0.001, 0.999] (w ≤ 6.9); a
non-finite p counts as chance. If every worker of an image weighs 0, the shapes are still placed
and the quorum tested with equal weights, but every probability below is then 1/2 or less.

Matching (label-agnostic). IoU between every pair of boxes from different workers; pairs with
IoU ≥ t are merged by descending IoU (union-find), refusing a merge that would give one worker two
boxes in a cluster. ``matching="hungarian"`` instead assigns workers one at a time, by weight,
optimally against the weighted mean boxes of the clusters so far (same quality, slower).

Keep. A cluster drawn by the workers S is kept when Σ_{i∈S} w_i ≥ quorum · Σ_i w_i, over everyone
who answered (drawing nothing is an answer). Under the one-coin model its existence posterior is

    P(object | S) = σ(Σ_{i∈S} w_i - Σ_{i∉S} w_i),

so quorum 1/2 keeps exactly the clusters whose posterior reaches 1/2.

Coordinates. Each edge (x1, y1, x2, y2) is the members' mean weighted by w_i²: the
inverse-variance (maximum-likelihood) estimate of a common edge when worker i's click noise has
σ_i ∝ 1/w_i. ``coordinates="median"`` gives the w²-weighted median instead (robust to one wild
member, but noisier: the benchmark measures w, w², w³ and both rules).

Label. classification.py's one-coin vote inside the cluster with K = len(labels): P(y) ∝
exp(Σ_{members voting y} λ_i), λ_i = max(0, log((K-1) q_i / (1-q_i))), so one worker's wrong class
is outvoted instead of being split off as another object. Ties go to the label listed first; when
every λ is 0 the plain count decides.

Confidence. Object: P(object) · P(label). Task: the least certain decision in the image — every
kept object, 1 - P(object) for every dropped cluster, and σ(Σ w) that no object nobody drew is
there — capped by the w-weighted mean agreement, so a crowd that drew boxes but agreed on none goes
to review instead of being confidently empty.

Agreement. A worker's F1 against the fused set: their box is a hit when its cluster is kept, it
carries the fused label and its IoU with the fused box is ≥ t (a cluster holds at most one box per
worker, so hits are one-to-one); F1 = 2·hits / (drawn + fused), 1.0 when both are empty.

Degenerate cases, none raising: no workers → no objects, confidence 0; one worker → their boxes,
each with confidence p·q (P(object) = p and P(label) = q for one vote, as in classification);
nobody drew anything → no objects, agreement 1 each, confidence σ(Σ w) (0.98 for three workers at
p = 0.8); every worker disagreeing → clusters of one, dropped, agreement 0, task confidence 0.
Boxes without a finite positive area are ignored (the payload validator never lets them through).
Wrong lengths, labels outside the project's list and parameters out of range are programming
errors: ValueError.

``fuse_boxes_many`` fuses a batch of images in one vectorised pass with identical results
(``fuse_boxes`` is a batch of one). The crowd model — weights, clustering, voting, agreement,
confidence — works on flat arrays with one slot per (image, worker) and lives in clusters.py,
shared with polygons.py; this module holds what is particular to boxes. box_clusters.py clusters
a batch once, for a caller that learns skills from the fused sets and votes again.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from consensus.algorithms.clusters import (
    TOLERANCE,
    ClusterVotes,
    Crowd,
    Fusion,
    check_parameters,
    cluster_greedy,
    cluster_pairs,
    crowd_slots,
    grouped_mean,
    grouped_median,
    label_indices,
    member_agreement,
    member_weights,
    pairs_before,
    supporters,
    task_confidence,
    vote_clusters,
)
from consensus.algorithms.geometry import corners_iou_matrix, corners_iou_pairs, xyxy

CHUNK_PAIRS = 400_000  # fuse_boxes_many handles images in chunks of about this many box pairs
BOX_PLACEMENT_POWER = 2.0  # box edges are averaged with weights w^this (see Coordinates)

BoxAnswer = tuple[np.ndarray, Sequence[str]]  # (n, 4) xywh boxes and their n label names
# One image: (answers, accuracies) or (answers, accuracies, label_accuracies).
BoxTask = (
    tuple[Sequence[BoxAnswer], Sequence[float]]
    | tuple[Sequence[BoxAnswer], Sequence[float], Sequence[float] | None]
)


@dataclass(frozen=True)
class FusedBox:
    label: str
    bbox: list[float]  # [x, y, w, h], image pixels
    confidence: float  # existence · label_confidence
    label_confidence: float
    existence: float
    mean_iou: float  # w²-weighted mean IoU of the members with the fused box
    support: list[int]  # indices of the workers whose box is in this cluster


BoxFusion = Fusion[FusedBox]


def box_pairs(
    image: np.ndarray, corners: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """A superset of the pairs (i < j, same image) with IoU ≥ threshold, row-major, for boxes
    sorted by image then x1. IoU ≥ t needs the x-overlap ≥ t·w_i (the intersection is at most
    overlap · h_i and at least t · w_i h_i), so j must start before x1_i + (1 - t)·w_i."""
    same_image_end = np.searchsorted(image, image, side="right")
    if not len(image):
        return pairs_before(same_image_end)
    span = float(np.ptp(corners[:, [0, 2]])) + 4.0
    if threshold <= 0 or span * (int(image[-1]) + 1) > 1e12:
        return pairs_before(same_image_end)
    key = image * span + (corners[:, 0] - corners[:, 0].min())
    reach = key + (1 - threshold + TOLERANCE) * (corners[:, 2] - corners[:, 0]) + 1.0
    end = np.minimum(np.searchsorted(key, reach, side="right"), same_image_end)
    return pairs_before(end)


def _flatten(
    answers: Sequence[BoxAnswer], labels: Sequence[str], crowd: Crowd
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Corners (N, 4) of all usable boxes with their slot and label index, in a canonical order
    (image, then x, y, w, h, label, the worker's weight) so that no result can depend on the
    order in which an image's workers are listed."""
    arrays = [np.asarray(drawn, dtype=np.float64).reshape(-1, 4) for drawn, _ in answers]
    counts = [len(names) for _, names in answers]
    for s, (arr, count) in enumerate(zip(arrays, counts, strict=True)):
        if len(arr) != count:
            worker = int(crowd.worker[s])
            raise ValueError(f"worker {worker}: {len(arr)} boxes but {count} labels")
    boxes = np.concatenate(arrays) if arrays else np.zeros((0, 4))
    slot = np.repeat(np.arange(len(answers), dtype=np.intp), counts)
    index = {name: k for k, name in enumerate(labels)}
    try:
        names = (index[name] for _, drawn in answers for name in drawn)
        label = np.fromiter(names, dtype=np.intp, count=len(boxes))
    except KeyError:
        for s, (_, drawn) in enumerate(answers):
            label_indices(drawn, labels, int(crowd.worker[s]))
        raise
    corners, area = xyxy(boxes)
    if not area.all():
        usable = area > 0
        corners, slot, label = corners[usable], slot[usable], label[usable]
    c = corners
    keys = (crowd.w[slot], label, c[:, 3], c[:, 2], c[:, 1], c[:, 0], crowd.image[slot])
    order = np.lexsort(keys)
    return corners[order], slot[order], label[order]


def cluster_hungarian(
    corners: np.ndarray, slot: np.ndarray, weights: np.ndarray, threshold: float
) -> np.ndarray:
    """Cluster id per box of one image: workers by descending weight (then by their first box)
    are assigned optimally (max total IoU) to the weighted mean boxes of the clusters so far; a
    box left unassigned or with IoU < threshold starts a cluster. Ids follow the first member."""
    from scipy.optimize import linear_sum_assignment  # SciPy costs 0.3 s to load: only here

    fuse_w = weights + TOLERANCE
    first = {int(s): k for k, s in reversed(list(enumerate(slot)))}
    cid = np.full(len(slot), -1, dtype=np.intp)
    sums, mass = np.zeros((0, 4)), np.zeros(0)
    for worker in sorted(first, key=lambda s: (-fuse_w[s], first[s])):
        idx = np.flatnonzero(slot == worker)
        new = np.ones(len(idx), dtype=bool)
        if len(mass):
            iou = corners_iou_matrix(corners[idx], sums / mass[:, None])
            r, c = linear_sum_assignment(iou, maximize=True)
            ok = iou[r, c] >= threshold - TOLERANCE
            cid[idx[r[ok]]] = c[ok]
            new[r[ok]] = False
        cid[idx[new]] = len(mass) + np.arange(int(new.sum()))
        sums = np.vstack([sums, np.zeros((int(new.sum()), 4))])
        mass = np.concatenate([mass, np.zeros(int(new.sum()))])
        np.add.at(sums, cid[idx], fuse_w[worker] * corners[idx])
        np.add.at(mass, cid[idx], fuse_w[worker])
    _, first_member, inverse = np.unique(cid, return_index=True, return_inverse=True)
    rank = np.empty(len(first_member), dtype=np.intp)
    rank[np.argsort(first_member, kind="stable")] = np.arange(len(first_member))
    return rank[inverse].reshape(-1)


def _cluster(
    corners: np.ndarray,
    slot: np.ndarray,
    crowd: Crowd,
    threshold: float,
    matching: Literal["greedy", "hungarian"],
) -> np.ndarray:
    image = crowd.image[slot]
    if matching == "greedy" and crowd.n_images == 1:  # same pairs, same order, fewer steps
        return cluster_greedy(corners_iou_matrix(corners, corners), slot, threshold)
    if matching == "greedy":
        rows, cols = box_pairs(image, corners, threshold)
        iou = corners_iou_pairs(corners[rows], corners[cols])
        candidate = (iou >= threshold - TOLERANCE) & (slot[rows] != slot[cols])
        owner = crowd.worker[slot]
        return cluster_pairs(len(slot), rows[candidate], cols[candidate], iou[candidate], owner)
    cid = np.empty(len(slot), dtype=np.intp)
    bounds = np.searchsorted(image, np.arange(crowd.n_images + 1))
    offset = 0
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        part = cluster_hungarian(corners[lo:hi], slot[lo:hi], crowd.fuse_w, threshold)
        cid[lo:hi] = part + offset
        offset += int(part.max()) + 1 if hi > lo else 0
    return cid


def _fuse_chunk(
    tasks: Sequence[BoxTask],
    labels: Sequence[str],
    threshold: float,
    quorum: float,
    matching: Literal["greedy", "hungarian"],
    coordinates: Literal["mean", "median"],
) -> list[BoxFusion]:
    for task in tasks:
        if len(task[0]) != len(task[1]):
            raise ValueError(f"{len(task[0])} answers but {len(task[1])} accuracies")
    label_accuracies = [task[2] if len(task) > 2 else None for task in tasks]
    crowd = crowd_slots([task[1] for task in tasks], len(labels), label_accuracies)
    corners, slot, label = _flatten([a for task in tasks for a in task[0]], labels, crowd)
    cid = _cluster(corners, slot, crowd, threshold, matching)
    return _fusions(corners, slot, label, cid, crowd, labels, threshold, quorum, coordinates)


def _fusions(
    corners: np.ndarray,
    slot: np.ndarray,
    label: np.ndarray,
    cid: np.ndarray,
    crowd: Crowd,
    labels: Sequence[str],
    threshold: float,
    quorum: float,
    coordinates: Literal["mean", "median"] = "mean",
) -> list[BoxFusion]:
    """Vote, place, grade and describe the clusters ``cid`` of a batch."""
    votes = vote_clusters(cid, slot, label, crowd, len(labels), quorum)
    w = member_weights(cid, slot, crowd, BOX_PLACEMENT_POWER)
    if coordinates == "mean":
        fused = grouped_mean(corners, cid, w)
    else:
        fused = np.stack([grouped_median(corners[:, k], cid, w) for k in range(4)], axis=1)
    member_iou = corners_iou_pairs(corners, fused[cid])
    agreement = member_agreement(cid, slot, label, member_iou, votes, crowd, threshold)
    confidence = task_confidence(votes, crowd, agreement)
    objects = _objects(votes, fused, grouped_mean(member_iou, cid, w), cid, slot, crowd, labels)
    bounds = np.searchsorted(crowd.image, np.arange(crowd.n_images + 1)).tolist()
    agreement_list, weight_list = agreement.tolist(), crowd.w.tolist()
    return [
        BoxFusion(
            objects=sorted(objects[i], key=lambda o: (-o.confidence, o.bbox, o.label)),
            confidence=float(confidence[i]),
            agreement=agreement_list[bounds[i] : bounds[i + 1]],
            weights=weight_list[bounds[i] : bounds[i + 1]],
        )
        for i in range(crowd.n_images)
    ]


def _objects(
    votes: ClusterVotes,
    fused: np.ndarray,
    spread: np.ndarray,
    cid: np.ndarray,
    slot: np.ndarray,
    crowd: Crowd,
    labels: Sequence[str],
) -> list[list[FusedBox]]:
    """The kept clusters as FusedBox lists, one list per image."""
    kept = np.flatnonzero(votes.keep)
    support = supporters(cid, crowd.worker[slot], len(votes.keep))
    xywh = np.concatenate([fused[:, :2], fused[:, 2:] - fused[:, :2]], axis=1)[kept].tolist()
    existence, label_conf = votes.existence[kept].tolist(), votes.label_confidence[kept].tolist()
    names = [labels[k] for k in votes.label[kept].tolist()]
    spread_kept = spread[kept].tolist()
    per_image: list[list[FusedBox]] = [[] for _ in range(crowd.n_images)]
    for k, (c, image) in enumerate(zip(kept.tolist(), votes.image[kept].tolist(), strict=True)):
        per_image[image].append(
            FusedBox(
                label=names[k],
                bbox=xywh[k],
                confidence=existence[k] * label_conf[k],
                label_confidence=label_conf[k],
                existence=existence[k],
                mean_iou=spread_kept[k],
                support=support[c],
            )
        )
    return per_image


def _chunks(tasks: Sequence[BoxTask], max_pairs: int) -> Iterator[Sequence[BoxTask]]:
    start, pairs = 0, 0
    for i, task in enumerate(tasks):
        n = sum(len(names) for _, names in task[0])
        if pairs and pairs + n * n // 2 > max_pairs:
            yield tasks[start:i]
            start, pairs = i, 0
        pairs += n * n // 2
    if start < len(tasks):
        yield tasks[start:]


def fuse_boxes_many(
    tasks: Sequence[BoxTask],
    labels: Sequence[str],
    *,
    iou_threshold: float = 0.5,
    quorum: float = 0.5,
    matching: Literal["greedy", "hungarian"] = "greedy",
    coordinates: Literal["mean", "median"] = "mean",
) -> list[BoxFusion]:
    """``fuse_boxes`` for many images in one vectorised pass, with identical results:
    tasks = [(answers, accuracies) or (answers, accuracies, label_accuracies), ...]."""
    check_parameters(iou_threshold, quorum)
    out: list[BoxFusion] = []
    for chunk in _chunks(tasks, CHUNK_PAIRS):
        out.extend(_fuse_chunk(chunk, labels, iou_threshold, quorum, matching, coordinates))
    return out


def fuse_boxes(
    answers: Sequence[BoxAnswer],
    accuracies: Sequence[float],
    labels: Sequence[str],
    *,
    label_accuracies: Sequence[float] | None = None,
    iou_threshold: float = 0.5,
    quorum: float = 0.5,
    matching: Literal["greedy", "hungarian"] = "greedy",
    coordinates: Literal["mean", "median"] = "mean",
) -> BoxFusion:
    """Fuse one image's answers: per worker ((n_i, 4) xywh boxes, n_i label names), each
    worker's accuracy in [0, 1] (and optionally their label accuracy), the project's labels."""
    check_parameters(iou_threshold, quorum)
    task = (answers, accuracies, label_accuracies)
    return _fuse_chunk([task], labels, iou_threshold, quorum, matching, coordinates)[0]

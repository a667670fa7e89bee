"""Boxes clustered once, voted many times: ``cluster_boxes_many`` clusters a batch of images
(greedy matching, which no skill changes), so that a caller learning skills from the fused sets
(the command line) can vote again with new skills (``BoxClusters.agreement``) and fuse at the end
(``BoxClusters.fuse``) without clustering again. Fusing gives ``fuse_boxes_many``'s results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from consensus.algorithms.boxes import (
    BOX_PLACEMENT_POWER,
    CHUNK_PAIRS,
    BoxAnswer,
    BoxFusion,
    _chunks,
    _cluster,
    _flatten,
    _fusions,
)
from consensus.algorithms.clusters import (
    CHANCE_ACCURACY,
    TOLERANCE,
    Crowd,
    check_parameters,
    crowd_slots,
    grouped_mean,
    member_weights,
    vote_clusters,
)
from consensus.algorithms.geometry import corners_iou_pairs


@dataclass(frozen=True)
class SlotAgreement:
    """Per slot (image by image, each image's workers in their order) how far the worker's
    boxes agree with the fused set: ``f1`` as in BoxFusion.agreement (label required),
    ``presence`` the same F1 with any label, and ``hits``/``right_label`` the boxes that matched a
    kept cluster and those of them that carry its label."""

    f1: np.ndarray
    presence: np.ndarray
    hits: np.ndarray
    right_label: np.ndarray


@dataclass(frozen=True)
class BoxClusters:
    """What no skill changes in fusing a batch (greedy matching): the usable boxes in canonical
    order, their slot and label, and their label-agnostic clusters. A caller that re-estimates
    skills from the fused sets (the command line) votes again with ``agreement`` at the cost of
    a few array operations instead of fusing again. The canonical order here ignores weights,
    which only break ties between identical boxes, so a cluster can differ from
    ``fuse_boxes_many``'s only by which of two identical boxes it holds."""

    workers: list[int]  # workers per image
    corners: np.ndarray
    slot: np.ndarray
    label: np.ndarray
    cid: np.ndarray
    n_labels: int
    threshold: float

    def agreement(
        self,
        accuracies: np.ndarray,
        label_accuracies: np.ndarray | None = None,
        quorum: float = 0.5,
    ) -> SlotAgreement:
        """Vote with these per-slot skills and grade every slot against the fused set."""
        crowd = self._crowd(accuracies, label_accuracies)
        cid, slot, label = self.cid, self.slot, self.label
        votes = vote_clusters(cid, slot, label, crowd, self.n_labels, quorum)
        fused = grouped_mean(
            self.corners, cid, member_weights(cid, slot, crowd, BOX_PLACEMENT_POWER)
        )
        member_iou = corners_iou_pairs(self.corners, fused[cid])
        found = votes.keep[cid] & (member_iou >= self.threshold - TOLERANCE)
        right = found & (label == votes.label[cid])
        n_slots = len(crowd.image)
        drawn = np.bincount(slot, minlength=n_slots)
        drawn += np.bincount(votes.image[votes.keep], minlength=crowd.n_images)[crowd.image]
        hits = np.bincount(slot[found], minlength=n_slots)
        right_label = np.bincount(slot[right], minlength=n_slots)
        return SlotAgreement(_f1(right_label, drawn), _f1(hits, drawn), hits, right_label)

    def fuse(
        self,
        labels: Sequence[str],
        accuracies: np.ndarray,
        label_accuracies: np.ndarray | None = None,
        quorum: float = 0.5,
    ) -> list[BoxFusion]:
        """``fuse_boxes_many`` with these per-slot skills on the clusters made once."""
        check_parameters(self.threshold, quorum)
        crowd = self._crowd(accuracies, label_accuracies)
        return _fusions(
            self.corners, self.slot, self.label, self.cid, crowd, labels, self.threshold, quorum
        )

    def _crowd(self, accuracies: np.ndarray, label_accuracies: np.ndarray | None) -> Crowd:
        bounds = np.cumsum([0, *self.workers]).tolist()
        per_image = [accuracies[a:b].tolist() for a, b in zip(bounds, bounds[1:], strict=False)]
        labelled = None
        if label_accuracies is not None:
            labelled = [
                label_accuracies[a:b].tolist() for a, b in zip(bounds, bounds[1:], strict=False)
            ]
        return crowd_slots(per_image, self.n_labels, labelled)


def _f1(hits: np.ndarray, drawn: np.ndarray) -> np.ndarray:
    f1 = np.ones(len(hits))
    np.divide(2.0 * hits, drawn, out=f1, where=drawn > 0)
    return f1


def cluster_boxes_many(
    answers: Sequence[Sequence[BoxAnswer]], labels: Sequence[str], *, iou_threshold: float = 0.5
) -> BoxClusters:
    """Cluster a batch of images once (greedy matching), for ``BoxClusters.agreement``."""
    check_parameters(iou_threshold, 0.5)
    parts, slots, clusters = [], 0, 0
    for chunk in _chunks([(image, ()) for image in answers], CHUNK_PAIRS):
        images = [task[0] for task in chunk]
        crowd = crowd_slots([[CHANCE_ACCURACY] * len(image) for image in images], len(labels))
        corners, slot, label = _flatten([a for image in images for a in image], labels, crowd)
        cid = _cluster(corners, slot, crowd, iou_threshold, "greedy")
        parts.append((corners, slot + slots, label, cid + clusters))
        slots += len(crowd.image)
        clusters += int(cid.max()) + 1 if len(cid) else 0
    if not parts:
        parts = [(np.zeros((0, 4)), *(np.zeros(0, dtype=np.intp),) * 3)]
    corners, slot, label, cid = (np.concatenate(column) for column in zip(*parts, strict=True))
    workers = [len(image) for image in answers]
    return BoxClusters(workers, corners, slot, label, cid, len(labels), iou_threshold)

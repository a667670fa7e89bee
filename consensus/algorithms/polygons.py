"""Fusing the polygons several workers drew on one image into one skill-weighted answer.

Everything but the geometry is the shared crowd model of clusters.py (its maths explained in
boxes.py): skills p (presence) and q (labels), weights
w_i = max(0, logit p_i), label-agnostic greedy clustering (at most one polygon per worker per
cluster) on polygon IoU, the quorum Σ_S w ≥ quorum · Σ w, P(object) = σ(Σ_S w - Σ_{not S} w), the
label vote, per-worker F1 agreement and the task confidence (see boxes.py for the maths and the
degenerate cases).

The fused outline of a cluster with members P_j and weights w_j:

- ``method="vote"`` (default): the weighted pixel vote {x : Σ_j w_j [x ∈ P_j] ≥ ½ Σ_j w_j}. A
  weighted median of the outlines, so a minority cannot drag it. Its weights are w, the quorum's,
  not the w² boxes average with: a median needs no inverse-variance weighting, and in development
  runs on the simulator w, w² and equal weights came within ±0.005 mean IoU of each other.
  Computed exactly on the overlay — the outlines noded and polygonised into faces, a face kept
  when the members covering it weigh at least half — while that overlay is small, else on a
  raster (below);
- ``method="medoid"``: the member maximising Σ_j w_j IoU(P_i, P_j) (itself included, so between
  equals the more skilled worker's polygon wins). Cheaper; less accurate on the simulator.

Bounded work. The overlay has a face per crossing of two outlines, and crossings can number
n·m: a 1,000-point comb and its transpose cross 250,000 times, and the exact vote of five such
combs ran past the scoring job's 300 s limit at ~850 MB. So the exact vote runs only while the
members have at most VOTE_MAX_EDGE_PAIRS edge pairs (``geometry.edge_pairs``: pairs of edges of
two members whose bounding boxes meet — an upper bound on the crossings, counted with early exit
in O(E log E + cap)); just under the cap, fusing five 1,000-point combs takes ~0.1 s. Beyond it
the vote is taken on a fixed RASTER_CELLS² grid over the cluster's bounds: each member filled by
an even-odd scanline (``geometry.raster_fill``, O(E · RASTER_CELLS + RASTER_CELLS²)), a cell kept
where the weight of the members containing its centre reaches half, and the largest kept
region's outline traced back into a polygon (``mask_outline``, O(RASTER_CELLS² log
RASTER_CELLS)). That costs the same whatever the crossings, ~0.1 s for five 1,000-point combs,
and lands within about a cell of the exact vote (IoU ≥ 0.99 where both can run). Identical
members are merged first, so copies of one detailed outline stay exact. Typical crowds — tens to
a few hundred points per outline, all following one object — stay far below the cap and fuse
exactly as before. The IoU used for clustering and agreement is bounded the same way
(geometry.py).

The result is always one valid simple Polygon (no holes, as the payload format has none): the
largest part of the vote, its exterior ring; if the vote is empty or degenerate, the medoid.
Polygons that are invalid are repaired (geometry.as_polygons); those without area are ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import shapely
from shapely.errors import GEOSException

from consensus.algorithms.clusters import (
    TOLERANCE,
    Crowd,
    Fusion,
    check_parameters,
    cluster_greedy,
    crowd_slots,
    grouped_mean,
    label_indices,
    member_agreement,
    member_weights,
    supporters,
    task_confidence,
    vote_clusters,
)
from consensus.algorithms.geometry import (
    RASTER_CELLS,
    as_polygons,
    overlay_within,
    polygon_iou_pairs,
    prepared_self_iou,
    raster_fill,
)

PolygonAnswer = tuple[Sequence[np.ndarray], Sequence[str]]  # n (k, 2) point arrays, n labels
# A cluster with more edge pairs than this is voted on the raster: just under it, fusing five
# 1,000-point combs exactly takes ~0.1 s (benchmarks/polygon_worst_case.py, "under the vote cap").
VOTE_MAX_EDGE_PAIRS = 5_000


@dataclass(frozen=True)
class FusedPolygon:
    label: str
    points: list[list[float]]  # [[x, y], ...], image pixels, closing point implied
    confidence: float  # existence · label_confidence
    label_confidence: float
    existence: float
    mean_iou: float  # w-weighted mean IoU of the members with the fused polygon
    support: list[int]  # indices of the workers whose polygon is in this cluster


PolygonFusion = Fusion[FusedPolygon]


def _flatten(
    answers: Sequence[PolygonAnswer], labels: Sequence[str], crowd: Crowd
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All usable polygons with their worker and label index, in a canonical content order
    (bounds, area, label, the worker's weight) so no result can depend on the workers' order."""
    geoms: list[shapely.Geometry] = []
    owner: list[int] = []
    label: list[int] = []
    for i, (drawn, names) in enumerate(answers):
        if len(drawn) != len(names):
            raise ValueError(f"worker {i}: {len(drawn)} polygons but {len(names)} labels")
        geoms.extend(as_polygons(list(drawn)))
        owner.extend([i] * len(drawn))
        label.extend(label_indices(names, labels, i).tolist())
    g = np.empty(len(geoms), dtype=object)
    g[:] = geoms
    o, lab = np.array(owner, dtype=np.intp), np.array(label, dtype=np.intp)
    usable = shapely.area(g) > 0 if len(g) else np.zeros(0, dtype=bool)
    g, o, lab = g[usable], o[usable], lab[usable]
    b = shapely.bounds(g) if len(g) else np.zeros((0, 4))
    area = shapely.area(g) if len(g) else np.zeros(0)
    order = np.lexsort((crowd.w[o], lab, area, b[:, 3], b[:, 2], b[:, 1], b[:, 0]))
    return g[order], o[order], lab[order]


def medoid_polygon(geoms: np.ndarray, weights: np.ndarray) -> shapely.Geometry:
    """The member with the largest Σ_j w_j IoU(P_i, P_j); ties to the first."""
    iou = prepared_self_iou(geoms)
    return geoms[int(np.argmax(iou @ weights))]


def vote_polygon(geoms: np.ndarray, weights: np.ndarray) -> shapely.Geometry:
    """The region covered by members weighing at least half the cluster: exact on the overlay
    while the members have at most VOTE_MAX_EDGE_PAIRS edge pairs, else on the raster."""
    geoms, weights = _merge_duplicates(geoms, weights)
    if len(geoms) == 1:
        return geoms[0]
    if overlay_within(geoms, VOTE_MAX_EDGE_PAIRS):
        return overlay_vote(geoms, weights)
    return raster_vote(geoms, weights)


def _merge_duplicates(geoms: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Identical members (the same points in the same order) as one member with their summed
    weight, in their first order: the same vote, and a copied outline adds no overlay work."""
    _, first, group = np.unique(shapely.to_wkb(geoms), return_index=True, return_inverse=True)
    if len(first) == len(geoms):
        return geoms, weights
    keep = np.argsort(first)
    return geoms[first[keep]], np.bincount(group, weights=weights)[keep]


def overlay_vote(geoms: np.ndarray, weights: np.ndarray) -> shapely.Geometry:
    """The vote exact on the overlay: the outlines noded and polygonised into faces, a face kept
    when the members containing a point inside it weigh at least half."""
    noded = shapely.union_all(shapely.boundary(geoms))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    if not len(faces):
        return shapely.Polygon()
    shapely.prepare(geoms)  # a point-in-polygon test per face and member: O(log n) once prepared
    inside = shapely.contains(geoms[:, None], shapely.point_on_surface(faces)[None, :])
    cover = weights @ inside
    chosen = faces[cover >= 0.5 * weights.sum() - TOLERANCE * weights.sum()]
    return shapely.coverage_union_all(chosen) if len(chosen) else shapely.Polygon()


def raster_vote(geoms: np.ndarray, weights: np.ndarray) -> shapely.Geometry:
    """The vote on a RASTER_CELLS² grid over the members' joint bounds: a cell is kept when the
    members containing its centre weigh at least half, and the outline of the largest kept region
    is traced back into a polygon. O(E · RASTER_CELLS + members · RASTER_CELLS²)."""
    bounds = shapely.bounds(geoms)
    window = (*bounds[:, :2].min(axis=0), *bounds[:, 2:].max(axis=0))
    size = np.subtract(window[2:], window[:2])
    if not (np.isfinite(size).all() and (size > 0).all()):
        return shapely.Polygon()  # the medoid takes over (_fuse_cluster)
    cells = (RASTER_CELLS, RASTER_CELLS)
    cover = np.zeros((RASTER_CELLS, RASTER_CELLS))
    for geom, weight in zip(geoms.tolist(), weights.tolist(), strict=True):
        cover += weight * raster_fill(geom, window, cells)
    total = weights.sum()
    return mask_outline(cover >= 0.5 * total - TOLERANCE * total, window)


# Unit steps of the four edge directions +x, +y, -x, -y; the left turn of direction d is d + 1.
_STEPS = np.array([[1, 0], [0, 1], [-1, 0], [0, -1]])
_SMOOTHING = 0.25  # the traced outline is simplified by this share of a cell side


def mask_outline(mask: np.ndarray, window: tuple[float, ...]) -> shapely.Polygon:
    """The outline of the largest region of ``mask`` (ny, nx) over ``window``, holes ignored.

    The cell edges between kept and other cells are directed with the kept cell on their left,
    so they form closed rings: counter-clockwise around regions, clockwise around holes. Each
    edge continues with the edge leaving its end vertex — at a saddle (kept cells touching only
    at a corner) the left turn, so such cells stay apart. The ring with the largest signed area is
    the largest region's outline. Its vertices are the edges' midpoints, as in marching squares:
    the staircase becomes a chamfered line through the cells' boundary, a ring that is simple
    (each segment cuts one corner, and the two cuts at a saddle face away from each other) and
    slightly closer to the exact vote than the staircase is."""
    start, direction = _mask_edges(mask)
    if not len(start):
        return shapely.Polygon()
    ny, nx = mask.shape
    successor = _successors(start, direction, nx)
    end = start + _STEPS[direction]
    twice_area = np.bincount(
        _ring_labels(successor), weights=start[:, 0] * end[:, 1] - end[:, 0] * start[:, 1]
    )
    ring = _walk(successor, int(np.argmax(twice_area)))
    x0, y0, x1, y1 = window
    cell = np.array([(x1 - x0) / nx, (y1 - y0) / ny])
    outline = shapely.Polygon((start[ring] + end[ring]) / 2 * cell + [x0, y0])
    return shapely.simplify(outline, _SMOOTHING * cell.min(), preserve_topology=True)


def _mask_edges(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(E, 2) start vertex (column, row) and (E,) direction of every directed boundary edge."""
    padded = np.pad(mask, 1)
    below, above = padded[:-1, 1:-1], padded[1:, 1:-1]  # around the horizontal grid lines
    left, right = padded[1:-1, :-1], padded[1:-1, 1:]  # around the vertical grid lines
    found = []
    for keep, shift, d in (
        (above & ~below, (0, 0), 0),
        (left & ~right, (0, 0), 1),
        (below & ~above, (1, 0), 2),
        (right & ~left, (0, 1), 3),
    ):
        row, col = np.nonzero(keep)
        found.append((np.column_stack([col + shift[0], row + shift[1]]), np.full(len(row), d)))
    return np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found])


def _successors(start: np.ndarray, direction: np.ndarray, nx: int) -> np.ndarray:
    """For each edge, the edge leaving its end vertex; of two (a saddle), the left turn."""
    vertex = start[:, 1] * (nx + 1) + start[:, 0]
    end = start + _STEPS[direction]
    order = np.argsort(vertex, kind="stable")
    first = np.searchsorted(vertex[order], end[:, 1] * (nx + 1) + end[:, 0])
    one = order[first]
    two = order[np.minimum(first + 1, len(order) - 1)]
    saddle = vertex[two] == vertex[one]
    saddle &= two != one
    successor: np.ndarray = np.where(saddle & (direction[two] == (direction + 1) % 4), two, one)
    return successor


def _ring_labels(successor: np.ndarray) -> np.ndarray:
    """Each edge's ring, named by its smallest edge index: pointer doubling, log2 E rounds."""
    label, step = np.arange(len(successor)), successor.copy()
    for _ in range(len(successor).bit_length()):
        label = np.minimum(label, label[step])
        step = step[step]
    return label


def _walk(successor: np.ndarray, start: int) -> np.ndarray:
    """The edges of one ring in order, from ``start``."""
    following, ring, k = successor.tolist(), [start], int(successor[start])
    while k != start:
        ring.append(k)
        k = following[k]
    return np.array(ring)


def simple_polygon(geom: shapely.Geometry) -> shapely.Polygon | None:
    """The exterior of the largest part, made valid; None if nothing with area is left."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > 0]
    if not parts:
        return None
    largest = max(parts, key=lambda p: p.area)
    ring = shapely.Polygon(largest.exterior)
    ring = shapely.simplify(ring, 0.0)
    if not ring.is_valid:
        parts = [p for p in shapely.get_parts(shapely.make_valid(ring)) if p.geom_type == "Polygon"]
        if not parts:
            return None
        ring = shapely.Polygon(max(parts, key=lambda p: p.area).exterior)
    return ring if ring.is_valid and ring.area > 0 else None


def _fuse_cluster(
    geoms: np.ndarray, w: np.ndarray, method: Literal["vote", "medoid"]
) -> shapely.Polygon:
    if method == "vote":
        try:
            fused = simple_polygon(vote_polygon(geoms, w))
        except GEOSException:
            fused = None
        if fused is not None:
            return fused
    medoid = simple_polygon(medoid_polygon(geoms, w))
    return medoid if medoid is not None else shapely.envelope(geoms[0])


def _points(polygon: shapely.Polygon) -> list[list[float]]:
    return [[float(x), float(y)] for x, y in np.asarray(polygon.exterior.coords)[:-1]]


def fuse_polygons(
    answers: Sequence[PolygonAnswer],
    accuracies: Sequence[float],
    labels: Sequence[str],
    *,
    label_accuracies: Sequence[float] | None = None,
    iou_threshold: float = 0.5,
    quorum: float = 0.5,
    method: Literal["vote", "medoid"] = "vote",
) -> PolygonFusion:
    """Fuse one image's answers: per worker (n_i polygons as (k, 2) point arrays, n_i label
    names), each worker's accuracy in [0, 1] (and optionally their label accuracy), the
    project's labels."""
    check_parameters(iou_threshold, quorum)
    if len(answers) != len(accuracies):
        raise ValueError(f"{len(answers)} answers but {len(accuracies)} accuracies")
    crowd = crowd_slots([accuracies], len(labels), [label_accuracies])
    geoms, owner, label = _flatten(answers, labels, crowd)
    different = owner[:, None] != owner[None, :]
    iou = prepared_self_iou(geoms, min_iou=iou_threshold, mask=different)
    cid = cluster_greedy(iou, owner, iou_threshold)
    votes = vote_clusters(cid, owner, label, crowd, len(labels), quorum)
    w = member_weights(cid, owner, crowd, power=1.0)
    kept = np.flatnonzero(votes.keep)
    fused = np.empty(len(votes.keep), dtype=object)
    for c in kept.tolist():
        members = cid == c
        fused[c] = _fuse_cluster(geoms[members], w[members], method)
    in_kept = votes.keep[cid]
    member_iou = np.zeros(len(cid))
    member_iou[in_kept] = polygon_iou_pairs(geoms[in_kept], fused[cid[in_kept]])
    agreement = member_agreement(cid, owner, label, member_iou, votes, crowd, iou_threshold)
    spread = grouped_mean(member_iou, cid, w).tolist()
    support = supporters(cid, owner, len(votes.keep))
    existence, label_conf = votes.existence.tolist(), votes.label_confidence.tolist()
    objects = [
        FusedPolygon(
            label=labels[votes.label[c]],
            points=_points(fused[c]),
            confidence=existence[c] * label_conf[c],
            label_confidence=label_conf[c],
            existence=existence[c],
            mean_iou=spread[c],
            support=support[c],
        )
        for c in kept.tolist()
    ]
    return PolygonFusion(
        objects=sorted(objects, key=lambda o: (-o.confidence, o.points, o.label)),
        confidence=float(task_confidence(votes, crowd, agreement)[0]),
        agreement=agreement.tolist(),
        weights=crowd.w.tolist(),
    )

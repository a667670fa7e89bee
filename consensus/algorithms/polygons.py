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

Speed. GEOS does the work; Python only hands it arrays. An image's clusters are voted together
(``vote_polygons``): the exact votes of all clusters within the cap share one vectorised call per
step — boundaries, noding, polygonising, point-in-polygon, union — over a (clusters × members)
grid padded with None, and the outlines are simplified together (``simple_polygons``). Each
member's IoU with its fused outline comes from the overlay already made (``member_ious``): the
outline is a union of the overlay's faces, so |P ∩ F| is the area of the faces inside both, one
point-in-polygon test per face and member instead of a GEOS intersection of two outlines that
share edges (the slowest kind). Same outlines, bit for bit; IoUs equal to rounding (≤ 2e-15).
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
    prepared_self_iou,
    raster_fill,
)
from consensus.algorithms.masks import mask_outline
from consensus.algorithms.outlines import (
    Faces,
    member_ious,
    simple_polygon,
    simple_polygons,
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
    geoms, weights, _ = _merge_duplicates(geoms, weights)
    if len(geoms) == 1:
        return geoms[0]
    if overlay_within(geoms, VOTE_MAX_EDGE_PAIRS):
        return overlay_vote(geoms, weights)
    return raster_vote(geoms, weights)


def _merge_duplicates(
    geoms: np.ndarray, weights: np.ndarray, group: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Identical members of a cluster (the same points in the same order; ``group`` numbers
    the clusters, one cluster without it) as one member with their summed weight, in their
    first order: the same vote, and a copied outline adds no overlay work."""
    group = np.zeros(len(geoms), dtype=np.intp) if group is None else group
    _, same = np.unique(shapely.to_wkb(geoms), return_inverse=True)
    _, first, merged = np.unique(
        group * (int(same.max(initial=0)) + 1) + same, return_index=True, return_inverse=True
    )
    if len(first) == len(geoms):
        return geoms, weights, group
    keep = np.argsort(first)
    return geoms[first[keep]], np.bincount(merged, weights=weights)[keep], group[first[keep]]


def overlay_vote(geoms: np.ndarray, weights: np.ndarray) -> shapely.Geometry:
    """The vote exact on the overlay: the outlines noded and polygonised into faces, a face kept
    when the members containing a point inside it weigh at least half."""
    votes, _ = overlay_votes(geoms, weights, np.zeros(len(geoms), np.intp), 1)
    vote: shapely.Geometry = votes[0]
    return vote


def overlay_votes(
    geoms: np.ndarray, weights: np.ndarray, row: np.ndarray, n_rows: int
) -> tuple[np.ndarray, Faces]:
    """``overlay_vote`` of ``n_rows`` clusters at once, member i in cluster ``row[i]``, and the
    overlays' faces (cluster = row): each GEOS step is one vectorised call over a (clusters,
    members) grid padded with None."""
    members, member_w = _grid(geoms, row, n_rows), _grid(weights, row, n_rows, fill=0.0)
    noded = shapely.union_all(shapely.boundary(members), axis=1)
    faces, face_row = shapely.get_parts(shapely.polygonize(noded[:, None]), return_index=True)
    shapely.prepare(geoms)  # a point-in-polygon test per face and member: O(log n) once prepared
    points = shapely.point_on_surface(faces)
    inside = shapely.contains(members[face_row], points[:, None])
    cover = (member_w[face_row] * inside).sum(axis=1)
    total = member_w.sum(axis=1)
    kept = cover >= (0.5 * total - TOLERANCE * total)[face_row]
    chosen = _grid(faces[kept], face_row[kept], n_rows)
    votes: np.ndarray = shapely.coverage_union_all(chosen, axis=1)
    return votes, Faces(face_row, points, shapely.area(faces))


def _grid(values: np.ndarray, row: np.ndarray, n_rows: int, fill: object = None) -> np.ndarray:
    """(n_rows, most per row) array of ``values``, each row's in their order, padded with fill."""
    count = np.bincount(row, minlength=n_rows)
    order = np.argsort(row, kind="stable")
    column = np.arange(len(row)) - np.repeat(np.cumsum(count) - count, count)
    grid = np.full((n_rows, int(count.max(initial=0))), fill, dtype=values.dtype)
    grid[row[order], column] = values[order]
    return grid


def raster_vote(geoms: np.ndarray, weights: np.ndarray) -> shapely.Geometry:
    """The vote on a RASTER_CELLS² grid over the members' joint bounds: a cell is kept when the
    members containing its centre weigh at least half, and the outline of the largest kept region
    is traced back into a polygon. O(E · RASTER_CELLS + members · RASTER_CELLS²)."""
    bounds = shapely.bounds(geoms)
    window = (*bounds[:, :2].min(axis=0), *bounds[:, 2:].max(axis=0))
    size = np.subtract(window[2:], window[:2])
    if not (np.isfinite(size).all() and (size > 0).all()):
        return shapely.Polygon()  # the medoid takes over (fused_outlines)
    cells = (RASTER_CELLS, RASTER_CELLS)
    cover = np.zeros((RASTER_CELLS, RASTER_CELLS))
    for geom, weight in zip(geoms.tolist(), weights.tolist(), strict=True):
        cover += weight * raster_fill(geom, window, cells)
    total = weights.sum()
    return mask_outline(cover >= 0.5 * total - TOLERANCE * total, window)


def fused_outlines(
    geoms: np.ndarray, w: np.ndarray, cid: np.ndarray, kept: np.ndarray, method: str
) -> tuple[np.ndarray, Faces | None]:
    """Per cluster id the fused outline of each kept cluster (None elsewhere): the vote's
    ``simple_polygon``, or the medoid's where the vote leaves nothing (or GEOS fails on it);
    and the faces of the outlines that are unions of their exact overlay's faces."""
    fused = np.empty(int(cid.max()) + 1 if len(cid) else 0, dtype=object)
    faces = None
    if method == "vote":
        votes, faces = vote_polygons(geoms, w, cid, kept)
        voted = kept[votes[kept] != None]  # noqa: E711 - elementwise on an object array
        fused[voted], direct = simple_polygons(votes[voted])
        faced = np.zeros(len(fused), dtype=bool)
        faced[voted[direct]] = True
        # Faces beat GEOS while a cluster has fewer faces than points: typical crowds (~10 per
        # member); long crossing tracings (~250 per member for 200-point outlines) do not.
        points = np.bincount(cid, shapely.get_num_coordinates(geoms), len(fused))
        faced &= np.bincount(faces.cluster, minlength=len(fused)) <= points
        keep = faced[faces.cluster]
        faces = Faces(faces.cluster[keep], faces.points[keep], faces.area[keep])
    for c in kept[fused[kept] == None].tolist():  # noqa: E711
        members = cid == c
        medoid = simple_polygon(medoid_polygon(geoms[members], w[members]))
        fused[c] = medoid if medoid is not None else shapely.envelope(geoms[members][0])
    return fused, faces


def vote_polygons(
    geoms: np.ndarray, w: np.ndarray, cid: np.ndarray, wanted: np.ndarray
) -> tuple[np.ndarray, Faces]:
    """``vote_polygon`` of each cluster id in ``wanted`` (None where GEOS failed), by cluster
    id, and the faces of the exact overlays. The exact votes of all clusters within the cap
    share a few vectorised GEOS calls (``overlay_votes``) instead of five each; a cluster the
    bound Σ n_i n_j cannot clear at once takes ``vote_polygon``'s own path (the edge-pair
    count, then the overlay or the raster)."""
    votes = np.empty(int(cid.max()) + 1 if len(cid) else 0, dtype=object)
    chosen = np.isin(cid, wanted)
    geoms, w, group = _merge_duplicates(geoms[chosen], w[chosen], cid[chosen])
    size = np.bincount(group, minlength=len(votes))
    single = size[group] == 1
    votes[group[single]] = geoms[single]
    n = shapely.get_num_coordinates(geoms).astype(np.float64)
    bound = (np.bincount(group, n, len(votes)) ** 2 - np.bincount(group, n**2, len(votes))) / 2
    easy = ~single & (bound[group] <= VOTE_MAX_EDGE_PAIRS)
    for c in np.unique(group[~single & ~easy]).tolist():
        votes[c] = _vote_or_none(geoms[group == c], w[group == c])
    clusters, rows = np.unique(group[easy], return_inverse=True)
    faces = Faces(np.zeros(0, np.intp), np.zeros(0, object), np.zeros(0))
    if not len(clusters):
        return votes, faces
    try:
        votes[clusters], faces = overlay_votes(geoms[easy], w[easy], rows, len(clusters))
        faces = Faces(clusters[faces.cluster], faces.points, faces.area)
    except GEOSException:
        for c in clusters.tolist():
            votes[c] = _vote_or_none(geoms[group == c], w[group == c])
    return votes, faces


def _vote_or_none(geoms: np.ndarray, w: np.ndarray) -> shapely.Geometry | None:
    try:
        return vote_polygon(geoms, w)
    except GEOSException:
        return None


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
    fused, faces = fused_outlines(geoms, w, cid, kept, method)
    in_kept = votes.keep[cid]
    member_iou = member_ious(geoms, cid, in_kept, fused, faces)
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

"""From a cluster's vote to its fused outline, and each member's IoU with that outline.

``simple_polygon`` makes the vote one valid simple Polygon (the exterior of its largest part);
``simple_polygons`` does it for an image's clusters at once. ``member_ious`` takes a member's IoU
with an outline made of its overlay's faces (polygons.py) from those faces' areas, and from GEOS
otherwise. Pure numpy and Shapely.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.errors import GEOSException

from consensus.algorithms.geometry import POLYGON_TYPE, polygon_iou_pairs


@dataclass(frozen=True)
class Faces:
    """The faces of exact overlays: each one's cluster, a point inside it, and its area."""

    cluster: np.ndarray
    points: np.ndarray
    area: np.ndarray


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


def simple_polygons(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``simple_polygon`` of each geometry, in a few vectorised calls; one by one only where
    the largest part's exterior is not valid as it is (or GEOS fails). Also says which came
    without that repair: those are the exterior of their largest part as it is."""
    out = np.empty(len(geoms), dtype=object)
    try:
        parts, owner = shapely.get_parts(geoms, return_index=True)
        area = shapely.area(parts)
        usable = (shapely.get_type_id(parts) == POLYGON_TYPE) & (area > 0)
        parts, owner, area = parts[usable], owner[usable], area[usable]
        order = np.lexsort((np.arange(len(parts)), -area, owner))  # largest first, then first
        largest = order[np.r_[True, owner[order][1:] != owner[order][:-1]]] if len(order) else order
        rings = shapely.simplify(shapely.polygons(shapely.get_exterior_ring(parts[largest])), 0.0)
        good = shapely.is_valid(rings) & (shapely.area(rings) > 0)
        out[owner[largest][good]] = rings[good]
        redo = owner[largest][~good]
    except GEOSException:
        redo = np.arange(len(geoms))
    direct = np.ones(len(geoms), dtype=bool)
    direct[redo] = False
    for k in redo.tolist():
        out[k] = vote_outline(geoms[k])
    return out, direct


def vote_outline(vote: shapely.Geometry) -> shapely.Polygon | None:
    """``simple_polygon`` of a vote, or None where GEOS fails on it."""
    try:
        return simple_polygon(vote)
    except GEOSException:
        return None


def member_ious(
    geoms: np.ndarray, cid: np.ndarray, chosen: np.ndarray, fused: np.ndarray, faces: Faces | None
) -> np.ndarray:
    """IoU of each ``chosen`` member with its cluster's fused outline (0 elsewhere). Where the
    outline is a union of its overlay's faces, |P ∩ F| is the area of the faces inside both, a
    point-in-polygon test per face and member (the overlay already cut every edge where it
    crosses another: GEOS need not intersect them again); elsewhere GEOS intersects them."""
    iou = np.zeros(len(cid))
    faced = np.zeros(len(fused), dtype=bool)
    if faces is not None:
        faced[faces.cluster] = True
    by_faces = chosen & faced[cid]
    rest = chosen & ~by_faces
    iou[rest] = polygon_iou_pairs(geoms[rest], fused[cid[rest]])
    if by_faces.any():
        assert faces is not None
        iou[by_faces] = _face_ious(geoms[by_faces], cid[by_faces], fused, faces)
    return iou


def _face_ious(geoms: np.ndarray, cid: np.ndarray, fused: np.ndarray, faces: Faces) -> np.ndarray:
    outline = fused[faces.cluster]
    shapely.prepare(outline)
    shapely.prepare(geoms)
    area = faces.area * shapely.contains(outline, faces.points)
    member, face = _pairs_by_cluster(cid, faces.cluster)
    both = area[face] * shapely.contains(geoms[member], faces.points[face])
    inter = np.bincount(member, weights=both, minlength=len(geoms))
    union = shapely.area(geoms) + shapely.area(fused[cid]) - inter
    iou: np.ndarray = np.divide(inter, union, out=np.zeros(len(geoms)), where=union > 0)
    return np.clip(iou, 0.0, 1.0, out=iou)


def _pairs_by_cluster(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (i, j) with a[i] == b[j]."""
    order = np.argsort(b, kind="stable")
    start = np.searchsorted(b[order], a, side="left")
    count = np.searchsorted(b[order], a, side="right") - start
    i = np.repeat(np.arange(len(a)), count)
    offset = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    return i, order[np.repeat(start, count) + offset]

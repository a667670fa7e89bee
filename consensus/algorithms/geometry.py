"""Intersection over union for boxes and polygons, robust to whatever reaches it.

For two shapes A and B, IoU = |A ∩ B| / |A ∪ B| with |A ∪ B| = |A| + |B| - |A ∩ B|. It lies in
[0, 1], is symmetric, and equals 1 only for the same region. Rules for degenerate input, applied the
same way for boxes and polygons and never raising:

- a shape with no area (zero or negative width/height, fewer than 3 distinct points, collinear
  points) or with a non-finite coordinate (for boxes: beyond ±1e150 too) has IoU 0 with
  everything, itself included — a zero-area shape is not a region, so there is nothing to
  overlap (and 0/0 is never computed);
- an invalid polygon (a bow-tie, a self-touching ring) is repaired first with GEOS ``make_valid``
  (``structure`` method: the area enclosed by the ring, as a MultiPolygon), then ``buffer(0)``; if
  both fail it counts as empty.

Boxes are COCO ``[x, y, w, h]`` rows in image pixels. Polygons are (k, 2) point arrays (or any
Shapely geometry); their IoU is one call of Shapely 2's vectorised ``intersection`` and ``area``
over all candidate pairs at once (the union's area by the identity above: cheaper than
``shapely.union`` and consistent with it). Candidates are the pairs whose bounding boxes overlap
(a numpy test, or an STRtree for large inputs), so disjoint pairs cost nothing.

Bounded work. An exact overlay of outlines with k edge crossings costs O((n + k) log n), and k can
reach n·m: two valid 1,000-point combs, one the other transposed, cross 250,000 times and one
GEOS intersection of them takes seconds. So a pair is intersected exactly only while
``edge_pairs`` — the pairs of edges, one from each shape, whose bounding boxes meet, an upper bound
on k counted with early exit in O(E log E + cap) — stays within EXACT_MAX_EDGE_PAIRS (a pair with
n·m within it needs no count). Beyond, |A ∩ B| is estimated on a RASTER_CELLS² grid over the
overlap of the two bounding boxes: cells whose centre lies in both (``raster_fill``, an even-odd
scanline fill, O(E · RASTER_CELLS + RASTER_CELLS²)) times the cell area; its error is about a cell
along the intersection's outline. Typical outlines (tens to hundreds of points that follow one
object) stay far below the cap, and their IoU stays exact.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import shapely
from shapely.errors import GEOSException

EMPTY = shapely.Polygon()
MAX_COORDINATE = 1e150  # beyond this a box coordinate counts as non-finite (products stay finite)
STRTREE_MIN_PAIRS = 20_000  # above this many candidate pairs an STRtree beats the numpy bounds test
# A pair with more edge pairs than this is intersected on the raster. Measured on 1,000-point
# combs: an exact intersection costs ~3.5 µs per edge pair (7 ms at this cap), the raster one
# 1-2 ms whatever the pair; two honest 1,000-point tracings of one object have ~1,500.
EXACT_MAX_EDGE_PAIRS = 2_000
RASTER_CELLS = 256  # cells per side of the raster beyond that bound
_QUERY_PAIRS = 1 << 20  # while counting edge pairs, one STRtree query returns at most chunk · E
_POLYGONAL = {"Polygon", "MultiPolygon"}
POLYGON_TYPE = 3  # shapely.get_type_id of a Polygon
REPAIRED_GRID = 1e-9  # snap-rounding grid for overlays of repaired shapes (image pixels)


def xyxy(boxes: Any) -> tuple[np.ndarray, np.ndarray]:
    """(n, 4) xywh → (n, 4) corners x1, y1, x2, y2 and (n,) areas. A box without a positive
    width and height, or with a corner that is not finite or beyond ±MAX_COORDINATE, becomes all
    zeros with area 0 — so every later sum and product of sanitised corners stays finite."""
    a = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    corners = a.copy()
    with np.errstate(all="ignore"):
        corners[:, 2:] += a[:, :2]
        ok = (np.abs(corners).max(axis=1, initial=0.0) <= MAX_COORDINATE) & (a[:, 2:] > 0).all(1)
    if not ok.all():
        corners[~ok] = 0.0
    return corners, (corners[:, 2] - corners[:, 0]) * (corners[:, 3] - corners[:, 1])


def _ratio(inter: np.ndarray, union: np.ndarray) -> np.ndarray:
    """inter / union where the union is a positive finite number, else 0; clipped to [0, 1]."""
    out = np.zeros(np.broadcast(inter, union).shape)
    ok = np.isfinite(inter) & np.isfinite(union) & (union > 0)
    np.divide(inter, union, out=out, where=ok)
    return np.clip(out, 0.0, 1.0)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n, m) IoU between every box of ``a`` (n, 4) and of ``b`` (m, 4), both xywh.

    Intersection width = max(0, min(x2a, x2b) - max(x1a, x1b)), likewise the height.
    """
    return corners_iou_matrix(xyxy(a)[0], xyxy(b)[0])


def corners_iou_matrix(ca: np.ndarray, cb: np.ndarray) -> np.ndarray:
    """``iou_matrix`` for corner arrays sanitised by ``xyxy`` (or means of such corners)."""
    side_x = np.minimum.outer(ca[:, 2], cb[:, 2])
    side_x -= np.maximum.outer(ca[:, 0], cb[:, 0])
    side_y = np.minimum.outer(ca[:, 3], cb[:, 3])
    side_y -= np.maximum.outer(ca[:, 1], cb[:, 1])
    inter = np.maximum(side_x, 0.0, out=side_x)
    inter *= np.maximum(side_y, 0.0, out=side_y)
    area_a = (ca[:, 2] - ca[:, 0]) * (ca[:, 3] - ca[:, 1])
    union = np.add.outer(area_a, (cb[:, 2] - cb[:, 0]) * (cb[:, 3] - cb[:, 1]))
    union -= inter
    out: np.ndarray = np.zeros_like(inter)
    np.divide(inter, union, out=out, where=union > 0)
    np.minimum(out, 1.0, out=out)
    return out


def iou_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n,) IoU of box ``a[i]`` with box ``b[i]`` (element-wise, same rules as ``iou_matrix``)."""
    return corners_iou_pairs(xyxy(a)[0], xyxy(b)[0])


def corners_iou_pairs(ca: np.ndarray, cb: np.ndarray) -> np.ndarray:
    """``iou_pairs`` for corner arrays sanitised by ``xyxy`` (or means of such corners)."""
    side = np.minimum(ca[:, 2:], cb[:, 2:])
    side -= np.maximum(ca[:, :2], cb[:, :2])
    np.maximum(side, 0.0, out=side)
    inter = side[:, 0] * side[:, 1]
    union = (ca[:, 2] - ca[:, 0]) * (ca[:, 3] - ca[:, 1])
    union += (cb[:, 2] - cb[:, 0]) * (cb[:, 3] - cb[:, 1])
    union -= inter
    out: np.ndarray = np.zeros_like(inter)
    np.divide(inter, union, out=out, where=union > 0)
    np.minimum(out, 1.0, out=out)
    return out


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygonal part of a geometry (lines and points dropped), or EMPTY."""
    if geom is None or geom.is_empty:
        return EMPTY
    if geom.geom_type in _POLYGONAL:
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in _POLYGONAL]
    if not parts:
        return EMPTY
    return shapely.union_all(parts)


def _repair(geom: shapely.Geometry) -> shapely.Geometry:
    """A valid polygonal version of ``geom``: make_valid, then buffer(0), then EMPTY."""
    fixes: tuple[Callable[[shapely.Geometry], shapely.Geometry], ...] = (
        lambda g: shapely.make_valid(g, method="structure", keep_collapsed=False),
        lambda g: shapely.buffer(g, 0),
    )
    for fix in fixes:
        try:
            fixed = _polygonal(fix(geom))
            if fixed.is_valid:
                return fixed
        except (GEOSException, ValueError, TypeError):
            continue
    return EMPTY


def _geometry(shape: Any) -> shapely.Geometry:
    """One shape (a Shapely geometry or a (k, 2) point list) as a polygonal geometry or EMPTY."""
    if isinstance(shape, shapely.Geometry):
        return _polygonal(shape)
    try:
        points = np.asarray(shape, dtype=np.float64)
    except (ValueError, TypeError):
        return EMPTY
    if points.ndim != 2 or points.shape[1] != 2 or len(points) < 3:
        return EMPTY
    if not np.isfinite(points).all():
        return EMPTY
    try:
        return shapely.Polygon(points)
    except (GEOSException, ValueError):
        return EMPTY


def as_polygons(shapes: Sequence[Any]) -> np.ndarray:
    """Object array of valid polygonal geometries (repaired where needed; EMPTY if hopeless)."""
    geoms = _polygons_at_once(shapes)
    if geoms is None:
        geoms = np.empty(len(shapes), dtype=object)
        for i, shape in enumerate(shapes):
            geoms[i] = _geometry(shape)
    if len(geoms):
        bad = ~shapely.is_valid(geoms)
        for k in np.flatnonzero(bad):
            geoms[k] = _repair(geoms[k])
    return geoms


def _polygons_at_once(shapes: Sequence[Any]) -> np.ndarray | None:
    """The polygons of point lists in one vectorised call, the same as ``_geometry`` gives one
    by one (the ring closed when its last point is not its first); None when any shape needs
    ``_geometry``'s care: a geometry, a malformed or non-finite point list, or too few points."""
    if not len(shapes) or any(isinstance(s, shapely.Geometry) for s in shapes):
        return None
    try:
        arrays = [np.asarray(s, dtype=np.float64) for s in shapes]
    except (ValueError, TypeError):
        return None
    if any(a.ndim != 2 or a.shape[1] != 2 or len(a) < 3 for a in arrays):
        return None
    if any(len(a) == 3 and (a[0] == a[-1]).all() for a in arrays):
        return None  # a closed ring of 3 points, which Polygon refuses but linearrings would pad
    points = np.concatenate(arrays)
    if not np.isfinite(points).all():
        return None
    owner = np.repeat(np.arange(len(arrays)), [len(a) for a in arrays])
    try:
        geoms: np.ndarray = shapely.polygons(shapely.linearrings(points, indices=owner))
    except (GEOSException, ValueError):
        return None
    return geoms


def ring_edges(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(E, 2, 2) every edge of every ring of ``geoms`` (all parts, exteriors and holes) and (E,)
    the index of the geometry each edge belongs to."""
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    xy, point_of = shapely.get_coordinates(rings, return_index=True)
    same = point_of[1:] == point_of[:-1]
    edges = np.stack([xy[:-1][same], xy[1:][same]], axis=1)
    return edges, part_of[ring_of[point_of[:-1][same]]]


def edge_pairs(geoms: np.ndarray, *, cap: int) -> int:
    """Pairs of edges from different geometries whose bounding boxes meet, counted up to cap + 1.

    Every crossing or touch between two outlines is such a pair, so this bounds the number of
    nodes (and faces) of their overlay. An STRtree over all E edges answers queries of a chunk of
    edges at a time and the count stops once past ``cap``: O(E log E + cap) work, plus at most one
    chunk's _QUERY_PAIRS pairs."""
    edges, owner = ring_edges(geoms)
    lines = shapely.linestrings(edges)
    tree = shapely.STRtree(lines)
    count, chunk = 0, max(1, _QUERY_PAIRS // max(1, len(lines)))
    for start in range(0, len(lines), chunk):
        query, found = tree.query(lines[start : start + chunk])
        count += int(np.count_nonzero(owner[start + query] < owner[found]))
        if count > cap:
            return cap + 1
    return count


def overlay_within(geoms: np.ndarray, cap: int) -> bool:
    """Whether the outlines of ``geoms`` have at most ``cap`` edge pairs: at once when the bound
    Σ_{i<j} n_i n_j on them (n_i points of geometry i) allows, else by ``edge_pairs``."""
    n = shapely.get_num_coordinates(geoms).astype(np.float64)
    if (n.sum() ** 2 - (n**2).sum()) / 2 <= cap:
        return True
    return edge_pairs(geoms, cap=cap) <= cap


def raster_fill(
    geom: shapely.Geometry, window: tuple[float, ...], cells: tuple[int, int]
) -> np.ndarray:
    """(ny, nx) bool: the cells of an nx × ny grid over ``window`` (x0, y0, x1, y1) whose centre
    lies in ``geom`` — exact for valid polygonal geometry, by the even-odd rule over all rings.

    Scanline: an edge crosses the row of centre y_r when min y ≤ y_r < max y (half-open, so a
    vertex on the line counts once); its crossing at x toggles every cell whose centre is ≥ x: +1 in
    that column, a cumulative sum along the row, parity. O(E · ny + nx · ny) time and memory."""
    (nx, ny), (x0, y0, x1, y1) = cells, window
    width, height = (x1 - x0) / nx, (y1 - y0) / ny
    edges, _ = ring_edges(np.array([geom], dtype=object))
    (xa, ya), (xb, yb) = edges[:, 0].T, edges[:, 1].T
    first = np.ceil((np.minimum(ya, yb) - y0) / height - 0.5).clip(0, ny).astype(np.intp)
    stop = np.ceil((np.maximum(ya, yb) - y0) / height - 0.5).clip(0, ny).astype(np.intp)
    runs = stop - first
    edge = np.repeat(np.arange(len(runs)), runs)
    row = first[edge] + np.arange(len(edge)) - np.repeat(np.cumsum(runs) - runs, runs)
    t = (y0 + (row + 0.5) * height - ya[edge]) / (yb[edge] - ya[edge])
    x = xa[edge] + t * (xb[edge] - xa[edge])
    col = np.ceil((x - x0) / width - 0.5).clip(0, nx).astype(np.intp)
    toggles = np.bincount(row * (nx + 1) + col, minlength=ny * (nx + 1)).reshape(ny, nx + 1)
    return (np.cumsum(toggles[:, :nx], axis=1) & 1).astype(bool)


def raster_intersection_area(a: shapely.Geometry, b: shapely.Geometry) -> float:
    """|a ∩ b| estimated on a RASTER_CELLS² grid over the overlap of the two bounding boxes: the
    cells whose centre lies in both, times the cell area (0 without a finite positive overlap)."""
    (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = shapely.bounds(a), shapely.bounds(b)
    window: tuple[float, ...] = (max(ax0, bx0), max(ay0, by0), min(ax1, bx1), min(ay1, by1))
    width, height = window[2] - window[0], window[3] - window[1]
    if not (np.isfinite(width * height) and width > 0 and height > 0):
        return 0.0
    cells = (RASTER_CELLS, RASTER_CELLS)
    both = raster_fill(a, window, cells) & raster_fill(b, window, cells)
    return float(np.count_nonzero(both)) * (width / RASTER_CELLS) * (height / RASTER_CELLS)


def _intersection_areas(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a[i] ∩ b[i]| for valid geometries: exact unless the pair has more than
    EXACT_MAX_EDGE_PAIRS edge pairs, then on the raster (see the module docstring)."""
    out = np.zeros(len(a))
    if not len(a):
        return out
    cap = EXACT_MAX_EDGE_PAIRS
    product = shapely.get_num_coordinates(a) * shapely.get_num_coordinates(b)
    exact = product <= cap  # the edge pairs cannot outnumber this product: no count needed
    for k in np.flatnonzero(~exact).tolist():
        exact[k] = edge_pairs(np.array([a[k], b[k]], dtype=object), cap=cap) <= cap
        if not exact[k]:
            out[k] = raster_intersection_area(a[k], b[k])
    out[exact] = _exact_intersection_areas(a[exact], b[exact])
    return out


def _exact_intersection_areas(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a[i] ∩ b[i]| by GEOS for valid geometries; a pair GEOS still chokes on counts 0.

    A shape repaired from a self-crossing ring (a MultiPolygon whose parts meet on an edge of
    the other shape) can make GEOS's floating overlay give a different area for (a, b) than for
    (b, a) — 122.5 against the true 14.0 in one case hypothesis found. Such pairs are overlaid
    with snap-rounding on a REPAIRED_GRID grid, which is exact to that grid and symmetric; plain
    polygons, all a validated payload holds, keep the faster floating overlay."""
    try:
        repaired = (shapely.get_type_id(a) != POLYGON_TYPE) | (
            shapely.get_type_id(b) != POLYGON_TYPE
        )
        out: np.ndarray = shapely.area(shapely.intersection(a, b))
        if repaired.any():
            snapped = shapely.intersection(a[repaired], b[repaired], grid_size=REPAIRED_GRID)
            out[repaired] = shapely.area(snapped)
        return out
    except GEOSException:
        out = np.zeros(len(a))
        for k, (ga, gb) in enumerate(zip(a, b, strict=True)):
            try:
                out[k] = shapely.area(shapely.intersection(ga, gb))
            except GEOSException:
                out[k] = 0.0
        return out


def _candidate_pairs(
    bounds_a: np.ndarray, bounds_b: np.ndarray, geoms_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs (i, j) whose bounding boxes overlap with positive area, and that overlap's area
    (empty shapes have NaN bounds and never qualify)."""
    n, m = len(bounds_a), len(bounds_b)
    if n * m > STRTREE_MIN_PAIRS:
        i, j = shapely.STRtree(geoms_b).query(shapely.box(*bounds_a.T))
    else:
        i, j = np.indices((n, m)).reshape(2, -1)
    with np.errstate(invalid="ignore"):
        side_x = np.minimum(bounds_a[i, 2], bounds_b[j, 2]) - np.maximum(
            bounds_a[i, 0], bounds_b[j, 0]
        )
        side_y = np.minimum(bounds_a[i, 3], bounds_b[j, 3]) - np.maximum(
            bounds_a[i, 1], bounds_b[j, 1]
        )
        keep = (side_x > 0) & (side_y > 0)
    return i[keep], j[keep], (side_x * side_y)[keep]


def polygon_iou_matrix(a: Sequence[Any], b: Sequence[Any], *, min_iou: float = 0.0) -> np.ndarray:
    """(n, m) IoU between polygons ``a`` and ``b`` (point arrays or Shapely geometries).

    Only pairs with overlapping bounding boxes are intersected. With ``min_iou`` > 0, a pair is
    also skipped (reported as 0) when the upper bound u / (|A| + |B| - u), u = min(|A|, |B|,
    |bbox A ∩ bbox B|), is already below ``min_iou`` — values under ``min_iou`` are then not exact.
    """
    return prepared_iou_matrix(as_polygons(a), as_polygons(b), min_iou=min_iou)


def prepared_iou_matrix(
    ga: np.ndarray, gb: np.ndarray, *, min_iou: float = 0.0, mask: np.ndarray | None = None
) -> np.ndarray:
    """``polygon_iou_matrix`` for geometry arrays already passed through ``as_polygons``; with a
    boolean (n, m) ``mask``, only the pairs it marks are computed (the others are 0)."""
    out = np.zeros((len(ga), len(gb)))
    if not len(ga) or not len(gb):
        return out
    area_a, area_b = shapely.area(ga), shapely.area(gb)
    i, j, box_inter = _candidate_pairs(shapely.bounds(ga), shapely.bounds(gb), gb)
    bound = np.minimum(np.minimum(area_a[i], area_b[j]), box_inter)
    upper = _ratio(bound, area_a[i] + area_b[j] - bound)
    keep = (upper > 0) & (upper >= min_iou - 1e-12)
    if mask is not None:
        keep &= mask[i, j]
    i, j, bound = i[keep], j[keep], bound[keep]
    inter = np.minimum(_intersection_areas(ga[i], gb[j]), bound)
    out[i, j] = _ratio(inter, area_a[i] + area_b[j] - inter)
    return out


def prepared_self_iou(
    geoms: np.ndarray, *, min_iou: float = 0.0, mask: np.ndarray | None = None
) -> np.ndarray:
    """Symmetric IoU matrix of one geometry array, each pair computed once, 1 on the diagonal
    for shapes with area; ``mask`` (n, n) selects pairs as in ``prepared_iou_matrix``."""
    n = len(geoms)
    upper = np.triu(np.ones((n, n), dtype=bool), 1)
    upper_iou = prepared_iou_matrix(
        geoms, geoms, min_iou=min_iou, mask=upper if mask is None else upper & mask
    )
    iou: np.ndarray = upper_iou + upper_iou.T
    iou[np.diag_indices(n)] = shapely.area(geoms) > 0 if n else []
    return iou


def polygon_iou_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n,) IoU of polygon ``a[i]`` with ``b[i]``, for geometry arrays from ``as_polygons``."""
    if not len(a):
        return np.zeros(0)
    inter = _intersection_areas(a, b)
    return _ratio(inter, shapely.area(a) + shapely.area(b) - inter)

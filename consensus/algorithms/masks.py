"""The outline of a boolean mask's largest region, traced back into a polygon: how the raster
vote of polygons.py (a cluster's weighted pixel vote on a fixed grid) becomes an outline again.
Pure numpy and Shapely."""

from __future__ import annotations

import numpy as np
import shapely

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

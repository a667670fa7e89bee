"""Worker polygons that are not simple: about 5 % of noisy crowd polygons cross themselves.

``repaired`` mends one with ``shapely.make_valid`` and keeps its largest polygon part (a bow-tie
becomes its larger loop; holes are dropped, as fusion takes outer rings); a ring with no area has
no part to keep. ``InvalidPolygons`` counts what happened, for one line on stderr.
"""

from __future__ import annotations

from dataclasses import dataclass

from shapely import Polygon, make_valid
from shapely.geometry.base import BaseGeometry


@dataclass
class InvalidPolygons:
    policy: str  # "repair" or "skip"
    repaired: int = 0
    skipped: int = 0

    def handle(self, points: list[list[float]]) -> list[list[float]] | None:
        """The polygon's points to use: unchanged, repaired, or None to leave it out."""
        shape = Polygon(points)
        if shape.is_valid and shape.area > 0:
            return points
        fixed = repaired(shape) if self.policy == "repair" else None
        if fixed is None:
            self.skipped += 1
        else:
            self.repaired += 1
        return fixed

    def summary(self) -> str | None:
        if not (self.repaired or self.skipped):
            return None
        return (
            f"{self.repaired + self.skipped} invalid polygon(s) (self-intersecting or without "
            f"area): {self.repaired} repaired (largest part kept), {self.skipped} skipped"
        )


def repaired(shape: Polygon) -> list[list[float]] | None:
    """The exterior of the largest polygon in make_valid(shape), or None if it has no area."""
    parts = [p for p in _polygons(make_valid(shape)) if p.area > 0]
    if not parts:
        return None
    largest = max(parts, key=lambda p: p.area)
    return [[x, y] for x, y in largest.exterior.coords[:-1]]


def _polygons(geometry: BaseGeometry) -> list[Polygon]:
    """Every polygon in a geometry, through nested collections."""
    if isinstance(geometry, Polygon):
        return [geometry]
    return [p for part in getattr(geometry, "geoms", []) for p in _polygons(part)]

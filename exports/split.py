"""The deterministic train/val/test split.

An image's place is read from its own sha256 (the first 64 bits as a fraction of 2**64), so it
does not depend on the other images, the order, the database or the run: an image stays in its
split across versions, and only moves when the ratios change (and then only across the moved
boundary). The same image in two projects lands in the same split, so it never leaks from one
project's train set into another's test set.
"""

from __future__ import annotations

SCALE = 1 << 64


class SplitRule:
    def __init__(self, names: tuple[str, ...], ratios: tuple[float, ...]) -> None:
        # Integer boundaries: exact, and the same on every machine.
        self._bounds: list[tuple[int, str]] = []
        cumulative = 0.0
        for name, ratio in zip(names, ratios, strict=True):
            if ratio > 0:
                cumulative += ratio
                self._bounds.append((int(min(cumulative, 1.0) * SCALE), name))
        # The last non-empty split takes whatever rounding leaves over.
        self._bounds[-1] = (SCALE, self._bounds[-1][1])

    def of(self, sha256: str) -> str:
        """The split of the image whose hex sha256 is given."""
        point = int(sha256[:16], 16)
        for bound, name in self._bounds:
            if point < bound:
                return name
        return self._bounds[-1][1]

"""The deterministic train/val/test split.

An image's place is read from a sha256 (the first 64 bits as a fraction of 2**64), so it does not
depend on the other images, the order, the database or the run: an image stays in its split across
versions, and only moves when the ratios change (and then only across the moved boundary).

Which sha256: that of the image's **group key** when it has one, so every frame of one sequence,
camera or video lands in the same split (consecutive frames are near copies: split one by one,
the test set would hold copies of training images); else the image's own sha256, so the same
image in two projects lands in the same split and never leaks from one project's train set into
another's test set.
"""

from __future__ import annotations

import hashlib

SCALE = 1 << 64
GROUP_BY = ("auto", "sequence", "camera", "video", "none")
AUTO_ORDER = ("sequence", "camera", "video")


def group_key(*, group_by: str, sequence: object, camera: object, video: object) -> str | None:
    """``"<kind>:<value>"`` of the first of the kinds ``group_by`` names that the task has —
    ``auto``: its sequence, else its camera, else its video's sha256 — or None: split alone."""
    values = {"sequence": sequence, "camera": camera, "video": video}
    kinds = AUTO_ORDER if group_by == "auto" else () if group_by == "none" else (group_by,)
    for kind in kinds:
        value = values[kind]
        if value is not None and value != "":
            return f"{kind}:{value}"
    return None


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

    def of_group(self, key: str) -> str:
        """The split of every image of the group ``key`` (from group_key)."""
        return self.of(hashlib.sha256(key.encode()).hexdigest())

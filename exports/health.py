"""The health of a training set, from what the export tallied (no image is decoded): how each
split's classes balance, which classes a split lacks, how many groups each split holds, and what
leaks across splits — a group (sequence, camera, video) with images in more than one split, and
frames of one video in more than one split (near copies of each other).

An image's sha256 is unique in a project, so exact copies cannot sit in two splits; frames of one
video are the near copies the data lets us see without decoding.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

LISTED = 20  # group keys and videos named in a leak; every one is counted
SHARE_DIGITS = 4


class GroupTally:
    """Images per group and split, and the splits each video's frames went to; bounded by the
    number of groups and videos, not of images."""

    def __init__(self, splits: tuple[str, ...]) -> None:
        self._splits = splits
        self._groups: dict[str, Counter[str]] = {}
        self._videos: dict[str, set[str]] = {}

    def add(self, *, group: str | None, video: str | None, split: str) -> None:
        if group is not None:
            self._groups.setdefault(group, Counter())[split] += 1
        if video is not None:
            self._videos.setdefault(video, set()).add(split)

    def per_split(self) -> dict[str, dict[str, int]]:
        """Per split: its groups, the images they hold, and the images of its largest group."""
        out = {split: {"groups": 0, "images": 0, "largest": 0} for split in self._splits}
        for counts in self._groups.values():
            for split, images in counts.items():
                row = out[split]
                row["groups"] += 1
                row["images"] += images
                row["largest"] = max(row["largest"], images)
        return out

    def leaks(self) -> dict[str, Any]:
        """Groups with images in more than one split: counted, the first LISTED named."""
        keys = sorted(key for key, counts in self._groups.items() if len(counts) > 1)
        return {"groups": len(keys), "listed": keys[:LISTED]}

    def videos_across_splits(self) -> dict[str, Any]:
        """Videos whose frames went to more than one split: counted, the first LISTED named."""
        videos = sorted(sha for sha, splits in self._videos.items() if len(splits) > 1)
        return {"videos": len(videos), "listed": videos[:LISTED]}


def class_balance(labels: dict[str, dict[str, int]], splits: tuple[str, ...]) -> dict[str, Any]:
    """Each class's share of a split's labels (objects, or images for a class per image), the
    classes a split lacks, and the ratio of its most to its least frequent class present."""
    shares: dict[str, dict[str, float]] = {}
    missing: dict[str, list[str]] = {}
    imbalance: dict[str, float | None] = {}
    for split in splits:
        counts = {name: by_split[split] for name, by_split in labels.items()}
        total = sum(counts.values())
        shares[split] = {
            name: round(count / total, SHARE_DIGITS) if total else 0.0
            for name, count in counts.items()
        }
        missing[split] = [name for name, count in counts.items() if not count]
        present = [count for count in counts.values() if count]
        imbalance[split] = round(max(present) / min(present), 2) if len(present) > 1 else None
    return {"shares": shares, "missing_classes": missing, "imbalance": imbalance}


def health_report(
    *, labels: dict[str, dict[str, int]], splits: tuple[str, ...], groups: GroupTally
) -> dict[str, Any]:
    """The manifest's ``health``: class balance per split, classes missing from a split, groups
    per split, groups in more than one split and videos whose frames are in more than one."""
    return {
        **class_balance(labels, splits),
        "groups": {split: row["groups"] for split, row in groups.per_split().items()},
        "groups_in_several_splits": groups.leaks(),
        "videos_in_several_splits": groups.videos_across_splits(),
    }

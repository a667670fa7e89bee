"""What an export is asked for — format, split ratios, how images are grouped for the split,
minimum confidence — checked in one place for the command and the API alike."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from annotations.models import ProjectKind, TaskState
from sebenzai.common.errors import DomainError

from .models import ExportFormat
from .split import GROUP_BY

SPLITS = ("train", "val", "test")
DEFAULT_SPLIT = (0.8, 0.1, 0.1)
SPLIT_TOLERANCE = 1e-6
DETECTION_FORMATS = ("coco", "yolo", "voc", "csv", "jsonl")
LABEL_FORMATS = ("imagefolder", "csv", "jsonl")
FORMATS_BY_KIND = {
    ProjectKind.BBOX: DETECTION_FORMATS,
    ProjectKind.POLYGON: DETECTION_FORMATS,
    ProjectKind.CLASSIFICATION: LABEL_FORMATS,
    ProjectKind.MODERATION: LABEL_FORMATS,
}


@dataclass(frozen=True)
class ExportOptions:
    format: str
    split: tuple[float, float, float] = DEFAULT_SPLIT
    min_confidence: float | None = None
    states: tuple[str, ...] = (TaskState.ACCEPTED.value,)
    group_by: str = "auto"  # see split.group_key

    @property
    def active_splits(self) -> tuple[str, ...]:
        """The splits that can hold images (ratio above zero), in train/val/test order."""
        return tuple(name for name, ratio in zip(SPLITS, self.split, strict=True) if ratio > 0)

    def as_dict(self) -> dict[str, Any]:
        """What defines the snapshot besides the format; stored on the Export row."""
        return {
            "split": dict(zip(SPLITS, self.split, strict=True)),
            "min_confidence": self.min_confidence,
            "states": list(self.states),
            "group_by": self.group_by,
        }

    @classmethod
    def from_dict(cls, fmt: str, data: dict[str, Any]) -> ExportOptions:
        split = tuple(float(data["split"][name]) for name in SPLITS)
        # Exports made before grouped splits carry no group_by: "auto" is what they would get now.
        group_by = data.get("group_by", "auto")
        return cls(fmt, split, data["min_confidence"], tuple(data["states"]), group_by)  # type: ignore[arg-type]


def split_parse(text: str) -> list[float]:
    """``"0.8,0.1,0.1"`` from the command line; the numbers are checked by export_options_build."""
    try:
        return [float(part) for part in text.split(",")]
    except ValueError as exc:
        raise DomainError(
            code="invalid_split", field="split", message="Give three numbers, e.g. 0.8,0.1,0.1."
        ) from exc


def _split_check(split: Sequence[float]) -> tuple[float, float, float]:
    numbers = list(split)
    if len(numbers) != 3 or not all(
        isinstance(r, int | float) and math.isfinite(r) for r in numbers
    ):
        raise DomainError(
            code="invalid_split",
            field="split",
            message="Give three ratios for train, val and test, e.g. 0.8,0.1,0.1.",
        )
    if any(r < 0 or r > 1 for r in numbers) or numbers[0] <= 0:
        message = "Each ratio lies between 0 and 1, and train is above 0."
        raise DomainError(code="invalid_split", field="split", message=message)
    if abs(sum(numbers) - 1.0) > SPLIT_TOLERANCE:
        message = f"The ratios add up to {sum(numbers):g}; they must add up to 1."
        raise DomainError(code="invalid_split", field="split", message=message)
    return (float(numbers[0]), float(numbers[1]), float(numbers[2]))


def _format_check(kind: str, fmt: str) -> str:
    if fmt not in ExportFormat.values:
        message = f"Unknown format {fmt[:40]!r}; expected one of: {', '.join(ExportFormat.values)}."
        raise DomainError(code="unknown_format", field="format", message=message)
    allowed = FORMATS_BY_KIND[ProjectKind(kind)]
    if fmt not in allowed:
        message = f"A {kind} project exports as {', '.join(allowed)}; not as {fmt}."
        raise DomainError(code="format_not_supported", field="format", message=message)
    return fmt


def _group_by_check(group_by: object) -> str:
    if group_by not in GROUP_BY:
        message = f"Group images by one of: {', '.join(GROUP_BY)}."
        raise DomainError(code="invalid_group_by", field="group_by", message=message)
    return str(group_by)


def export_options_build(
    *,
    kind: str,
    fmt: str,
    split: Sequence[float] | None,
    min_confidence: float | None,
    group_by: str | None = None,
) -> ExportOptions:
    """Check what was asked for against the project's kind; raise DomainError naming the field."""
    if min_confidence is not None and (
        isinstance(min_confidence, bool)
        or not isinstance(min_confidence, int | float)
        or not 0.0 <= min_confidence <= 1.0
    ):
        raise DomainError(
            code="invalid_confidence",
            field="min_confidence",
            message="Give a confidence between 0 and 1.",
        )
    return ExportOptions(
        format=_format_check(kind, fmt),
        split=_split_check(DEFAULT_SPLIT if split is None else split),
        min_confidence=None if min_confidence is None else float(min_confidence),
        group_by=_group_by_check("auto" if group_by is None else group_by),
    )

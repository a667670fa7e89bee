"""What a requester tells us about an uploaded model: its task, input size and label mapping.

Checked on construction, so a ModelSpec that exists is one the runner can use; each refusal is a
PayloadInvalid naming the field as the upload form does (``input_size``, ``class_labels[3]``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sebenzai.common.errors import PayloadInvalid

TASKS = ("classifier", "yolo_detect")
MAX_INPUT_SIDE = 4096  # px; bounds the input tensor (and so the run's memory) whatever the graph
MAX_CLASSES = 10_000
RGB = tuple[float, float, float]


@dataclass(frozen=True)
class ModelSpec:
    """``class_labels[i]`` is the project label for the model's class ``i``, or None to ignore
    it; several classes may map to one label. ``mean``/``std`` (per RGB channel, on pixels scaled
    to 0..1) are for exports that leave normalisation out of the graph, such as torchvision's
    ImageNet models (mean 0.485, 0.456, 0.406; std 0.229, 0.224, 0.225). The defaults change
    nothing, which is right for Ultralytics exports and for graphs that fold it in."""

    task: str
    input_size: tuple[int, int]  # (width, height)
    class_labels: Sequence[str | None]
    score_threshold: float = 0.25
    iou_threshold: float = 0.45
    mean: RGB = (0.0, 0.0, 0.0)
    std: RGB = (1.0, 1.0, 1.0)

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            message = f"Unknown task {str(self.task)[:40]!r}; expected one of: {', '.join(TASKS)}."
            raise PayloadInvalid(code="invalid_choice", field="task", message=message)
        # Tuples whatever the caller passed (JSON gives lists), so the spec stays immutable.
        object.__setattr__(self, "input_size", _input_size(self.input_size))
        object.__setattr__(self, "class_labels", _class_labels(self.class_labels))
        for field in ("score_threshold", "iou_threshold"):
            _fraction(getattr(self, field), field)
        object.__setattr__(self, "mean", _channels(self.mean, "mean", low=-math.inf))
        object.__setattr__(self, "std", _channels(self.std, "std", low=0.0))


def _is_number(value: Any) -> bool:
    # bool is an int in Python; a JSON true is not a size.
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def _input_size(value: Any) -> tuple[int, int]:
    sides = tuple(value) if isinstance(value, list | tuple) else ()
    valid = len(sides) == 2 and all(_is_number(s) and int(s) == s for s in sides)
    if not valid or not all(1 <= s <= MAX_INPUT_SIDE for s in sides):
        message = f"Expected [width, height] in whole pixels, each 1..{MAX_INPUT_SIDE}."
        raise PayloadInvalid(code="invalid_size", field="input_size", message=message)
    return int(sides[0]), int(sides[1])


def _class_labels(value: Any) -> tuple[str | None, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        message = "Expected a list with one project label (or null) per model class."
        raise PayloadInvalid(code="invalid_type", field="class_labels", message=message)
    if len(value) > MAX_CLASSES:
        message = f"{len(value)} classes; the limit is {MAX_CLASSES}."
        raise PayloadInvalid(code="too_many_objects", field="class_labels", message=message)
    for index, label in enumerate(value):
        if label is not None and (not isinstance(label, str) or not label):
            message = "Expected a label name, or null to ignore this class."
            raise PayloadInvalid(
                code="invalid_type", field=f"class_labels[{index}]", message=message
            )
    if all(label is None for label in value):
        message = "Every class is ignored; map at least one to a project label."
        raise PayloadInvalid(code="invalid_labels", field="class_labels", message=message)
    return tuple(value)


def _fraction(value: Any, field: str) -> None:
    if not _is_number(value) or not 0.0 <= value <= 1.0:
        message = "Expected a number in [0, 1]."
        raise PayloadInvalid(code="invalid_number", field=field, message=message)


def _channels(value: Any, field: str, *, low: float) -> RGB:
    values = tuple(value) if isinstance(value, list | tuple) else ()
    if len(values) != 3 or not all(_is_number(v) and v > low for v in values):
        bound = "positive " if low == 0.0 else ""
        message = f"Expected three {bound}numbers, one per RGB channel (pixels scaled to 0..1)."
        raise PayloadInvalid(code="invalid_number", field=field, message=message)
    return float(values[0]), float(values[1]), float(values[2])

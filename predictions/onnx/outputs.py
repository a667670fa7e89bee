"""Numbers out: a model's output tensor -> a prediction payload in the image's own pixels.

Classifier: scores over the model's classes, logits unless they already are probabilities
(all in [0, 1] and summing to 1). Classes mapped to one project label pool their probability
(``tabby`` and ``siamese`` both mapped to ``cat``); the answer is the likeliest label, with its
probability out of all classes, so a model unsure between kept and ignored classes says so.

YOLO detection (Ultralytics v8/11, [1, 4 + classes, anchors], boxes as cx, cy, w, h in input
pixels): as Ultralytics' own NMS does, each anchor keeps its best class, and an anchor whose
best class is ignored (None) is dropped rather than relabelled with a runner-up. Then score
threshold, greedy NMS per project label, the letterbox undone, clipping to the image, and at
most MAX_BOXES boxes, surest first.
"""

from __future__ import annotations

from typing import Any, NoReturn

import numpy as np

from sebenzai.common.errors import PayloadInvalid

from .images import Letterbox
from .spec import ModelSpec

MAX_BOXES = 300
MAX_CANDIDATES = 30_000  # boxes entering NMS, surest first (Ultralytics' max_nms)
PROBABILITY_TOLERANCE = 1e-3

Payload = dict[str, Any]


def output_check(output: np.ndarray, spec: ModelSpec) -> None:
    """PayloadInvalid unless the output's shape is the task's for ``len(spec.class_labels)``
    classes; ``class_labels`` is named when only the class count is off."""
    classes, shape = len(spec.class_labels), list(output.shape)
    if spec.task == "classifier":
        if output.ndim > 1 and output.shape[0] != 1:
            _refuse("model_output_unsupported", f"The model gives {shape}; expected [1, classes].")
        if output.size != classes:
            _refuse_labels(f"The model scores {output.size} classes ({shape})", classes)
        return
    if output.ndim != 3 or output.shape[0] != 1 or output.shape[1] <= 4:
        expected = "a YOLO detection export gives [1, 4 + classes, anchors]"
        _refuse("model_output_unsupported", f"The model gives {shape}; {expected}.")
    if output.shape[1] - 4 != classes:
        _refuse_labels(f"The model detects {output.shape[1] - 4} classes ({shape})", classes)


def classifier_payload(output: np.ndarray, spec: ModelSpec) -> Payload:
    scores = output.astype(np.float64).ravel()
    if not np.isfinite(scores).all():
        _refuse("model_output_invalid", "The model gave a score that is not a finite number.")
    probabilities = scores if _are_probabilities(scores) else _softmax(scores)
    label_ids, labels = _label_ids(spec)
    kept = label_ids >= 0
    pooled = np.bincount(label_ids[kept], weights=probabilities[kept], minlength=len(labels))
    best = int(np.argmax(pooled))
    return {"label": labels[best], "score": _score(pooled[best])}


def detections_payload(
    output: np.ndarray, spec: ModelSpec, box: Letterbox, image_size: tuple[int, int]
) -> Payload:
    rows = output[0].T.astype(np.float64)  # [anchors, 4 + classes]
    rows = rows[np.isfinite(rows).all(axis=1) & (rows[:, 2] > 0) & (rows[:, 3] > 0)]
    best_class = rows[:, 4:].argmax(axis=1)
    scores = rows[np.arange(len(rows)), 4 + best_class]
    label_ids, labels = _label_ids(spec)
    groups = label_ids[best_class]
    keep = np.flatnonzero((scores >= spec.score_threshold) & (groups >= 0))
    keep = keep[np.argsort(-scores[keep], kind="stable")][:MAX_CANDIDATES]
    xyxy = _xyxy(rows[keep, :4])
    kept = nms(xyxy, scores[keep], groups[keep], spec.iou_threshold, limit=MAX_BOXES)
    corners = _clip(box.undo(xyxy[kept]), image_size)
    chosen = zip(corners, scores[keep][kept], groups[keep][kept], strict=True)
    found = [
        {"label": labels[group], "bbox": _xywh(corner), "score": _score(score)}
        for corner, score, group in chosen
    ]
    # A box that lay (almost) all in the padding is nothing once clipped.
    return {"boxes": [item for item in found if item["bbox"][2] > 0 and item["bbox"][3] > 0]}


def nms(
    xyxy: np.ndarray, scores: np.ndarray, groups: np.ndarray, iou_threshold: float, *, limit: int
) -> np.ndarray:
    """Greedy non-maximum suppression within each group: the indices kept, surest first. A box
    is dropped when its IoU with a surer box of its group exceeds ``iou_threshold``."""
    order = np.argsort(-scores, kind="stable")
    kept: list[int] = []
    while order.size and len(kept) < limit:
        best, rest = order[0], order[1:]
        kept.append(int(best))
        same_group = groups[rest] == groups[best]
        order = rest[~same_group | (_iou_one_to_many(xyxy[best], xyxy[rest]) <= iou_threshold)]
    return np.array(kept, dtype=np.intp)


def _iou_one_to_many(one: np.ndarray, many: np.ndarray) -> np.ndarray:
    top_left = np.maximum(one[:2], many[:, :2])
    bottom_right = np.minimum(one[2:], many[:, 2:])
    overlap = np.clip(bottom_right - top_left, 0, None).prod(axis=1)
    union = _area(one[np.newaxis])[0] + _area(many) - overlap
    return np.divide(overlap, union, out=np.zeros_like(overlap), where=union > 0)


def _area(xyxy: np.ndarray) -> np.ndarray:
    return (xyxy[:, 2] - xyxy[:, 0]) * (xyxy[:, 3] - xyxy[:, 1])


def _xyxy(cxcywh: np.ndarray) -> np.ndarray:
    half = cxcywh[:, 2:] / 2
    return np.concatenate([cxcywh[:, :2] - half, cxcywh[:, :2] + half], axis=1)


def _clip(xyxy: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    width, height = image_size
    return np.clip(xyxy, 0, [width, height, width, height])


def _xywh(corners: np.ndarray) -> list[float]:
    x1, y1, x2, y2 = (round(float(v), 2) for v in corners)
    return [x1, y1, round(x2 - x1, 2), round(y2 - y1, 2)]


def _label_ids(spec: ModelSpec) -> tuple[np.ndarray, list[str]]:
    """Per model class, the index of its project label in ``labels`` (-1 if ignored)."""
    labels = [label for label in dict.fromkeys(spec.class_labels) if label is not None]
    position = {label: index for index, label in enumerate(labels)}
    ids = [-1 if label is None else position[label] for label in spec.class_labels]
    return np.array(ids, dtype=np.intp), labels


def _are_probabilities(scores: np.ndarray) -> bool:
    in_range = scores.min() >= -PROBABILITY_TOLERANCE and scores.max() <= 1 + PROBABILITY_TOLERANCE
    return bool(in_range and abs(scores.sum() - 1.0) <= PROBABILITY_TOLERANCE)


def _softmax(logits: np.ndarray) -> np.ndarray:
    exponentials = np.exp(logits - logits.max())
    return exponentials / exponentials.sum()


def _score(value: float) -> float:
    return round(min(max(float(value), 0.0), 1.0), 4)


def _refuse(code: str, message: str) -> NoReturn:
    raise PayloadInvalid(code=code, field="model", message=message)


def _refuse_labels(what: str, classes: int) -> NoReturn:
    message = f"{what}; class_labels has {classes} entries (one per class, null to ignore one)."
    raise PayloadInvalid(code="class_labels_mismatch", field="class_labels", message=message)

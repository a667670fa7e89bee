"""A prediction is an answer with scores: the class's (classification, moderation) or each
shape's (boxes, polygons), each in [0, 1]. The scores are taken off, the answer is checked by the
project's own validator (labels, geometry, limits), and the scores are put back in order."""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings

from annotations.payloads import JsonObject, PayloadRules, payload_validate
from sebenzai.common.errors import PayloadInvalid

SHAPE_KEYS = {"bbox": "boxes", "polygon": "polygons"}


def prediction_validate(payload: Any, rules: PayloadRules, field: str) -> JsonObject:
    """The normalised prediction, or PayloadInvalid naming the field (a missing or bad score
    included)."""
    if not isinstance(payload, dict):
        raise PayloadInvalid(code="invalid_type", field=field, message="Expected a JSON object.")
    key = SHAPE_KEYS.get(rules.kind)
    if key is None:
        answer = {k: v for k, v in payload.items() if k != "score"}
        clean = payload_validate(answer, rules, field)
        return {**clean, "score": _score(payload, f"{field}.score")}
    shapes = payload.get(key)
    if not isinstance(shapes, list):
        return payload_validate(payload, rules, field)  # its own message for a missing list
    scores = [_score(shape, f"{field}.{key}[{i}].score") for i, shape in enumerate(shapes)]
    bare = [{k: v for k, v in shape.items() if k != "score"} for shape in shapes]
    clean = payload_validate({**payload, key: bare}, rules, field)
    return {key: [{**s, "score": p} for s, p in zip(clean[key], scores, strict=True)]}


def top_score(payload: JsonObject) -> float:
    """The prediction's own confidence: the class's score, or its surest shape's (1 when it
    predicts no shape at all: an empty image is a confident answer too)."""
    if "score" in payload:
        return float(payload["score"])
    shapes = next(iter(payload.values()))
    return max((float(s["score"]) for s in shapes), default=1.0)


def _score(item: Any, field: str) -> float:
    value = item.get("score") if isinstance(item, dict) else None
    if value is None:
        if not isinstance(item, dict):
            return 0.0  # the validator names the item itself
        raise PayloadInvalid(code="required", field=field, message="A score in [0, 1] is required.")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PayloadInvalid(code="invalid_number", field=field, message="Expected a number.")
    if not 0.0 <= value <= 1.0:
        raise PayloadInvalid(
            code="invalid_score", field=field, message=f"{value:g} is outside [0, 1]."
        )
    return round(float(value), 4)


def doubt(payload: JsonObject) -> float:
    """How unsure the prediction is, in [0, 1], for ordering the work: for a class, 1 minus its
    score; for shapes, the most uncertain shape's (a score of 0.5 is the most uncertain: the
    shape may or may not be there; 0 or 1 is sure). No shape at all: sure of an empty image."""
    if "score" in payload:
        return round(1.0 - float(payload["score"]), 4)
    shapes = next(iter(payload.values()))
    return round(max((1.0 - abs(2.0 * float(s["score"]) - 1.0) for s in shapes), default=0.0), 4)


def vote_part(payload: JsonObject) -> JsonObject:
    """What the model stands behind: shapes it scored under MODEL_MIN_SCORE are left out."""
    floor = settings.SEBENZAI["MODEL_MIN_SCORE"]
    for key in SHAPE_KEYS.values():
        if key in payload:
            return {key: [s for s in payload[key] if s["score"] >= floor]}
    return payload


def proposal_of(payload: JsonObject) -> JsonObject:
    """The prediction as a worker's tool opens with it: the part the model stands behind, as an
    answer (no scores)."""
    part = vote_part(payload)
    for key in SHAPE_KEYS.values():
        if key in part:
            return {key: [{k: v for k, v in s.items() if k != "score"} for s in part[key]]}
    return {k: v for k, v in part.items() if k != "score"}

"""What both formats share: the parsed prediction, the bounds a hostile file meets, and the
checks of values (numbers, scores, names) that name the place in the file at fault."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from sebenzai.common.errors import PayloadInvalid

MAX_FILE_BYTES = 64 * 1024 * 1024  # per COCO file; for YOLO, all .txt files together
MAX_DETECTIONS = 100_000  # per upload: results, images, categories or .txt lines
MAX_LINE_CHARS = 100_000  # a 1000-point polygon in Ultralytics' %g format is about 20,000
MAX_NAME_CHARS = 1024
FILE = "file"  # the field every error names, as "file[12].score" or "file[a.txt] line 3"
SHAPES_KEY = {"bbox": "boxes", "polygon": "polygons"}
BOX_VALUES = ("cx", "cy", "w", "h")  # of a YOLO box line, after the class
CLASS_INDEX = re.compile(r"[0-9]{1,9}")

JsonObject = dict[str, Any]  # a parsed JSON object: string keys, any JSON value
Located = tuple[JsonObject, str]  # a shape and where in the file it came from


@dataclass(frozen=True)
class FilePrediction:
    """One image's prediction as a file gives it.

    ``image`` is how the file names the image (a file name with or without extension or folders,
    or a sha256 hex). ``where`` is the image's place in the file; ``shapes_where`` the place of
    each box or polygon of ``payload``, in order, so an error about ``boxes[2]`` can name the line.
    When ``normalised``, coordinates are fractions of the image's width and height.
    """

    image: str
    payload: JsonObject
    where: str
    normalised: bool = False
    shapes_where: tuple[str, ...] = ()


# --- COCO results ------------------------------------------------------------------------------


def scale_to_pixels(payload: JsonObject, width: int, height: int) -> JsonObject:
    """A normalised payload in pixels of a ``width`` x ``height`` image; other keys kept.

    Boxes are already x, y, w, h (parsing converted YOLO's centres). A payload without shapes
    comes back as a copy. The input is not changed.
    """
    if "boxes" in payload:
        boxes = [_box_pixels(box, width, height) for box in payload["boxes"]]
        return {**payload, "boxes": boxes}
    if "polygons" in payload:
        polygons = [
            {**polygon, "points": [[x * width, y * height] for x, y in polygon["points"]]}
            for polygon in payload["polygons"]
        ]
        return {**payload, "polygons": polygons}
    return dict(payload)


def _box_pixels(box: JsonObject, width: int, height: int) -> JsonObject:
    x, y, w, h = box["bbox"]
    return {**box, "bbox": [x * width, y * height, w * width, h * height]}


# --- shared ------------------------------------------------------------------------------------


def _expect_kind(kind: str, kinds: tuple[str, ...], what: str) -> None:
    if kind not in kinds:
        message = f"{what} holds {' or '.join(kinds)} predictions; this project is {kind}."
        raise PayloadInvalid(code="unsupported", field=FILE, message=message)


def _text(data: bytes, field: str = FILE) -> str:
    if len(data) > MAX_FILE_BYTES:
        message = f"{len(data):,} bytes; the limit is {MAX_FILE_BYTES:,}."
        raise PayloadInvalid(code="too_large", field=field, message=message)
    try:
        return data.decode("utf-8-sig")  # a byte order mark, as Windows tools write, is dropped
    except UnicodeDecodeError as exc:
        message = f"Not UTF-8 text (byte {exc.start})."
        raise PayloadInvalid(code="invalid_encoding", field=field, message=message) from None


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        message = "Not valid JSON: nested too deeply."
        raise PayloadInvalid(code="invalid_json", field=FILE, message=message) from None
    except ValueError as exc:  # also an integer too long to convert
        message = f"Not valid JSON: {exc}."
        raise PayloadInvalid(code="invalid_json", field=FILE, message=message) from None


def _shapes_prediction(
    image: str, where: str, shapes: list[Located], kind: str, *, normalised: bool = False
) -> FilePrediction:
    return FilePrediction(
        image=image,
        payload={SHAPES_KEY[kind]: [shape for shape, _ in shapes]},
        where=where,
        normalised=normalised,
        shapes_where=tuple(shape_where for _, shape_where in shapes),
    )


def _object(value: Any, field: str) -> JsonObject:
    if not isinstance(value, dict):
        raise PayloadInvalid(code="invalid_format", field=field, message="Expected an object.")
    return value


def _required(item: JsonObject, key: str, field: str, *, code: str = "invalid_format") -> Any:
    if key not in item:
        message = "This field is required."
        raise PayloadInvalid(code=code, field=f"{field}.{key}", message=message)
    return item[key]


def _bounded(value: Any, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise PayloadInvalid(code="invalid_format", field=field, message="Expected a list.")
    if len(value) > MAX_DETECTIONS:
        message = f"{len(value):,} items; the limit is {MAX_DETECTIONS:,}."
        raise PayloadInvalid(code="too_large", field=field, message=message)
    return value


def _image_name(value: Any, field: str, *, hint: str = "") -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_NAME_CHARS:
        message = f"Expected the image's file name or sha256 (1 to {MAX_NAME_CHARS} characters)."
        raise PayloadInvalid(code="invalid_format", field=field, message=message + hint)
    return value


def _score(value: Any, field: str) -> float:
    score = _finite(value)
    if score is None or not 0 <= score <= 1:
        message = f"The score is {_shown(value)}; a score is a number from 0 to 1."
        raise PayloadInvalid(code="invalid_score", field=field, message=message)
    return score


def _number(value: Any, field: str) -> float:
    number = _finite(value)
    if number is None:
        raise PayloadInvalid(
            code="invalid_number", field=field, message="Expected a finite number."
        )
    return number


def _finite(value: Any) -> float | None:
    # bool is an int in Python; a JSON true is not a number.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # a JSON integer beyond a float's range
        return None
    return number if math.isfinite(number) else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_id(value: Any) -> bool:
    return _is_int(value) or isinstance(value, str)


def _shown(value: Any) -> str:
    """A value the file gave, cut short for a message."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."

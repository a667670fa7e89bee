"""COCO results JSON: the bare results list detectors write, or a dict of images, annotations
and categories (see the package's docstring)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sebenzai.common.errors import PayloadInvalid

from .common import (
    FILE,
    FilePrediction,
    JsonObject,
    Located,
    _bounded,
    _expect_kind,
    _image_name,
    _is_id,
    _is_int,
    _json,
    _number,
    _object,
    _required,
    _score,
    _shapes_prediction,
    _shown,
    _text,
)


@dataclass(frozen=True)
class _Coco:
    kind: str
    categories: dict[int, str]  # category id -> name, which must be one of the labels
    labels: frozenset[str]


def coco_results_parse(data: bytes, *, kind: str, labels: Sequence[str]) -> list[FilePrediction]:
    """One FilePrediction per image, its detections in file order, coordinates in pixels.

    A bare results list yields the images that have detections; a dict yields every image of
    ``images``, one without detections as a prediction of no objects. For polygons the first ring
    of each ``segmentation`` is taken. Raises PayloadInvalid naming the field.
    """
    _expect_kind(kind, ("bbox", "polygon"), "A COCO results file")
    parsed = _json(_text(data))
    if isinstance(parsed, list):
        coco = _Coco(kind, _categories_numbered(labels), frozenset(labels))
        return _coco_results(_bounded(parsed, FILE), coco)
    if isinstance(parsed, dict):
        return _coco_dataset(parsed, kind, labels)
    message = "Expected a COCO results list, or an object with 'images' and 'annotations'."
    raise PayloadInvalid(code="invalid_format", field=FILE, message=message)


def _coco_results(results: list[Any], coco: _Coco) -> list[FilePrediction]:
    shapes: dict[str, list[Located]] = {}
    for index, item in enumerate(results):
        field = f"{FILE}[{index}]"
        hint = " For numeric ids give an object with 'images' and 'annotations'."
        image = _image_name(_object(item, field).get("image_id"), f"{field}.image_id", hint=hint)
        shapes.setdefault(image, []).append((_coco_shape(item, field, coco), field))
    # An image's place is that of its first detection; its shapes carry their own.
    return [
        _shapes_prediction(image, found[0][1], found, coco.kind) for image, found in shapes.items()
    ]


def _coco_dataset(parsed: JsonObject, kind: str, labels: Sequence[str]) -> list[FilePrediction]:
    images = _coco_images(_bounded(_required(parsed, "images", FILE), f"{FILE}.images"))
    annotations = _bounded(_required(parsed, "annotations", FILE), f"{FILE}.annotations")
    if parsed.get("categories") is None:
        categories = _categories_numbered(labels)
    else:
        categories = _categories_named(_bounded(parsed["categories"], f"{FILE}.categories"))
    coco = _Coco(kind, categories, frozenset(labels))
    shapes: dict[int | str, list[Located]] = {image_id: [] for image_id in images}
    for index, item in enumerate(annotations):
        field = f"{FILE}.annotations[{index}]"
        image_id = _object(item, field).get("image_id")
        if not _is_id(image_id) or image_id not in shapes:
            message = f"image_id {_shown(image_id)} is not the id of any of file.images."
            raise PayloadInvalid(code="unknown_image", field=f"{field}.image_id", message=message)
        shapes[image_id].append((_coco_shape(item, field, coco), field))
    return [
        _shapes_prediction(name, where, shapes[image_id], kind)
        for image_id, (name, where) in images.items()
    ]


def _coco_images(images: list[Any]) -> dict[int | str, tuple[str, str]]:
    """Image id -> (file name, where); an id or a file name given twice is refused."""
    found: dict[int | str, tuple[str, str]] = {}
    names: set[str] = set()
    for index, item in enumerate(images):
        field = f"{FILE}.images[{index}]"
        image_id = _required(_object(item, field), "id", field)
        if not _is_id(image_id):
            message = "Expected a number or a string."
            raise PayloadInvalid(code="invalid_format", field=f"{field}.id", message=message)
        name = _image_name(_required(item, "file_name", field), f"{field}.file_name")
        if image_id in found or name in names:
            message = f"Image {_shown(image_id)} ({name!r}) is listed twice."
            raise PayloadInvalid(code="duplicate", field=field, message=message)
        found[image_id] = (name, field)
        names.add(name)
    return found


def _categories_numbered(labels: Sequence[str]) -> dict[int, str]:
    """Our COCO export's numbering: the project's labels from 1, in order."""
    return {index: label for index, label in enumerate(labels, 1)}


def _categories_named(categories: list[Any]) -> dict[int, str]:
    named: dict[int, str] = {}
    for index, item in enumerate(categories):
        field = f"{FILE}.categories[{index}]"
        category_id = _required(_object(item, field), "id", field)
        name = _required(item, "name", field)
        if not _is_int(category_id):
            message = "Expected an integer."
            raise PayloadInvalid(code="invalid_format", field=f"{field}.id", message=message)
        if not isinstance(name, str):
            message = "Expected the category's name (a string)."
            raise PayloadInvalid(code="invalid_format", field=f"{field}.name", message=message)
        if category_id in named:
            message = f"Category id {category_id} is listed twice."
            raise PayloadInvalid(code="duplicate", field=f"{field}.id", message=message)
        named[category_id] = name
    return named


def _coco_shape(item: JsonObject, field: str, coco: _Coco) -> JsonObject:
    label = _coco_label(_required(item, "category_id", field), f"{field}.category_id", coco)
    score = _score(_required(item, "score", field, code="invalid_score"), f"{field}.score")
    if coco.kind == "bbox":
        bbox = _coco_bbox(_required(item, "bbox", field), f"{field}.bbox")
        return {"label": label, "bbox": bbox, "score": score}
    ring = _coco_ring(_required(item, "segmentation", field), f"{field}.segmentation")
    return {"label": label, "points": ring, "score": score}


def _coco_label(category_id: Any, field: str, coco: _Coco) -> str:
    name = coco.categories.get(category_id) if _is_int(category_id) else None
    if name is None:
        known = ", ".join(str(key) for key in list(coco.categories)[:20])
        message = f"Category {_shown(category_id)} is not one of the file's categories ({known})."
        raise PayloadInvalid(code="unknown_category", field=field, message=message)
    if name not in coco.labels:
        allowed = ", ".join(sorted(coco.labels)[:20])
        message = (
            f"Category {category_id} is {_shown(name)}, which is not one of this project's"
            f" labels ({allowed})."
        )
        raise PayloadInvalid(code="unknown_category", field=field, message=message)
    return name


def _coco_bbox(raw: Any, field: str) -> list[float]:
    if not isinstance(raw, list) or len(raw) != 4:
        raise PayloadInvalid(code="invalid_format", field=field, message="Expected [x, y, w, h].")
    return [_number(value, f"{field}[{i}]") for i, value in enumerate(raw)]


def _coco_ring(raw: Any, field: str) -> list[list[float]]:
    if isinstance(raw, dict):  # {"counts", "size"}: a run-length encoded mask
        message = "RLE masks are not supported; give polygons."
        raise PayloadInvalid(code="unsupported", field=field, message=message)
    if not isinstance(raw, list) or not raw or not isinstance(raw[0], list):
        message = "Expected polygons: [[x1, y1, x2, y2, ...], ...]."
        raise PayloadInvalid(code="invalid_format", field=field, message=message)
    ring = raw[0]
    if len(ring) % 2:
        message = f"{len(ring)} values; a ring is x, y pairs."
        raise PayloadInvalid(code="invalid_format", field=f"{field}[0]", message=message)
    flat = [_number(value, f"{field}[0][{i}]") for i, value in enumerate(ring)]
    return [[x, y] for x, y in zip(flat[::2], flat[1::2], strict=True)]


# --- Ultralytics YOLO .txt ---------------------------------------------------------------------

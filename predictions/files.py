"""Prediction files matched to tasks: each image a file names (by the name it was uploaded
under, with or without folders and extension, or by its sha256) must be one of the project's
tasks; YOLO's fractions of the image become pixels of that task's image."""

from __future__ import annotations

from collections import defaultdict
from typing import IO

from annotations.models import Project, Task
from annotations.services.intake import files_from_archive
from sebenzai.common.errors import DomainError

from .formats import FilePrediction, coco_results_parse, scale_to_pixels, yolo_txt_parse
from .services import PredictionItem

MAX_FILE_BYTES = 64 * 1024 * 1024


def items_from_files(
    *, project: Project, fmt: str, files: list | None = None, archive: IO[bytes] | None = None
) -> list[PredictionItem]:
    contents = _read(files, archive)
    if fmt == "coco":
        if len(contents) != 1:
            message = "A COCO results file is one JSON file."
            raise DomainError(code="invalid_format", field="file", message=message)
        (data,) = contents.values()
        parsed = coco_results_parse(data, kind=project.kind, labels=project.label_names)
    else:
        parsed = yolo_txt_parse(contents, kind=project.kind, labels=project.label_names)
    index = _task_index(project)
    return [_item(prediction, index) for prediction in parsed]


def _read(files: list | None, archive: IO[bytes] | None) -> dict[str, bytes]:
    if archive is not None:
        entries = list(files_from_archive(archive))
        return {entry.name: _capped(entry.read(), entry.field) for entry in entries}
    contents = {}
    for i, upload in enumerate(files or []):
        contents[upload.name or f"file[{i}]"] = _capped(
            upload.read(MAX_FILE_BYTES + 1), f"file[{i}]"
        )
    return contents


def _capped(data: bytes, field: str) -> bytes:
    if len(data) > MAX_FILE_BYTES:
        message = f"The file is over {MAX_FILE_BYTES // 2**20} MiB."
        raise DomainError(code="file_too_large", field=field, message=message)
    return data


def _keys(name: str) -> set[str]:
    """Every way a prediction file may name an uploaded image: as uploaded, without folders,
    without the extension."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return {name, base, base.rsplit(".", 1)[0]} - {""}


def _task_index(project: Project) -> dict[str, list[Task]]:
    index: dict[str, list[Task]] = defaultdict(list)
    tasks = Task.objects.filter(project=project).only(
        "id", "sha256", "original_name", "width", "height"
    )
    for task in tasks:
        index[task.sha256].append(task)
        for key in _keys(task.original_name):
            index[key].append(task)
    return index


def _item(prediction: FilePrediction, index: dict[str, list[Task]]) -> PredictionItem:
    matches = {t.pk: t for key in _keys(prediction.image) for t in index.get(key, [])}
    if len(matches) != 1:
        problem = "matches no image" if not matches else "matches several images"
        message = f"{prediction.image[:200]!r} {problem} of this project."
        code = "not_found" if not matches else "ambiguous"
        raise DomainError(code=code, field=prediction.where, message=message)
    (task,) = matches.values()
    payload = prediction.payload
    if prediction.normalised and isinstance(payload, dict):
        payload = scale_to_pixels(payload, task.width, task.height)
    return PredictionItem(str(task.pk), payload, prediction.where, prediction.where)

"""A requester's ONNX model uploaded to a project, and the project's uploaded models listed.

Every check runs before anything is stored, cheapest first: the runtime is installed, the
``name@version`` is free in the project, the task fits the project's kind (a classifier for a
classification project, a YOLO detector for a box project), the spec is one the runner can use,
every mapped label is the project's, the file is under the size cap (judged before it is read
into memory), and ``model_load`` takes it, trial run included. The runner names the file
``model``; here that field is the name, so its refusals are given as ``file``. Then the file is
stored by content and the rows made in one transaction; the run job is sent after commit.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from annotations.models import Project, ProjectKind
from sebenzai import jobs
from sebenzai.common.broker import job_send_on_commit
from sebenzai.common.errors import Conflict, DomainError, PayloadInvalid

from .model_files import model_file_forget, model_file_write, onnx_available
from .models import ModelVersion, OnnxModel, OnnxRunFailure, Prediction
from .services import model_name_check, model_version

TASK_FOR_KIND = {ProjectKind.CLASSIFICATION: "classifier", ProjectKind.BBOX: "yolo_detect"}
MAX_MODELS_PER_ACCOUNT = 20  # uploaded files of up to 200 MiB each, kept for good


class OnnxUnavailable(DomainError):
    """This installation has no ONNX runtime (the optional ``onnx`` extra)."""


def onnx_model_upload(
    *, project: Project, model: str, file: IO[bytes], spec_fields: dict[str, Any]
) -> OnnxModel:
    """Store the model ``model`` (``name@version``, new in the project) to run on the project's
    tasks; ``spec_fields`` are ModelSpec's (task, input_size, class_labels and optionally
    score_threshold, iou_threshold, mean, std). Refusals name the field at fault."""
    onnx_runtime_check()
    # The optional extra: imported once it is known to be there.
    from .onnx import ModelSpec, checks, model_load

    name = model_name_check(model)
    _name_free(project, name)
    spec = ModelSpec(**spec_fields)
    _task_fits(project, spec.task)
    _labels_of_project(project, spec.class_labels)
    content = _content(file, checks.MAX_MODEL_BYTES)
    try:
        model_load(content, spec)
    except PayloadInvalid as exc:
        if exc.field != "model":
            raise
        raise PayloadInvalid(code=exc.code, field="file", message=exc.message) from exc
    sha256 = hashlib.sha256(content).hexdigest()
    written = model_file_write(content=content, sha256=sha256)
    try:
        return _create(project, name, asdict(spec), sha256, len(content))
    except BaseException:
        if written:  # refused at the last moment (a race): leave no file behind
            model_file_forget(sha256=sha256)
        raise


def onnx_runtime_check() -> None:
    """OnnxUnavailable unless this process can check and run ONNX models."""
    if not onnx_available():
        message = "This server cannot run ONNX models: the onnx extra is not installed."
        raise OnnxUnavailable(code="onnx_unavailable", message=message)


def onnx_models_of(*, project: Project) -> list[dict[str, Any]]:
    """The project's uploaded models, oldest first, with their state and how many tasks each
    has predicted, or failed to."""
    predicted = _count(Prediction.objects.filter(model=OuterRef("version")), "model")
    failed = _count(OnnxRunFailure.objects.filter(model=OuterRef("pk")), "model")
    rows = (
        OnnxModel.objects.filter(version__project=project)
        .select_related("version")
        .annotate(predicted=predicted, failed=failed)
        .order_by("created_at", "pk")
    )
    return [_listed(row) for row in rows]


def _listed(row: Any) -> dict[str, Any]:
    return {
        "id": str(row.pk),
        "model": row.version.name,
        "model_id": str(row.version_id),
        **{key: row.spec[key] for key in ("task", "input_size", "class_labels")},
        "state": row.state,
        "predicted": row.predicted,
        "failed": row.failed,
        "last_error": row.last_error,
        "sha256": row.sha256,
        "size": row.size,
        "created_at": row.created_at.isoformat(),
    }


def _count(rows: Any, by: str) -> Coalesce:
    counted = rows.order_by().values(by).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _name_free(project: Project, name: str) -> None:
    if ModelVersion.objects.filter(project=project, name=name).exists():
        message = f"{name} already exists in this project; upload the model as a new version."
        raise Conflict(code="model_exists", field="model", message=message)


def _task_fits(project: Project, task: str) -> None:
    expected = TASK_FOR_KIND.get(ProjectKind(project.kind))
    if expected is None:
        message = f"A {project.kind} project takes no uploaded model; post its predictions."
        raise DomainError(code="task_unsupported", field="task", message=message)
    if task != expected:
        message = f"A {project.kind} project takes a {expected!r} model, not {task!r}."
        raise DomainError(code="task_unsupported", field="task", message=message)


def _labels_of_project(project: Project, class_labels: Any) -> None:
    names = set(project.label_names)
    for index, label in enumerate(class_labels):
        if label is not None and label not in names:
            message = f"{str(label)[:60]!r} is not a label of this project (null ignores a class)."
            raise PayloadInvalid(
                code="unknown_label", field=f"class_labels[{index}]", message=message
            )


def _content(file: IO[bytes], cap: int) -> bytes:
    """The upload's bytes; one over the cap is refused before it is read into memory."""
    too_large = DomainError(
        code="file_too_large", field="file", message=f"The model is over {cap:,} bytes."
    )
    if (getattr(file, "size", None) or 0) > cap:
        raise too_large
    content = file.read(cap + 1)
    if len(content) > cap:
        raise too_large
    return content


def _create(project: Project, name: str, spec: dict[str, Any], sha256: str, size: int) -> OnnxModel:
    try:
        with transaction.atomic():
            # The owner's row, held to commit: two uploads cannot both take the last place.
            owner = get_user_model().objects.select_for_update().filter(pk=project.owner_id)
            list(owner.values_list("pk", flat=True))
            _name_free(project, name)
            _quota_check(project)
            version = model_version(project, name)
            row = OnnxModel.objects.create(version=version, spec=spec, sha256=sha256, size=size)
            job_send_on_commit(jobs.RUN_MODEL, str(row.pk), sweeper_backed=True)
    except IntegrityError as exc:  # the same name uploaded or posted at the same moment
        message = f"{name} was stored by a concurrent request; upload a new version."
        raise Conflict(code="model_exists", field="model", message=message) from exc
    return row


def _quota_check(project: Project) -> None:
    held = OnnxModel.objects.filter(version__project__owner_id=project.owner_id).count()
    if held >= MAX_MODELS_PER_ACCOUNT:
        message = f"The account holds its limit of {MAX_MODELS_PER_ACCOUNT} uploaded models."
        raise Conflict(code="quota_exceeded", field="file", message=message)

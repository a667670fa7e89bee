"""Running an uploaded ONNX model on its project's tasks, one batch per job.

A job takes the model's lease (``running_until``: one conditional UPDATE, which only one job
can win), loads the model once, and predicts the tasks that have neither this model's prediction
nor a recorded failure of it, oldest first, up to BATCH_TASKS or BATCH_SECONDS. The answers go
through ``predictions_store``, checked and stored as posted predictions are, and consensus is
told by job name in the same way. A task it cannot predict (its image unreadable, the run
failed, the answer not valid for the task) is recorded as an OnnxRunFailure: counted, never
tried again, and never the end of the job. Then the lease is given back and the job sends itself
again while tasks are left.

A file store that is down is nobody's fault: the job stores what it has done and ends without
sending itself again, the model and its tasks stay as they were, and the beat's sweep sends the
job once more.

Safe to run twice: what is stored is skipped next time, a failure is recorded once (a unique
constraint), and a second job finds the lease held and leaves. A killed job's lease runs out
after LEASE_SECONDS, and the beat (``onnx_models_due``) sends the job for every pending or ready
model with tasks left, which also covers tasks uploaded after the model and lost messages.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from PIL import Image

from annotations.images import EXTENSIONS
from annotations.models import Project, Task
from annotations.services.submissions import rules_for
from sebenzai import jobs
from sebenzai.common.broker import job_send_on_commit
from sebenzai.common.errors import Conflict, DomainError, PayloadInvalid
from sebenzai.common.object_store import store_down

from .model_files import ModelFileUnreadable, model_file_read, onnx_available
from .models import ModelVersion, OnnxModel, OnnxModelState, OnnxRunFailure, Prediction
from .payloads import prediction_validate
from .services import PredictionItem, predictions_store

if TYPE_CHECKING:
    from .onnx import LoadedModel

logger = logging.getLogger(__name__)

BATCH_TASKS = 200
BATCH_SECONDS = 120.0  # then the job stops and sends itself again, whatever the model's speed
# Longer than a job may live (its time limit in tasks.py), so only a dead job's lease runs out.
LEASE_SECONDS = 600
RUNNABLE = (OnnxModelState.PENDING, OnnxModelState.READY)


class TaskUnpredictable(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class BatchReport:
    predicted: int = 0
    failed: int = 0
    more: bool = False  # tasks are left: the job was sent again


def onnx_model_run(*, model_id: str) -> BatchReport | None:
    """Predict one batch of the model's due tasks; None when there is nothing to do here (no
    runtime in this process, the model failed or is gone, or another job holds the lease)."""
    if not onnx_available():
        return None
    lease = _lease_take(model_id)
    if lease is None:
        return None
    try:
        report = _batch(OnnxModel.objects.select_related("version__project").get(pk=model_id))
    finally:
        OnnxModel.objects.filter(pk=model_id, running_until=lease).update(running_until=None)
    if report.more:
        job_send_on_commit(jobs.RUN_MODEL, model_id, sweeper_backed=True)
    return report


def onnx_models_due() -> list[str]:
    """The beat's list: every pending or ready model, not running now, with tasks left."""
    if not onnx_available():
        return []
    idle = Q(running_until__isnull=True) | Q(running_until__lt=timezone.now())
    rows = OnnxModel.objects.filter(idle, state__in=RUNNABLE).select_related("version")
    return [str(row.pk) for row in rows if _tasks_due(row).exists()]


def _lease_take(model_id: str) -> datetime | None:
    """The lease's end if this job took it: the model is runnable and no live job holds it."""
    now = timezone.now()
    until = now + timedelta(seconds=LEASE_SECONDS)
    idle = Q(running_until__isnull=True) | Q(running_until__lt=now)
    runnable = OnnxModel.objects.filter(idle, pk=model_id, state__in=RUNNABLE)
    return until if runnable.update(running_until=until) == 1 else None


def _tasks_due(row: OnnxModel) -> QuerySet[Task]:
    predicted = Prediction.objects.filter(model_id=row.version_id, task=OuterRef("pk"))
    failed = OnnxRunFailure.objects.filter(model_id=row.pk, task=OuterRef("pk"))
    tasks = Task.objects.filter(project_id=row.version.project_id)
    return tasks.filter(~Exists(predicted), ~Exists(failed)).order_by("created_at", "pk")


def _batch(row: OnnxModel) -> BatchReport:
    model = _load(row)
    if model is None:
        return BatchReport()
    project = row.version.project
    deadline = time.monotonic() + BATCH_SECONDS
    items: list[PredictionItem] = []
    failures: list[OnnxRunFailure] = []
    store_is_down = False
    fields = ("id", "project_id", "image", "sha256", "image_format", "width", "height")
    for task in _tasks_due(row).only(*fields)[:BATCH_TASKS]:
        if time.monotonic() > deadline:
            break
        task.project = project  # rules_for reads the kind and labels: no query per task
        try:
            payload = _predict(model, task)
        except TaskUnpredictable as exc:
            failure = OnnxRunFailure(model=row, task=task, code=exc.code, message=exc.message[:500])
            failures.append(failure)
            continue
        except Exception as exc:
            if not store_down(exc):
                raise
            # Keep what is done; the beat sends the job again, rather than this job sending
            # itself over and over while the store is down.
            logger.warning("file store down: model %s stops its batch", row.pk)
            store_is_down = True
            break
        items.append(PredictionItem(str(task.pk), payload, f"tasks[{len(items)}]"))
    predicted = _store(project, row.version, items)
    _failures_record(row, failures)
    return BatchReport(predicted, len(failures), not store_is_down and _tasks_due(row).exists())


def _load(row: OnnxModel) -> LoadedModel | None:
    """The model ready to run; None, and the model marked failed, if it no longer loads (or,
    not marked, if the file store is down)."""
    from .onnx import ModelSpec, model_load  # the optional extra, known to be installed

    try:
        model = model_load(model_file_read(sha256=row.sha256), ModelSpec(**row.spec))
    except (ModelFileUnreadable, PayloadInvalid) as exc:
        error = str(exc)[:500]
        OnnxModel.objects.filter(pk=row.pk).update(state=OnnxModelState.FAILED, last_error=error)
        return None
    except Exception as exc:
        if not store_down(exc):
            raise
        # Not the model's fault: it stays runnable, and the beat sends the job again.
        logger.warning("file store down: model %s not loaded, left to the next sweep", row.pk)
        return None
    OnnxModel.objects.filter(pk=row.pk, state=OnnxModelState.PENDING).update(
        state=OnnxModelState.READY
    )
    return model


def _predict(model: LoadedModel, task: Task) -> dict[str, Any]:
    from .onnx import model_predict

    image = _image_of(task)
    try:
        payload = model_predict(model, image)
    except PayloadInvalid as exc:
        raise TaskUnpredictable(exc.code, exc.message) from exc
    except Exception as exc:  # a fault in the runner must not end the batch: count it, go on
        logger.exception("The ONNX runner failed on task %s", task.pk)
        raise TaskUnpredictable("model_run_failed", "The model failed on this image.") from exc
    try:
        prediction_validate(payload, rules_for(task), "payload")
    except DomainError as exc:  # e.g. a label the project no longer has
        raise TaskUnpredictable("prediction_invalid", f"{exc.field}: {exc.message}") from exc
    return payload


def _image_of(task: Task) -> Image.Image:
    """The task's stored image, decoded; only its own content-addressed file is read, with the
    decoder of its own format (as exports/media.py reads them)."""
    canonical = f"images/{task.sha256[:2]}/{task.sha256}.{EXTENSIONS.get(task.image_format)}"
    if task.image != canonical:
        raise TaskUnpredictable("image_unreadable", "The task's stored image is not its own.")
    try:
        with default_storage.open(task.image, "rb") as handle:
            image = Image.open(handle, formats=[task.image_format])
            if image.width * image.height > settings.SEBENZAI["IMAGE_MAX_PIXELS"]:
                raise ValueError("over the pixel limit")
            image.load()
    except (
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        SuspiciousFileOperation,
    ) as exc:
        if store_down(exc):  # botocore's timeouts are OSErrors too: not the image's fault
            raise
        raise TaskUnpredictable("image_unreadable", "The task's image cannot be read.") from exc
    return image


def _store(project: Project, version: ModelVersion, items: list[PredictionItem]) -> int:
    if not items:
        return 0
    try:
        return int(predictions_store(project=project, model=version.name, items=items)["stored"])
    except Conflict as exc:  # a job whose lease had run out stored some of these meanwhile
        if exc.code != "already_predicted":
            raise
    stored = Prediction.objects.filter(model=version, task_id__in=[i.task for i in items])
    done = set(stored.values_list("task_id", flat=True))
    rest = [item for item in items if uuid.UUID(item.task) not in done]
    if not rest:
        return 0
    return int(predictions_store(project=project, model=version.name, items=rest)["stored"])


def _failures_record(row: OnnxModel, failures: list[OnnxRunFailure]) -> None:
    if not failures:
        return
    OnnxRunFailure.objects.bulk_create(failures, ignore_conflicts=True)
    last = failures[-1]
    error = f"task {last.task_id}: {last.message}"[:500]
    OnnxModel.objects.filter(pk=row.pk).update(last_error=error)

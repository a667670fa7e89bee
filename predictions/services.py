"""Storing a model's predictions: all of a request's items are checked before any is stored, so
a bad item (named in the error) leaves nothing half-stored. Consensus is told afterwards, by job
name, to grade the model on gold and count its votes."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count

from annotations.models import Project, Task
from annotations.services.submissions import rules_for
from annotations.services.task_states import tasks_doubt_set, tasks_propose
from sebenzai import jobs
from sebenzai.common.broker import job_send_on_commit
from sebenzai.common.errors import Conflict, DomainError

from .models import MAX_MODEL_NAME, ModelVersion, Prediction
from .payloads import doubt, prediction_validate, proposal_of, top_score

MAX_PREDICTIONS_PER_REQUEST = 5000
MODEL_NAME = re.compile(r"[^\s@]{1,60}@[^\s@]{1,39}")  # name@version, no spaces


@dataclass(frozen=True)
class PredictionItem:
    """One prediction as asked: the task's id and the payload, with where it came from."""

    task: Any
    payload: Any
    field: str  # e.g. "predictions[3]", or "file[cam1.txt] line 3" for a file's line
    payload_field: str = ""  # where the payload is, if not at ``<field>.payload``


def model_name_check(name: Any) -> str:
    if not isinstance(name, str) or not MODEL_NAME.fullmatch(name) or len(name) > MAX_MODEL_NAME:
        raise DomainError(
            code="invalid_model",
            field="model",
            message='Expected "<name>@<version>", e.g. "taxi-detector@3", without spaces.',
        )
    return name


def items_from_json(raw: Any) -> list[PredictionItem]:
    """The ``predictions`` list of a JSON request, each item checked for its shape."""
    if not isinstance(raw, list) or not raw:
        raise DomainError(
            code="invalid_type", field="predictions", message="Expected a non-empty list."
        )
    if len(raw) > MAX_PREDICTIONS_PER_REQUEST:
        message = f"{len(raw)} predictions; at most {MAX_PREDICTIONS_PER_REQUEST} per request."
        raise DomainError(code="too_many_objects", field="predictions", message=message)
    items = []
    for i, item in enumerate(raw):
        field = f"predictions[{i}]"
        if not isinstance(item, dict) or set(item) != {"task", "payload"}:
            message = 'Expected {"task": "<task id>", "payload": {...}}.'
            raise DomainError(code="invalid_item", field=field, message=message)
        items.append(PredictionItem(item["task"], item["payload"], field))
    return items


def predictions_store(*, project: Project, model: str, items: list[PredictionItem]) -> dict:
    """Store the model's predictions on the project's tasks, all or none. A task outside the
    project is refused as one that does not exist; a task the model already predicted is a
    conflict (post a new version instead)."""
    name = model_name_check(model)
    tasks = _tasks_of(project, items)
    existing = _already_predicted(project, name, tasks.values())
    rows = []
    for item in items:
        task = tasks[_task_key(item)]
        if task.pk in existing:
            message = f"{name} already predicted this task; post a new version instead."
            raise Conflict(code="already_predicted", field=f"{item.field}.task", message=message)
        where = item.payload_field or f"{item.field}.payload"
        payload = prediction_validate(item.payload, rules_for(task), where)
        rows.append(Prediction(task=task, payload=payload, top_score=top_score(payload)))
    version = _store(project, name, rows)
    return {"model": name, "stored": len(rows), "model_id": str(version.pk)}


def _task_key(item: PredictionItem) -> uuid.UUID:
    try:
        return uuid.UUID(str(item.task))
    except ValueError as exc:
        raise DomainError(
            code="not_found", field=f"{item.field}.task", message="No such task in this project."
        ) from exc


def _tasks_of(project: Project, items: list[PredictionItem]) -> dict[uuid.UUID, Task]:
    keys = [_task_key(item) for item in items]
    tasks = {t.pk: t for t in Task.objects.filter(project=project, pk__in=keys)}
    seen: set[uuid.UUID] = set()
    for item, key in zip(items, keys, strict=True):
        if key not in tasks:  # another project's task reads exactly like a missing one
            raise DomainError(
                code="not_found",
                field=f"{item.field}.task",
                message="No such task in this project.",
            )
        if key in seen:
            message = "This task has another prediction earlier in the request."
            raise DomainError(code="duplicate", field=f"{item.field}.task", message=message)
        seen.add(key)
    for task in tasks.values():
        task.project = project  # rules_for reads the kind and labels: no query per task
    return tasks


def _already_predicted(project: Project, name: str, tasks: Any) -> set[uuid.UUID]:
    found = Prediction.objects.filter(
        model__project=project, model__name=name, task__in=[t.pk for t in tasks]
    )
    return set(found.values_list("task_id", flat=True))


def _store(project: Project, name: str, rows: list[Prediction]) -> ModelVersion:
    try:
        with transaction.atomic():
            version = model_version(project, name)
            for row in rows:
                row.model = version
            Prediction.objects.bulk_create(rows)
            tasks_doubt_set(doubts={row.task_id: doubt(row.payload) for row in rows})
            tasks_propose(proposals={row.task_id: proposal_of(row.payload) for row in rows})
            job_send_on_commit(jobs.MODEL_VOTES, str(version.pk))
    except IntegrityError as exc:  # the same model's predictions posted twice at once
        raise Conflict(
            code="already_predicted",
            field="predictions",
            message="These predictions were stored by a concurrent request.",
        ) from exc
    return version


def model_version(project: Project, name: str) -> ModelVersion:
    """The project's model version ``name``, made with its voting account the first time."""
    version = ModelVersion.objects.filter(project=project, name=name).first()
    if version is not None:
        return version
    # The account the model votes as: it can never sign in (no password, inactive).
    voter = get_user_model().objects.create_user(
        username=f"model:{uuid.uuid4().hex[:12]}:{name}"[:150], is_active=False
    )
    return ModelVersion.objects.create(project=project, name=name, voter=voter)


def models_of(*, project: Project) -> list[dict]:
    """The project's model versions with how many predictions each has made."""
    versions = project.model_versions.annotate(predictions_count=Count("predictions"))
    return [
        {
            "model": v.name,
            "id": str(v.pk),
            "predictions": v.predictions_count,
            "created_at": v.created_at.isoformat(),
        }
        for v in versions.order_by("created_at")
    ]

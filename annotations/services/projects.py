"""Creating projects and moving them through draft → active ⇄ paused → done."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from sebenzai.common.errors import DomainError, PayloadInvalid

from ..models import Project, ProjectKind, ProjectStatus, Task
from ..payloads import PayloadRules, payload_validate

TRANSITIONS = {
    ProjectStatus.DRAFT: {ProjectStatus.ACTIVE, ProjectStatus.DONE},
    ProjectStatus.ACTIVE: {ProjectStatus.PAUSED, ProjectStatus.DONE},
    ProjectStatus.PAUSED: {ProjectStatus.ACTIVE, ProjectStatus.DONE},
    ProjectStatus.DONE: set(),
}
# What defines the meaning of an answer cannot change once answers may exist.
LOCKED_AFTER_DRAFT = ("kind", "labels")
PALETTE = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45")


def labels_normalise(*, labels: list[Any], kind: str) -> list[dict]:
    """Accept names or ``{"name", "color"}`` objects; give every label a colour."""
    result = []
    for index, label in enumerate(labels):
        item = {"name": label} if isinstance(label, str) else dict(label)
        item.setdefault("color", PALETTE[index % len(PALETTE)])
        result.append(item)
    # Unique however they are written: "a" and "A" collide as class folders on the file systems
    # of Windows and macOS, and NFKC-equal names look the same to a worker.
    names = [unicodedata.normalize("NFKC", str(item["name"])).casefold() for item in result]
    if len(set(names)) != len(names):
        raise DomainError(
            code="duplicate_label",
            field="labels",
            message="Label names must be unique, whatever their case.",
        )
    minimum = {ProjectKind.CLASSIFICATION: 2, ProjectKind.MODERATION: 0}.get(kind, 1)
    if len(result) < minimum:
        message = f"A {kind} project needs at least {minimum} label(s)."
        raise DomainError(code="too_few_labels", field="labels", message=message)
    return result


def _check_redundancy(project: Project, changed: dict[str, Any]) -> None:
    """Name the bound the caller sent: raising only the minimum past the maximum is its fault."""
    low, high = project.redundancy_min, project.redundancy_max
    if high < low:
        only_min = "redundancy_min" in changed and "redundancy_max" not in changed
        message = f"redundancy_max ({high}) must be at least redundancy_min ({low})."
        field = "redundancy_min" if only_min else "redundancy_max"
        raise DomainError(code="invalid_range", field=field, message=message)


def _check_gold_fits(project: Project, *, kind: str, labels: list[dict]) -> None:
    """Gold answers were written for the project's kind and labels. An edit that would leave one
    invalid is refused: workers would be graded against an answer they could not give."""
    gold = list(Task.objects.filter(project=project, is_gold=True))
    if not gold:
        return
    if kind != project.kind:
        message = "kind cannot change once gold answers are set."
        raise DomainError(code="field_locked", field="kind", message=message)
    limits, names = settings.SEBENZAI, [label["name"] for label in labels]
    for task in gold:
        rules = PayloadRules(
            kind=kind,
            labels=names,
            width=task.width,
            height=task.height,
            max_objects=limits["MAX_OBJECTS_PER_ANSWER"],
            max_points=limits["MAX_POINTS_PER_POLYGON"],
        )
        try:
            payload_validate(task.gold_answer, rules)
        except PayloadInvalid as exc:
            message = f"A gold answer uses a label these labels leave out ({exc.message})"
            raise DomainError(code="field_locked", field="labels", message=message) from exc


def project_create(*, owner: AbstractBaseUser, data: dict[str, Any]) -> Project:
    """``data`` has passed the serializer's field checks; cross-field rules are checked here."""
    data = {**data, "labels": labels_normalise(labels=data.get("labels", []), kind=data["kind"])}
    project = Project(owner=owner, **data)
    _check_redundancy(project, data)
    if project.status not in (ProjectStatus.DRAFT, ProjectStatus.ACTIVE):
        raise DomainError(
            code="invalid_status", field="status", message="A new project is draft or active."
        )
    project.save()
    return project


def _check_locked(project: Project, data: dict[str, Any]) -> None:
    if project.status == ProjectStatus.DRAFT:
        return
    for field in LOCKED_AFTER_DRAFT:
        if field in data and data[field] != getattr(project, field):
            message = f"{field} cannot change once the project has left draft."
            raise DomainError(code="field_locked", field=field, message=message)


@transaction.atomic
def project_update(*, project_id: object, data: dict[str, Any]) -> Project:
    """Apply a partial update under the row lock, refusing illegal status moves and edits of
    fields that are locked once the project has left draft."""
    project = Project.objects.select_for_update().get(pk=project_id)
    kind = data.get("kind", project.kind)
    if "labels" in data:
        data = {**data, "labels": labels_normalise(labels=data["labels"], kind=kind)}
    _check_locked(project, data)
    if "kind" in data or "labels" in data:
        # A new kind is checked against the labels it will have (classification needs two).
        labels = (
            data["labels"]
            if "labels" in data
            else labels_normalise(labels=project.labels, kind=kind)
        )
        _check_gold_fits(project, kind=kind, labels=labels)
    new_status = data.get("status", project.status)
    if new_status != project.status and new_status not in TRANSITIONS[project.status]:
        message = f"A {project.status} project cannot become {new_status}."
        raise DomainError(code="invalid_transition", field="status", message=message)
    for field, value in data.items():
        setattr(project, field, value)
    _check_redundancy(project, data)
    project.save()
    return project

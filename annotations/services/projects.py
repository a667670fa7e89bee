"""Creating projects and moving them through draft → active ⇄ paused → done."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from sebenzai.common.errors import DomainError

from ..models import Project, ProjectKind, ProjectStatus

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
    names = [item["name"] for item in result]
    if len(set(names)) != len(names):
        raise DomainError(
            code="duplicate_label", field="labels", message="Label names must be unique."
        )
    minimum = {ProjectKind.CLASSIFICATION: 2, ProjectKind.MODERATION: 0}.get(kind, 1)
    if len(result) < minimum:
        message = f"A {kind} project needs at least {minimum} label(s)."
        raise DomainError(code="too_few_labels", field="labels", message=message)
    return result


def _check_redundancy(data: dict[str, Any]) -> None:
    if data["redundancy_max"] < data["redundancy_min"]:
        message = "redundancy_max must be at least redundancy_min."
        raise DomainError(code="invalid_range", field="redundancy_max", message=message)


def project_create(*, owner: AbstractBaseUser, data: dict[str, Any]) -> Project:
    """``data`` has passed the serializer's field checks; cross-field rules are checked here."""
    data = {**data, "labels": labels_normalise(labels=data.get("labels", []), kind=data["kind"])}
    project = Project(owner=owner, **data)
    _check_redundancy(
        {"redundancy_min": project.redundancy_min, "redundancy_max": project.redundancy_max}
    )
    if project.status not in (ProjectStatus.DRAFT, ProjectStatus.ACTIVE):
        raise DomainError(
            code="invalid_status", field="status", message="A new project is draft or active."
        )
    project.save()
    return project


@transaction.atomic
def project_update(*, project_id: object, data: dict[str, Any]) -> Project:
    """Apply a partial update under the row lock, refusing illegal status moves and edits of
    fields that are locked once the project has left draft."""
    project = Project.objects.select_for_update().get(pk=project_id)
    if "labels" in data:
        data = {
            **data,
            "labels": labels_normalise(labels=data["labels"], kind=data.get("kind", project.kind)),
        }
    if project.status != ProjectStatus.DRAFT:
        for field in LOCKED_AFTER_DRAFT:
            if field in data and data[field] != getattr(project, field):
                message = f"{field} cannot change once the project has left draft."
                raise DomainError(code="field_locked", field=field, message=message)
    new_status = data.get("status", project.status)
    if new_status != project.status and new_status not in TRANSITIONS[project.status]:
        message = f"A {project.status} project cannot become {new_status}."
        raise DomainError(code="invalid_transition", field="status", message=message)
    for field, value in data.items():
        setattr(project, field, value)
    _check_redundancy(
        {"redundancy_min": project.redundancy_min, "redundancy_max": project.redundancy_max}
    )
    project.save()
    return project

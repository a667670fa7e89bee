"""Reads. Each selector decides its own joins so that N+1 fixes live in one place."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Avg, Count, F, QuerySet, Sum
from django.utils import timezone
from django.utils.module_loading import import_string

from sebenzai.common.errors import NotFound

from .models import (
    Annotation,
    Assignment,
    AssignmentState,
    Project,
    ProjectStatus,
    Task,
    TaskState,
)


def project_active(project_id: object | None, *, field: str) -> Project | None:
    """The active project a worker asked for (None when they named none); 404 naming ``field``
    for an unknown or inactive one."""
    if project_id is None:
        return None
    project = Project.objects.filter(pk=project_id, status=ProjectStatus.ACTIVE).first()
    if project is None:
        raise NotFound("No active project with this id.", field=field)
    return project


def projects_visible(*, user: AbstractBaseUser) -> QuerySet[Project]:
    """Staff see every project; a requester only their own."""
    projects = Project.objects.select_related("owner")
    return projects if user.is_staff else projects.filter(owner=user)


def project_progress(*, project: Project) -> dict:
    tasks = Task.objects.filter(project=project)
    by_state = dict(
        tasks.filter(is_gold=False)
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    work = tasks.filter(is_gold=False).aggregate(answers=Count("annotations"))
    decided = tasks.filter(is_gold=False, confidence__isnull=False).aggregate(
        mean=Avg("confidence")
    )
    counts = {state: by_state.get(state, 0) for state in TaskState.values}
    return {
        "tasks": counts,
        "total": sum(counts.values()),
        "gold_tasks": tasks.filter(is_gold=True).count(),
        # Gold is served to at most redundancy_max workers each (to look like any task): when
        # this nears 0, new workers stop meeting gold and the requester should add some.
        "gold_answers_left": tasks.filter(is_gold=True, state=TaskState.OPEN).aggregate(
            left=Sum(project.redundancy_max - F("slots_taken"))
        )["left"]
        or 0,
        "answers": work["answers"],
        "gold_answers": Assignment.objects.filter(
            task__project=project, task__is_gold=True, state=AssignmentState.SUBMITTED
        ).count(),
        "mean_confidence": decided["mean"],
        "models": _model_figures(project, tasks.filter(is_gold=False), by_state),
    }


def _model_figures(project: Project, tasks: QuerySet[Task], by_state: dict) -> dict:
    """What models changed in the work: labels accepted on a model's word, tasks drawn as audits
    of it, and people's answers per accepted label (what a good model brings down); then each
    model version's own figures, from the app that keeps them (settings.SEBENZAI
    MODEL_PROGRESS: a layer above this one, so named, not imported)."""
    accepted = by_state.get(TaskState.ACCEPTED, 0)
    people = Annotation.objects.filter(task__in=tasks, task__state=TaskState.ACCEPTED).count()
    return {
        "accepted_by_model": tasks.filter(accepted_by_model=True).count(),
        "audits": tasks.filter(model_audit=True).count(),
        "answers_per_accepted_label": people / accepted if accepted else None,
        "versions": import_string(settings.SEBENZAI["MODEL_PROGRESS"])(project=project),
    }


def task_results(*, project: Project, state: str | None) -> QuerySet[Task]:
    tasks = Task.objects.filter(project=project, is_gold=False)
    return tasks.filter(state=state) if state else tasks


def task_image_readable(*, task: Task, user: AbstractBaseUser) -> bool:
    """Images go to the project's owner, staff, and the worker holding a live lease on the task."""
    if user.is_staff or task.project.owner_id == user.pk:
        return True
    return Assignment.objects.filter(
        task=task, worker=user, state=AssignmentState.LEASED, expires_at__gt=timezone.now()
    ).exists()

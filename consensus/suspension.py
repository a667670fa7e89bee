"""Automatic suspension on gold (docs/reliability.md C8): a worker confidently wrong on a project's gold
is blocked from it through the admin's own service (``review.worker_block``), so their live
leases are given back, their slots on undecided tasks freed and those tasks re-scored once.

Run by the batch re-score over every worker of a project, and for one worker after a gold grade
that fails the rule on the running counts (``services._suspension_check``). The record is always
re-counted from the graded answers here, the source of truth. Idempotent: a blocked worker is
not looked at again, and ``worker_block`` on a blocked worker changes nothing.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Count, Q

from annotations.models import Annotation, Project, ProjectBlock

from .blocking import worker_block
from .services import gold_suspends
from .skill_moves import GOLD_PASS

User = get_user_model()
AUTO_REASON = "auto: gold accuracy {correct}/{total}"


def gold_records(*, project_id: object, worker_id: int | None = None) -> dict[int, tuple[int, int]]:
    """``{worker_id: (right, graded)}`` over the project's graded gold answers, for workers not
    blocked from it (one GROUP BY)."""
    blocked = ProjectBlock.objects.filter(project_id=project_id).values("worker_id")
    graded = Annotation.objects.filter(
        task__project_id=project_id, task__is_gold=True, gold_grade__isnull=False
    ).exclude(worker_id__in=blocked)
    if worker_id is not None:
        graded = graded.filter(worker_id=worker_id)
    rows = graded.values("worker_id").annotate(
        total=Count("id"), correct=Count("id", filter=Q(gold_grade__gte=GOLD_PASS))
    )
    return {r["worker_id"]: (r["correct"], r["total"]) for r in rows}


def workers_suspend_failing(*, project_id: object, worker_id: int | None = None) -> list[int]:
    """Block from the project every worker (or only ``worker_id``) whose gold record fails the
    rule; returns the workers this call blocked. Each block is its own transaction, so the
    locks it takes on a worker's tasks are not held while the next is judged."""
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return []
    failing = {
        pk: record
        for pk, record in gold_records(project_id=project.pk, worker_id=worker_id).items()
        if gold_suspends(correct=record[0], total=record[1])
    }
    suspended = []
    for pk, worker in sorted(User.objects.in_bulk(list(failing)).items()):
        correct, total = failing[pk]
        reason = AUTO_REASON.format(correct=correct, total=total)
        outcome = worker_block(project=project, worker=worker, blocked_by=None, reason=reason)
        if outcome.created:
            suspended.append(pk)
    return suspended

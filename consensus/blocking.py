"""An admin (or the automatic suspension) bars a worker from a project.

Their live leases are given back, their answers on undecided tasks stop counting (the slot each
held is freed and the task reopened, through ``annotations``' task transitions), and each such
task is scored again without them after commit. Safe to repeat: a block that exists already
changes nothing.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from accounts.models import Role
from accounts.services import user_role
from annotations.models import (
    Annotation,
    Assignment,
    AssignmentState,
    Project,
    ProjectBlock,
    Task,
    TaskState,
)
from annotations.services.assignments import assignment_skip
from annotations.services.task_states import task_answer_uncount
from sebenzai import jobs
from sebenzai.common.broker import job_send_on_commit
from sebenzai.common.errors import Conflict, DomainError


@dataclass(frozen=True)
class BlockOutcome:
    block: ProjectBlock
    created: bool
    rescored: list[str]  # tasks whose consensus is computed again without the worker


def worker_block(
    *,
    project: Project,
    worker: AbstractBaseUser,
    blocked_by: AbstractBaseUser | None,
    reason: str = "",
) -> BlockOutcome:
    """Bar ``worker`` from ``project``: no more of its tasks, their live leases given back, and
    their answers on undecided tasks left out of the consensus, which is computed again for
    each such task after commit. ``blocked_by`` is None for an automatic suspension.
    Idempotent: blocking a blocked worker changes nothing. Only a worker account can be
    blocked (a requester or staff member labels nothing): anyone else is a 400."""
    if worker.is_staff or user_role(user=worker) != Role.WORKER:
        raise DomainError(
            code="not_a_worker", field="worker", message="Only a worker account can be blocked."
        )
    with transaction.atomic():
        block, created = ProjectBlock.objects.get_or_create(
            project=project, worker=worker, defaults={"blocked_by": blocked_by, "reason": reason}
        )
        if not created:
            return BlockOutcome(block, False, [])
        _leases_give_back(project, worker)
        rescored = _answers_uncount(project, worker)
        for task_id in rescored:
            job_send_on_commit(jobs.SCORE, task_id)
    return BlockOutcome(block, True, rescored)


def _leases_give_back(project: Project, worker: AbstractBaseUser) -> None:
    leases = Assignment.objects.filter(
        task__project=project, worker=worker, state=AssignmentState.LEASED
    ).values_list("pk", flat=True)
    for assignment_id in leases:
        with suppress(Conflict):  # submitted or expired meanwhile: nothing to give back
            assignment_skip(assignment_id=assignment_id, worker=worker)


def _answers_uncount(project: Project, worker: AbstractBaseUser) -> list[str]:
    """Free the slot each of the worker's answers held on an undecided task, so another worker
    can take it, and reopen the tasks waiting for review. Returns those tasks' ids."""
    undecided = [TaskState.OPEN, TaskState.REVIEW]
    task_ids = list(
        Annotation.objects.filter(
            task__project=project, task__is_gold=False, task__state__in=undecided, worker=worker
        ).values_list("task_id", flat=True)
    )
    # Re-checked under the lock: a task decided meanwhile keeps its answers and state.
    tasks = Task.objects.select_for_update().filter(pk__in=task_ids, state__in=undecided)
    reopened = []
    for task in tasks.order_by("pk"):
        reopened.append(task.pk)
        task_answer_uncount(task=task)
    return [str(pk) for pk in reopened]

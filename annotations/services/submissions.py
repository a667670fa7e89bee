"""Submitting an answer on a lease, and enqueueing its scoring once the row is committed."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from sebenzai import jobs
from sebenzai.common.broker import job_send_on_commit
from sebenzai.common.errors import Conflict, DomainError, SlowDown

from ..models import Annotation, Assignment, AssignmentState, Project, ProjectBlock, Task
from ..payloads import PayloadRules, answers_same, payload_validate
from .assignments import lease_expire_if_due, task_lease_next

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NextLease:
    """The lease taken right after an answer (None: nothing left), or the refusal that met it."""

    assignment: Assignment | None
    refusal: DomainError | None = None


def rules_for(task: Task) -> PayloadRules:
    project = task.project
    limits = settings.SEBENZAI
    return PayloadRules(
        kind=project.kind,
        labels=project.label_names,
        width=task.width,
        height=task.height,
        max_objects=limits["MAX_OBJECTS_PER_ANSWER"],
        max_points=limits["MAX_POINTS_PER_POLYGON"],
    )


def score_enqueue(*, task_id: object) -> None:
    """Ask the consensus worker to score a task once the current transaction commits, so it
    never sees uncommitted rows and nothing is sent for a rolled-back submission. A broker that
    is down only delays scoring: the annotation stays pending and the sweeper re-enqueues it;
    one just found down is not tried again for a few seconds, so the answer is not held up."""
    job_send_on_commit(jobs.SCORE, str(task_id), sweeper_backed=True)


def annotation_submit(
    *,
    assignment_id: object,
    worker: AbstractBaseUser,
    payload: object,
    duration_ms: int | None,
    paced: bool = True,
) -> Annotation:
    """Record the worker's answer on their lease.

    Refused with 409 when the lease was already submitted, skipped or has expired (a late answer
    is not scored: its slot may already belong to someone else). Raises Assignment.DoesNotExist
    for someone else's assignment, which the API shows as 404. ``paced``: refuse an answer sent
    sooner than MIN_ANSWER_MS after the lease (429); only the crowd simulator turns it off.
    """
    with transaction.atomic():
        assignment = (
            Assignment.objects.select_for_update(of=("self",))
            .select_related("task__project")
            .get(pk=assignment_id, worker=worker)
        )
        # An expiry found here is committed before refusing, so the slot is freed at once.
        if not lease_expire_if_due(assignment):
            return _record_answer(assignment, payload, duration_ms, paced=paced)
    raise Conflict(code="assignment_expired", field="assignment", message="This lease has expired.")


def _pace_check(assignment: Assignment) -> None:
    """Refuse (429, lease kept) an answer sent sooner after the lease than anyone can look at an
    image: the server's clock, not the client's ``duration_ms``, which a script can invent."""
    minimum = settings.SEBENZAI["MIN_ANSWER_MS"]
    elapsed = (timezone.now() - assignment.created_at).total_seconds() * 1000
    if elapsed < minimum:
        logger.warning("too-fast answer: worker %s, %d ms", assignment.worker_id, elapsed)
        raise SlowDown(
            code="too_fast",
            field="assignment",
            message="That was quicker than anyone can look at an image. Take a moment, then submit.",
            retry_after_ms=math.ceil(minimum - elapsed),
        )


def _blocked(assignment: Assignment) -> bool:
    return ProjectBlock.objects.filter(
        project_id=assignment.task.project_id, worker_id=assignment.worker_id
    ).exists()


def _record_answer(
    assignment: Assignment, payload: object, duration_ms: int | None, *, paced: bool
) -> Annotation:
    """Caller holds the assignment row lock."""
    if assignment.state != AssignmentState.LEASED:
        if _blocked(assignment):  # blocking gave the lease back: say why, not "skipped"
            message = "You can no longer work on this project."
            raise Conflict(code="blocked", field="assignment", message=message)
        message = f"This assignment is already {assignment.state}."
        raise Conflict(code=f"already_{assignment.state}", field="assignment", message=message)
    if paced:
        _pace_check(assignment)
    clean = payload_validate(payload, rules_for(assignment.task))
    shown = assignment.task.proposal if assignment.proposal_shown else None
    annotation = Annotation.objects.create(
        assignment=assignment,
        task=assignment.task,
        worker_id=assignment.worker_id,
        payload=clean,
        duration_ms=duration_ms,
        kept_proposal=shown is not None and answers_same(clean, shown),
    )
    assignment.state = AssignmentState.SUBMITTED
    assignment.finished_at = timezone.now()
    assignment.save(update_fields=["state", "finished_at"])
    answers, target, is_gold = _answer_counted(assignment.task_id)
    if is_gold or answers >= target:  # nothing to decide before the target is reached
        score_enqueue(task_id=assignment.task_id)
    return annotation


ANSWER_COUNTED_SQL = (
    "UPDATE annotations_task SET answers_count = answers_count + 1 WHERE id = %s"
    " RETURNING answers_count, target_redundancy, is_gold"
)


def _answer_counted(task_id: object) -> tuple[int, int, bool]:
    """One more answer on the task, and its answer count, target and gold flag after it, in one
    statement (UPDATE … RETURNING, which the ORM's update() cannot say). The update holds the
    task row until commit, so the count is our own, never a concurrent submit's stale one."""
    pk = Task._meta.pk.get_db_prep_value(task_id, connection)
    with connection.cursor() as cursor:
        cursor.execute(ANSWER_COUNTED_SQL, [pk])
        answers, target, is_gold = cursor.fetchone()
    return answers, target, bool(is_gold)


def lease_after_submit(
    *, worker: AbstractBaseUser, project: Project, holding: object | None
) -> NextLease:
    """The next lease, taken once the answer is committed (one round trip instead of two). A
    refusal of the lease (a cool-down) cannot undo the stored answer, so it is returned beside
    it rather than raised."""
    try:
        return NextLease(task_lease_next(worker=worker, project=project, holding=holding))
    except DomainError as refusal:
        return NextLease(None, refusal)

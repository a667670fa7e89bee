"""An admin's actions on the crowd's work: settle a task by review, block a worker from a project.

Both change labels, agreement and points through the same services scoring uses
(``consensus.services``), under the task's row lock, and both are safe to repeat: a settlement is
checked against the consensus version the admin saw (a stale one is a 409), and a block that
exists already changes nothing.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from functools import partial

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Case, F, Q, When
from django.utils import timezone

from annotations.models import (
    Annotation,
    Assignment,
    AssignmentState,
    Project,
    ProjectBlock,
    Task,
    TaskState,
)
from annotations.payloads import payload_validate
from annotations.services.assignments import assignment_skip
from annotations.services.submissions import rules_for
from sebenzai.celery import app as celery_app
from sebenzai.common.errors import Conflict, DomainError, NotFound
from workers.models import Role
from workers.services import user_role

from .aggregate import gold_grade
from .dashboard import skill_figures
from .models import ConsensusResult, ReviewAction, ReviewDecision, WorkerSkill
from .services import SCORE_TASK, agreement_regrade, counted_annotations, points_settle

User = get_user_model()
REVIEWED_METHOD = "review"  # ConsensusResult.method prefix of a task an admin settled
REVIEWED_CONFIDENCE = 1.0  # an admin's settlement is taken as certain


def _locked_task(task_id: object) -> Task:
    task = (
        Task.objects.select_for_update(of=("self",))
        .select_related("project")
        .filter(pk=task_id, is_gold=False)
        .first()
    )
    if task is None:
        raise NotFound("No such task.", field="task")
    return task


def _check_fresh(task: Task, result: ConsensusResult | None, version: int) -> None:
    """Refuse a decision taken on a page older than the task's current state."""
    earlier = task.review_decisions.select_related("reviewer").first()
    if earlier is not None:
        when = earlier.created_at.strftime("%Y-%m-%d %H:%M UTC")
        message = f"This task was already settled by {earlier.reviewer} ({earlier.action}, {when})."
        raise Conflict(code="already_reviewed", field="task", message=message)
    current = result.version if result is not None else 0
    if version != current:
        message = (
            f"The task changed since the page was loaded (consensus version {current}, "
            f"page had {version}); reload it and decide again."
        )
        raise Conflict(code="task_changed", field="version", message=message, current=current)


def _label_for(
    task: Task, result: ConsensusResult | None, action: str, annotation_id: object, label: object
) -> tuple[dict | None, Annotation | None]:
    if action == ReviewAction.ACCEPT_FUSED:
        if result is None or result.label is None:
            raise DomainError(
                code="no_fused_result", field="action", message="This task has no fused result."
            )
        return result.label, None
    if action == ReviewAction.PICK:
        picked = next(
            (a for a in counted_annotations(task=task) if str(a.pk) == str(annotation_id)), None
        )
        if picked is None:
            raise DomainError(
                code="not_an_answer_of_this_task",
                field="annotation",
                message="Pick one of this task's counted answers.",
            )
        return picked.payload, picked
    if action == ReviewAction.EDIT:
        return payload_validate(label, rules_for(task), field="label"), None
    return None, None  # reject


@transaction.atomic
def task_review_decide(
    *,
    task_id: object,
    reviewer: AbstractBaseUser,
    action: str,
    version: int,
    annotation_id: object = None,
    label: object = None,
) -> ReviewDecision:
    """Settle a task: its accepted label becomes the fused result, one worker's answer, the
    admin's edit, or nothing (rejected). Answers are re-graded against the new label and paid
    the difference (review credit or debit). ``version`` is the ConsensusResult version the
    admin saw (0 when there was none); any other is refused with 409, and so is a second
    settlement of one task, since the ledger holds one review adjustment per answer."""
    task = _locked_task(task_id)
    result = ConsensusResult.objects.select_for_update().filter(task=task).first()
    _check_fresh(task, result, version)
    new_label, picked = _label_for(task, result, action, annotation_id, label)
    decision = ReviewDecision(
        task=task,
        reviewer=reviewer,
        action=action,
        label=new_label,
        picked_annotation=picked,
        replaced_state=task.state,
        replaced_label=task.accepted_label,
        replaced_confidence=task.confidence,
        version=version,
    )
    _apply(task, new_label)
    if result is not None:
        # The "review" method prefix tells batch re-scoring to leave the admin's label alone.
        method = f"{REVIEWED_METHOD}_{action}"
        ConsensusResult.objects.filter(pk=result.pk).update(version=F("version") + 1, method=method)
    decision.save()
    return decision


def _apply(task: Task, label: dict | None) -> None:
    """Caller holds the task row lock. A rejection leaves agreement and points alone: the
    workers are not at fault for an unusable image."""
    if label is not None:
        answers = counted_annotations(task=task)
        project = task.project
        agreements = [
            gold_grade(project.kind, a.payload, label, project.iou_threshold) for a in answers
        ]
        agreement_regrade(task=task, annotations=answers, agreements=agreements)
        points_settle(task=task, annotations=answers, agreements=agreements)
    task.state = TaskState.ACCEPTED if label is not None else TaskState.REJECTED
    task.accepted_label = label
    task.confidence = REVIEWED_CONFIDENCE if label is not None else task.confidence
    task.decided_at = timezone.now()
    task.save(update_fields=["state", "accepted_label", "confidence", "decided_at"])


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
            job = partial(celery_app.tasks[SCORE_TASK].delay, task_id)
            transaction.on_commit(job, robust=True)
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
        task.answers_count -= 1
        task.slots_taken -= 1
        task.state = TaskState.OPEN
        task.save(update_fields=["answers_count", "slots_taken", "state"])
    return [str(pk) for pk in reopened]


# --- the queue and its items ----------------------------------------------------------------


def review_queue(*, project: Project, limit: int = 50) -> list[Task]:
    """Tasks the crowd could not settle, worst first: those sent to review, then open tasks
    whose consensus is below the acceptance threshold, each by rising confidence."""
    unsettled = Q(state=TaskState.REVIEW) | Q(
        state=TaskState.OPEN, consensus__confidence__lt=project.acceptance_threshold
    )
    in_review = Case(When(state=TaskState.REVIEW, then=0), default=1)
    return list(
        Task.objects.filter(project=project, is_gold=False)
        .filter(unsettled)
        .select_related("consensus")
        .order_by(in_review, "consensus__confidence", "created_at")[:limit]
    )


def review_item(*, task_id: object) -> dict | None:
    """One task with its fused result and each counted answer beside its worker's skill."""
    task = (
        Task.objects.filter(pk=task_id, is_gold=False)
        .select_related("project", "consensus")
        .first()
    )
    if task is None:
        return None
    answers = counted_annotations(task=task)
    skills = {
        s.worker_id: s
        for s in WorkerSkill.objects.filter(
            project_id=task.project_id, worker_id__in=[a.worker_id for a in answers]
        )
    }
    names = dict(
        User.objects.filter(pk__in=[a.worker_id for a in answers]).values_list("pk", "username")
    )
    consensus = getattr(task, "consensus", None)
    return {
        "task": task,
        "consensus": consensus,
        "version": consensus.version if consensus else 0,
        "decision": task.review_decisions.select_related("reviewer").first(),
        "answers": [
            {
                "annotation": a,
                "worker": names[a.worker_id],
                "skill": skill_figures(skills.get(a.worker_id)),
            }
            for a in answers
        ],
    }

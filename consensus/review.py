"""An admin settles a task by review (blocking a worker is ``blocking.py``'s).

A decision changes labels, agreement and points through the same services scoring uses
(``consensus.services``), under the task's row lock, and is safe to repeat: it is checked
against the consensus version the admin saw. Every decision bumps that version, so a page drawn before someone else's decision is
a 409 (``already_reviewed``), and two admins deciding on one page store one decision.

Decisions are a history: a newer one supersedes the one in force, and the workers' standing
moves by the difference, once. Against the decision's label each answer is graded again (its
earlier agreement observation taken back from the worker's skill, the new one added) and paid
what that grade earns, as one review credit or debit row naming the decision. A rejection and
a reopen have no label: each answer gets back what the crowd's consensus had left it, its
agreement (null when the crowd had not accepted the task) and its consensus points, so after
decide → reopen skills and balances are what they were before the decision, and a rejection
blames no worker for an unusable image.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Case, F, Q, Sum, When

from annotations.models import (
    Annotation,
    Project,
    Task,
    TaskState,
)
from annotations.payloads import payload_validate
from annotations.services.submissions import rules_for
from annotations.services.task_states import (
    task_reopen_for_review,
    task_settle,
)
from sebenzai.common.errors import Conflict, DomainError, NotFound
from workers.models import PointsEntry, PointsReason
from workers.services import Award, points_award

from .aggregate import gold_grade
from .models import ConsensusResult, ReviewAction, ReviewDecision, WorkerSkill, reviewed_method
from .quality import skill_figures
from .services import (
    agreement_regrade,
    answer_points,
    counted_annotations,
)

User = get_user_model()
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


def decision_in_force(*, task: Task) -> ReviewDecision | None:
    """The task's newest review decision (a reopen included), or None if it was never reviewed."""
    decisions = task.review_decisions.select_related("reviewer")
    return decisions.order_by("-version", "-pk").first()


def _check_fresh(task: Task, result: ConsensusResult | None, version: int) -> None:
    """Refuse a decision taken on a page older than the task's current state. A task never
    scored has no version to bump (it stays 0), so it takes one decision only."""
    since = task.review_decisions.filter(version__gte=version).select_related("reviewer")
    newer = since.order_by("-version", "-pk").first()
    if newer is not None:
        when = newer.created_at.strftime("%Y-%m-%d %H:%M UTC")
        message = (
            f"This task was already settled by {newer.reviewer} ({newer.action}, {when}) "
            "after the page was loaded; reload it to see the decision in force."
        )
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
    return None, None  # reject, reopen


def _consensus_baseline(
    in_force: ReviewDecision | None, result: ConsensusResult | None, answers: list[Annotation]
) -> dict:
    """What the crowd's consensus had left, to restore on a reopen or rejection: carried from
    the decision in force, or read now when no review is in force (never reviewed, or
    reopened: then the stored method and agreements are the crowd's again)."""
    if in_force is not None and in_force.settles:
        return {
            "consensus_method": in_force.consensus_method,
            "consensus_agreements": in_force.consensus_agreements,
        }
    return {
        "consensus_method": result.method if result is not None else "",
        "consensus_agreements": {str(a.pk): a.agreement for a in answers},
    }


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
    """Decide a task: its accepted label becomes the fused result, one worker's answer, the
    admin's edit, or nothing (reject); or reopen it (undo: back to review, no label). The
    decision supersedes the one in force, and the workers' agreement, skill and points move
    by the difference (see the module docstring). ``version`` is the ConsensusResult version
    the admin saw (0 when there was none); a decision taken since that page was drawn is a
    409 ``already_reviewed``, any other change a 409 ``task_changed``. Reopening a task no
    admin decision settles is a 400 ``nothing_to_reopen``."""
    task = _locked_task(task_id)
    result = ConsensusResult.objects.select_for_update().filter(task=task).first()
    _check_fresh(task, result, version)
    in_force = decision_in_force(task=task)
    if action == ReviewAction.REOPEN and (in_force is None or not in_force.settles):
        raise DomainError(
            code="nothing_to_reopen", field="action", message="No review decision is in force."
        )
    new_label, picked = _label_for(task, result, action, annotation_id, label)
    answers = counted_annotations(task=task)
    decision = ReviewDecision.objects.create(
        task=task,
        reviewer=reviewer,
        action=action,
        label=new_label,
        picked_annotation=picked,
        supersedes=in_force,
        replaced_state=task.state,
        replaced_label=task.accepted_label,
        replaced_confidence=task.confidence,
        version=version,
        **_consensus_baseline(in_force, result, answers),
    )
    _standing_move(task, decision, answers)
    _task_move(task, decision, result)
    return decision


def _standing_move(task: Task, decision: ReviewDecision, answers: list[Annotation]) -> None:
    """Each answer's agreement, its worker's skill and its points, to what ``decision`` says.
    Caller holds the task row lock."""
    if decision.label is not None:
        project = task.project
        agreements: list[float | None] = [
            gold_grade(project.kind, a.payload, decision.label, project.iou_threshold)
            for a in answers
        ]
        points = [answer_points(task=task, agreement=grade) for grade in agreements]
    else:  # reject, reopen: as the crowd's consensus left them
        baseline = decision.consensus_agreements
        agreements = [baseline.get(str(a.pk)) for a in answers]
        points = _consensus_points(answers)
    _agreements_move(task, answers, agreements)
    _points_move(decision, answers, points)


def _agreements_move(task: Task, answers: list[Annotation], agreements: list[float | None]) -> None:
    """Set each answer's agreement: a new grade replaces the old one's observation in the
    worker's skill, a grade unset has its observation taken back (``agreement_regrade``)."""
    moved = [(a, g) for a, g in zip(answers, agreements, strict=True) if g != a.agreement]
    if moved:
        agreement_regrade(
            task=task, annotations=[a for a, _ in moved], agreements=[g for _, g in moved]
        )


def _earned(answers: list[Annotation], reasons: list[str] | None = None) -> dict[object, int]:
    """Points each answer holds from the ledger: for ``reasons``, or all but gold pay."""
    rows = PointsEntry.objects.filter(annotation__in=answers)
    if reasons is None:
        rows = rows.exclude(reason=PointsReason.GOLD_CORRECT)
    else:
        rows = rows.filter(reason__in=reasons)
    totals = rows.values("annotation_id").annotate(total=Sum("points"))
    return dict(totals.values_list("annotation_id", "total"))


def _consensus_points(answers: list[Annotation]) -> list[int]:
    paid = _earned(answers, [PointsReason.ACCEPTED])
    return [paid.get(a.pk, 0) for a in answers]


def _points_move(decision: ReviewDecision, answers: list[Annotation], points: list[int]) -> None:
    """Pay each answer the difference between ``points`` and what it holds: one review credit
    or debit row naming ``decision``, so a repeat of the same decision pays nothing more."""
    earned = _earned(answers)
    awards = []
    for answer, target in zip(answers, points, strict=True):
        change = target - earned.get(answer.pk, 0)
        if change:
            reason = PointsReason.REVIEW_CREDIT if change > 0 else PointsReason.REVIEW_DEBIT
            awards.append(
                Award(answer.worker_id, answer.pk, reason, change, review_decision=decision.pk)
            )
    points_award(awards=awards)


def _task_move(task: Task, decision: ReviewDecision, result: ConsensusResult | None) -> None:
    """The task's state and label, and the consensus version bumped. Caller holds the locks."""
    crowd_confidence = result.confidence if result is not None else task.confidence
    if decision.action == ReviewAction.REOPEN:
        task_reopen_for_review(task=task, confidence=crowd_confidence)
        method = decision.consensus_method  # batch re-scoring may touch the task again
    else:
        settled = decision.label is not None
        confidence = REVIEWED_CONFIDENCE if settled else crowd_confidence
        task_settle(task=task, label=decision.label, confidence=confidence)
        method = reviewed_method(decision.action)  # batch re-scoring leaves the label alone
    if result is not None:
        ConsensusResult.objects.filter(pk=result.pk).update(version=F("version") + 1, method=method)


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
        "decision": decision_in_force(task=task),
        "answers": [
            {
                "annotation": a,
                "worker": names[a.worker_id],
                "skill": skill_figures(skills.get(a.worker_id)),
            }
            for a in answers
        ],
    }

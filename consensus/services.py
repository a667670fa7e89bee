"""Scoring a task: grade gold answers, fuse the crowd's answers, decide, update skill and points.

Every write happens in one transaction under the task's row lock, and each step checks what is
already done (annotation.agreement / gold_grade set, task no longer open, ledger constraint), so a
redelivered job changes nothing the first run already did.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F, Q
from django.utils import timezone

from annotations.models import Annotation, ProjectBlock, ScoreState, Task, TaskState
from annotations.services.task_states import task_accept, task_raise_target, task_send_to_review
from predictions.models import Prediction
from sebenzai import jobs
from sebenzai.common.broker import job_send_on_commit
from sebenzai.common.commits import commit_without_flush_wait
from sebenzai.common.errors import NotFound
from workers.models import PointsReason
from workers.services import Award, points_award

from .aggregate import FUSERS, Fused, gold_grade
from .algorithms.skill import BetaSkill
from .algorithms.suspension import gold_failing
from .ballots import Ballot, ballots_make
from .model_votes import ModelVote, model_votes, task_predictions
from .models import ConsensusResult, Decision, WorkerSkill
from .rows import rows_update
from .skill_moves import AGREEMENT_PASS, GOLD_PASS, agreement_count, gold_observe

logger = logging.getLogger(__name__)


def decision_for(
    *, confidence: float, answers: int, task: Task, model_voted: bool = False
) -> Decision:
    """Accept when confident; else ask for one more answer up to redundancy_max; then review.

    A task whose target a credible model lowered below the project's minimum is accepted early
    only while such a model still votes on it; otherwise it asks for people up to the minimum."""
    project = task.project
    if answers < task.target_redundancy:
        return Decision.WAIT
    below_minimum = task.target_redundancy < project.redundancy_min and not model_voted
    if confidence >= project.acceptance_threshold and not below_minimum:
        return Decision.ACCEPT
    if task.target_redundancy < project.redundancy_max:
        return Decision.MORE
    return Decision.REVIEW


def _skills(
    task: Task, annotations: list[Annotation], extra: list[int] | None = None
) -> dict[int, WorkerSkill]:
    """The answering workers' skill rows in the project (and ``extra`` voters': the models'),
    locked, made at the prior if new: one locking query, and one insert more the first time a
    worker is seen in the project."""
    workers = sorted({a.worker_id for a in annotations} | set(extra or []))
    rows = _skills_locked(task.project_id, workers)
    missing = [w for w in workers if w not in rows]
    if missing:
        prior = BetaSkill()
        WorkerSkill.objects.bulk_create(
            [WorkerSkill(worker_id=w, project_id=task.project_id, alpha=prior.alpha, beta=prior.beta)
             for w in missing],
            ignore_conflicts=True,  # another scorer made it first: lock theirs
        )  # fmt: skip
        rows = _skills_locked(task.project_id, workers)
    return rows


def _skills_locked(project_id: object, workers: list[int]) -> dict[int, WorkerSkill]:
    rows = (
        WorkerSkill.objects.select_for_update()
        .filter(project_id=project_id, worker_id__in=workers)
        .order_by("worker_id")
    )  # one lock order for every scorer, so two of them never deadlock
    return {row.worker_id: row for row in rows}


SKILL_FIELDS = ["alpha", "beta", "gold_correct", "gold_total", "agreed", "disagreed", "updated_at"]


def _skills_save(skills: list[WorkerSkill]) -> None:
    """One UPDATE for the rows an answer moved (neither it nor bulk_update touches auto_now
    fields)."""
    now = timezone.now()
    for skill in skills:
        skill.updated_at = now
    rows_update(skills, SKILL_FIELDS)


def answer_points(*, task: Task, agreement: float) -> int:
    """What an answer earns on a decided task: points scale with its agreement, above the pass."""
    if agreement < AGREEMENT_PASS:
        return 0
    return round(task.project.points_per_task * agreement)


def _gold_pay_time() -> datetime:
    """A random moment within the next while: an ordinary answer is paid when its task is decided,
    which is rarely at once, so gold pay must not be either (or points would reveal gold)."""
    low, high = settings.SEBENZAI["GOLD_PAY_DELAY_SECONDS"]
    return timezone.now() + timedelta(seconds=random.uniform(low, high))  # noqa: S311


def _grade_gold(task: Task, annotations: list[Annotation]) -> None:
    project = task.project
    pending = [a for a in annotations if a.gold_grade is None]
    skills = _skills(task, pending)
    awards = []
    for annotation in pending:
        grade = gold_grade(
            project.kind, annotation.payload, task.gold_answer, project.iou_threshold
        )
        annotation.gold_grade = grade
        skill = skills[annotation.worker_id]
        gold_observe(skill, grade)
        _suspension_check(skill)
        if grade >= GOLD_PASS:
            points = round(project.points_per_task * grade)
            reason = PointsReason.GOLD_CORRECT
            awards.append(
                Award(annotation.worker_id, annotation.pk, reason, points, _gold_pay_time())
            )
    rows_update(pending, ["gold_grade"])
    _skills_save([skills[a.worker_id] for a in pending])
    points_award(awards=awards)


def gold_suspends(*, correct: int, total: int) -> bool:
    """The automatic suspension rule (docs/reliability.md C8) with the configured minimum and bar."""
    rule = settings.SEBENZAI
    return gold_failing(
        correct=correct,
        total=total,
        min_gold=rule["SUSPEND_MIN_GOLD"],
        threshold=rule["SUSPEND_GOLD_ACCURACY"],
    )


def _suspension_check(skill: WorkerSkill) -> None:
    """A cheap look at the running gold counts after a grade; when they fail the rule, the
    suspension job re-counts from the answers and blocks, after commit and outside this task's
    locks (blocking locks every undecided task the worker answered)."""
    if gold_suspends(correct=skill.gold_correct, total=skill.gold_total):
        job_send_on_commit(jobs.SUSPEND_WORKER, str(skill.project_id), skill.worker_id)


def _apply_accept(
    task: Task,
    ballots: list[Ballot],
    fused: Fused,
    skills: dict[int, WorkerSkill],
    audited: list[ModelVote],
) -> None:
    """Accept the fused label; grade each answer's agreement with it, moving the skill of those
    who answered on their own (keeping a proposal shows nothing of one's skill), and pay them."""
    task_accept(task=task, label=fused.label, confidence=fused.confidence)
    graded, awards, moved = [], [], []
    for ballot, agreement in zip(ballots, fused.agreement, strict=True):
        for annotation in ballot.answers:
            if annotation.agreement is None:
                annotation.agreement = agreement
                graded.append(annotation)
                if not annotation.kept_proposal:
                    agreement_count(skills[annotation.worker_id], agreement)
                    moved.append(skills[annotation.worker_id])
            if agreement >= AGREEMENT_PASS:
                points = answer_points(task=task, agreement=agreement)
                reason = PointsReason.ACCEPTED
                awards.append(Award(annotation.worker_id, annotation.pk, reason, points))
    rows_update(graded, ["agreement"])
    moved += _models_grade(task, ballots, fused.agreement, audited, skills)
    _skills_save(moved)
    points_award(awards=awards)


def _models_grade(
    task: Task,
    ballots: list[Ballot],
    agreements: list[float],
    audited: list[ModelVote],
    skills: dict[int, WorkerSkill],
) -> list[WorkerSkill]:
    """Each model's agreement with the accepted label is kept; it earns nothing. Only an audit
    (a label people decided without the model) moves the model's skill, as an agreement moves
    a person's: where its own vote helped decide, agreeing is no independent evidence, and
    counting it would let a model vouch for itself. Returns the skill rows moved."""
    project = task.project
    voted = [(v, grade) for b, grade in zip(ballots, agreements, strict=True) for v in b.votes]
    audits = [
        (v, gold_grade(project.kind, v.payload, task.accepted_label, project.iou_threshold))
        for v in audited
    ]
    graded, moved = [], []
    for vote, agreement in voted + audits:
        if vote.prediction.agreement is not None:
            continue
        vote.prediction.agreement = agreement
        graded.append(vote.prediction)
        if vote in audited:
            agreement_count(skills[vote.voter_id], agreement)
            moved.append(skills[vote.voter_id])
    Prediction.objects.bulk_update(graded, ["agreement"])
    return moved


def agreement_regrade(
    *, task: Task, annotations: list[Annotation], agreements: list[float | None]
) -> None:
    """Grade each answer's agreement against a settled label (an admin's review), moving the
    worker's skill by the change only: an answer graded before has that observation taken back
    and the new one added, so skill counts each answer once; a grade of None leaves the answer
    ungraded (its observation only taken back). Caller holds the task row lock."""
    skills = _skills(task, annotations)
    for annotation, agreement in zip(annotations, agreements, strict=True):
        skill = skills[annotation.worker_id]
        if annotation.agreement is not None:
            agreement_count(skill, annotation.agreement, sign=-1)
        if agreement is not None:
            agreement_count(skill, agreement)
        annotation.agreement = agreement
    Annotation.objects.bulk_update(annotations, ["agreement"])
    _skills_save(list(skills.values()))


def _record(task: Task, ballots: list[Ballot], fused: Fused, decision: Decision) -> None:
    contributors = []
    for ballot, weight in zip(ballots, fused.weights, strict=True):
        shared = {"weight": round(weight, 4)} | ({"echo": True} if ballot.echo else {})
        contributors += [
            {"annotation": str(a.pk), "worker": a.worker_id} | shared for a in ballot.answers
        ] + [
            {"prediction": str(v.prediction.pk), "worker": v.voter_id} | shared
            for v in ballot.votes
        ]
    values = {
        "label": fused.label,
        "confidence": fused.confidence,
        "method": fused.method,
        "decision": decision,
        "contributors": contributors,
        "answers": sum(len(b.answers) for b in ballots),
    }
    updated = ConsensusResult.objects.filter(task=task).update(**values, version=F("version") + 1)
    if not updated:
        ConsensusResult.objects.create(task=task, **values)


def _fuse(task: Task, ballots: list[Ballot]) -> Fused:
    """The ballots, each weighted by its accuracy."""
    project = task.project
    return FUSERS[project.kind](
        [b.payload for b in ballots],
        [b.accuracy for b in ballots],
        project.label_names,
        project.iou_threshold,
    )


def counted_annotations(*, task: Task) -> list[Annotation]:
    """The task's answers that count, oldest first: a worker blocked from the project has
    their answers left out of its consensus."""
    blocked = ProjectBlock.objects.filter(project_id=task.project_id).values("worker_id")
    answers = task.annotations.exclude(worker_id__in=blocked)
    return list(answers.order_by("created_at", "id"))


@transaction.atomic
def consensus_score(*, task_id: object) -> Decision | None:
    """Score ``task_id`` with all its submitted answers and act on the decision.

    Returns the decision, or None when there was nothing to decide (a gold or decided task).
    """
    # Not waiting for the disk at commit: a scoring lost to a crash is re-sent by the sweeper.
    commit_without_flush_wait()
    # no_key: a concurrent answer's foreign-key check on this task need not wait for scoring.
    task = (
        Task.objects.select_for_update(of=("self",), no_key=True)
        .select_related("project")
        .get(pk=task_id)
    )
    annotations = counted_annotations(task=task)
    decision = None
    if task.is_gold:
        _grade_gold(task, annotations)
    elif task.state == TaskState.OPEN and annotations:
        decision = _decide(task, annotations)
    Annotation.objects.filter(task=task, score_state=ScoreState.PENDING).update(
        score_state=ScoreState.SCORED
    )
    return decision


def _decide(task: Task, annotations: list[Annotation]) -> Decision:
    predictions = task_predictions(task=task)
    skills = _skills(task, annotations, extra=[p.model.voter_id for p in predictions])
    votes = model_votes(predictions=predictions, skills=skills)
    # An audit of a model is decided by people alone; the model is graded against them after.
    audited, votes = (votes, []) if task.model_audit else ([], votes)
    ballots = ballots_make(task, annotations, votes, skills)
    fused = _fuse(task, ballots)
    decision = decision_for(
        confidence=fused.confidence, answers=len(annotations), task=task, model_voted=bool(votes)
    )
    _record(task, ballots, fused, decision)
    if decision == Decision.ACCEPT:
        _apply_accept(task, ballots, fused, skills, audited)
    elif decision == Decision.MORE:
        task_raise_target(task=task)
    elif decision == Decision.REVIEW:
        task_send_to_review(task=task, confidence=fused.confidence)
    return decision


@transaction.atomic  # its own transaction, committed before scoring begins: one commit, not two
def score_attempt_begin(*, task_id: object) -> bool:
    """Count an attempt on the task's pending answers; past the budget, quarantine them as
    failed (visible to admins) instead of retrying a poison job forever. Says whether to go on."""
    commit_without_flush_wait()  # an attempt counted and lost to a crash is simply not counted
    budget = settings.SEBENZAI["SCORE_MAX_ATTEMPTS"]
    pending = Annotation.objects.filter(task_id=task_id, score_state=ScoreState.PENDING)
    pending.update(score_attempts=F("score_attempts") + 1, score_started_at=timezone.now())
    exhausted = pending.filter(score_attempts__gt=budget).update(score_state=ScoreState.FAILED)
    return not exhausted


@transaction.atomic
def task_scoring_retry(*, task_id: object) -> int:
    """Give a task whose scoring was quarantined (answers ``failed``) a fresh attempt budget:
    its failed answers go back to pending with no attempts counted, and one scoring job is
    enqueued after commit. Returns how many answers were re-queued; 0 (and nothing enqueued)
    when none had failed, so a repeat, or a retry racing another, does nothing more.
    Raises NotFound for a task that does not exist."""
    task = Task.objects.select_for_update(of=("self",), no_key=True).filter(pk=task_id).first()
    if task is None:
        raise NotFound("No such task.", field="task")
    failed = Annotation.objects.filter(task=task, score_state=ScoreState.FAILED)
    requeued = failed.update(score_state=ScoreState.PENDING, score_attempts=0)
    if requeued:
        job_send_on_commit(jobs.SCORE, str(task.pk))
    return requeued


def score_attempt_release(*, task_id: object) -> None:
    """End the lease of a scoring attempt that failed: the sweeper may send the task again at
    once. Best effort: with the database down the lease simply runs out."""
    try:
        Annotation.objects.filter(task_id=task_id, score_state=ScoreState.PENDING).update(
            score_started_at=None
        )
    except DatabaseError:
        logger.warning("could not release the scoring lease of task %s", task_id)


def score_lease_seconds() -> int:
    """How long a begun scoring attempt holds its task: past Celery's hard time limit the job
    has certainly been killed, so only then may the sweeper send another."""
    return settings.CELERY_TASK_TIME_LIMIT + 30


def unscored_task_ids(*, older_than_seconds: int, lease_seconds: int | None = None) -> list[str]:
    """Tasks with answers still pending after a while, and no scoring attempt begun within the
    lease (``score_lease_seconds`` unless given): their scoring message was lost, or the job
    that took it died. A task whose job may still be running is never sent again."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=older_than_seconds)
    lease = score_lease_seconds() if lease_seconds is None else lease_seconds
    idle = Q(score_started_at__isnull=True) | Q(
        score_started_at__lte=now - timedelta(seconds=lease)
    )
    ready = Q(task__is_gold=True) | Q(task__answers_count__gte=F("task__target_redundancy"))
    rows = Annotation.objects.filter(
        ready, idle, score_state=ScoreState.PENDING, created_at__lt=cutoff
    )
    return [str(pk) for pk in rows.values_list("task_id", flat=True).distinct()[:5000]]

"""Batch re-scoring of a whole project: Dawid–Skene over all its answers, skills re-estimated.

Online scoring (``services.consensus_score``) decides each task from its own few answers with the
skills known at that moment. The batch job, run by Celery beat, sees the whole project at once:

- classification and moderation: Dawid–Skene EM (hybrid, gold clamped) over every answer gives each
  task a posterior. An accepted task's confidence becomes the posterior of its accepted class; when
  the crowd as a whole confidently says another class, the task goes to review (an admin settles
  it) instead of its label silently changing after workers were paid for it.
- every kind: each worker's Beta skill is recomputed from scratch, prior + GOLD_WEIGHT x gold grades
  + the evidence of their other answers (for classes, POSTERIOR_WEIGHT x the posterior that the
  answer was right; for shapes, AGREEMENT_WEIGHT x the stored F1 against the accepted result).

Before that, workers confidently wrong on the project's gold are suspended (``suspension``,
docs/reliability.md C8), so the batch already leaves their answers out; after it, pairs of accounts
whose answers look copied are found and stored for the staff workers table (``copying``, docs/reliability.md C9).

Idempotent: every value written is a function of the stored answers, gold and decisions alone (EM
starts from the plain vote, not from the skills it rewrites), and a row is only written when its
value moves, so a second run over unchanged data changes nothing. Tasks settled by an admin keep
their label and confidence. Open tasks are left to online scoring, which reads the new skills.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

import numpy as np
from django.db import transaction
from django.db.models import F

from annotations.models import (
    Annotation,
    Project,
    ProjectBlock,
    ProjectKind,
    ProjectStatus,
    Task,
    TaskState,
)
from annotations.services.task_states import tasks_confidence_set, tasks_reopen_accepted

from .aggregate import MODERATION_VERDICTS
from .algorithms.dawid_skene import dawid_skene
from .algorithms.skill import AGREEMENT_WEIGHT, GOLD_WEIGHT, PRIOR_ALPHA, PRIOR_BETA
from .copying import copying_refresh
from .models import REVIEWED_METHOD_PREFIX, ConsensusResult, WorkerSkill
from .suspension import workers_suspend_failing

# Weight of one answer's posterior of being right in the batch skill estimate. Online agreement
# counts a quarter (AGREEMENT_WEIGHT) because it is a hard 0/1 against one task's vote; the
# posterior is already soft and draws on the whole project, so it counts fully.
POSTERIOR_WEIGHT = 1.0
CHANGE_TOLERANCE = 1e-6  # smaller moves are float noise, not a new result
CLASS_FIELD = {ProjectKind.CLASSIFICATION: "label", ProjectKind.MODERATION: "verdict"}


@dataclass(frozen=True)
class RescoreReport:
    project: str
    answers: int
    skills_updated: int
    confidence_updated: int
    sent_to_review: int
    copying_pairs: int = 0
    suspended: int = 0  # workers blocked by this run for failing on gold


@dataclass(frozen=True)
class _Answer:
    task_id: object
    worker_id: int
    payload: dict
    is_gold: bool
    agreement: float | None
    gold_grade: float | None


def _answers(project: Project) -> list[_Answer]:
    """The answers that are evidence: a blocked worker's are not, nor a kept proposal on an
    ordinary task (it is the model's answer again; on gold it is still graded)."""
    blocked = ProjectBlock.objects.filter(project=project).values("worker_id")
    rows = (
        Annotation.objects.filter(task__project=project)
        .exclude(worker_id__in=blocked)
        .exclude(kept_proposal=True, task__is_gold=False)
        .order_by("task_id", "worker_id")
        .values_list("task_id", "worker_id", "payload", "task__is_gold", "agreement", "gold_grade")
    )
    return [_Answer(*row) for row in rows.iterator(chunk_size=5000)]


def _posteriors(project: Project, answers: list[_Answer]) -> tuple[dict, dict[int, list]]:
    """Dawid–Skene over the project: {task_id: posterior row} and, per worker, the (weight,
    probability their answer was right) of each answer."""
    field = CLASS_FIELD[project.kind]
    classes = list(MODERATION_VERDICTS if field == "verdict" else project.label_names)
    class_index = {name: i for i, name in enumerate(classes)}
    usable = [a for a in answers if a.payload.get(field) in class_index]
    if not usable or len(classes) < 2:
        return {}, {}
    tasks = sorted({a.task_id for a in usable}, key=str)
    task_index = {t: i for i, t in enumerate(tasks)}
    workers = sorted({a.worker_id for a in usable})
    worker_index = {w: i for i, w in enumerate(workers)}
    gold_rows = Task.objects.filter(pk__in=tasks, is_gold=True).values_list("pk", "gold_answer")
    gold = {
        task_index[pk]: class_index[g[field]] for pk, g in gold_rows if g.get(field) in class_index
    }
    fit = dawid_skene(
        np.array([task_index[a.task_id] for a in usable], dtype=np.int64),
        np.array([worker_index[a.worker_id] for a in usable], dtype=np.int64),
        np.array([class_index[a.payload[field]] for a in usable], dtype=np.int64),
        len(tasks),
        len(workers),
        len(classes),
        gold=gold,
    )
    evidence: dict[int, list] = defaultdict(list)
    for a in usable:
        right = float(fit.posteriors[task_index[a.task_id], class_index[a.payload[field]]])
        evidence[a.worker_id].append((GOLD_WEIGHT if a.is_gold else POSTERIOR_WEIGHT, right))
    posteriors = {
        t: dict(zip(classes, fit.posteriors[i], strict=True)) for t, i in task_index.items()
    }
    return posteriors, evidence


def _shape_evidence(answers: list[_Answer]) -> dict[int, list]:
    evidence: dict[int, list] = defaultdict(list)
    for a in answers:
        if a.is_gold and a.gold_grade is not None:
            evidence[a.worker_id].append((GOLD_WEIGHT, a.gold_grade))
        elif not a.is_gold and a.agreement is not None:
            evidence[a.worker_id].append((AGREEMENT_WEIGHT, a.agreement))
    return evidence


def _skills_write(project: Project, evidence: dict[int, list]) -> int:
    existing = {
        s.worker_id: s
        for s in WorkerSkill.objects.select_for_update()
        .filter(project=project)
        .order_by("worker_id")  # the lock order of online scoring: no deadlock between them
    }
    changed, created = [], []
    for worker_id, seen in sorted(evidence.items()):
        weights, grades = np.array(seen, dtype=float).T
        alpha = PRIOR_ALPHA + float(weights @ grades)
        beta = PRIOR_BETA + float(weights @ (1.0 - grades))
        skill = existing.get(worker_id)
        if skill is None:
            created.append(
                WorkerSkill(worker_id=worker_id, project=project, alpha=alpha, beta=beta)
            )
        elif (
            abs(skill.alpha - alpha) > CHANGE_TOLERANCE or abs(skill.beta - beta) > CHANGE_TOLERANCE
        ):
            skill.alpha, skill.beta = alpha, beta
            changed.append(skill)
    WorkerSkill.objects.bulk_update(changed, ["alpha", "beta", "updated_at"], batch_size=1000)
    WorkerSkill.objects.bulk_create(created, ignore_conflicts=True)
    return len(changed) + len(created)


def _accepted_write(project: Project, posteriors: dict) -> tuple[int, int]:
    """Confidence of accepted tasks from the posterior; confident disagreement goes to review."""
    field = CLASS_FIELD[project.kind]
    results = (
        ConsensusResult.objects.filter(task__project=project, task__state=TaskState.ACCEPTED)
        .exclude(method__startswith=REVIEWED_METHOD_PREFIX)
        .select_related("task")
    )
    to_update, to_review = [], []
    for result in results.iterator(chunk_size=2000):
        task, posterior = result.task, posteriors.get(result.task_id)
        if posterior is None or task.accepted_label is None:
            continue
        best = max(posterior, key=posterior.get)
        confidence = round(float(posterior.get(task.accepted_label.get(field), 0.0)), 6)
        if (
            best != task.accepted_label.get(field)
            and posterior[best] >= project.acceptance_threshold
        ):
            to_review.append(task.pk)
        elif abs((task.confidence or 0.0) - confidence) > CHANGE_TOLERANCE:
            result.confidence = confidence
            result.version += 1
            to_update.append(result)
    tasks_confidence_set(confidences={r.task_id: r.confidence for r in to_update})
    ConsensusResult.objects.bulk_update(to_update, ["confidence", "version"], batch_size=1000)
    sent = tasks_reopen_accepted(task_ids=to_review)
    # a new version, so an admin's decision made on the page as it was before is a 409
    ConsensusResult.objects.filter(task_id__in=sent).update(version=F("version") + 1)
    return len(to_update), len(sent)


def project_rescore(*, project_id: object) -> RescoreReport | None:
    """Suspend the workers failing on gold, then re-estimate skills, re-score ``project_id`` in
    batch and look for copying. None when another run holds the project."""
    # Outside the re-score's transaction: each block commits on its own, and re-scoring its
    # tasks (after that commit) need not wait for the whole project's EM.
    suspended = workers_suspend_failing(project_id=project_id)
    report = _rescore(project_id)
    return replace(report, suspended=len(suspended)) if report else None


@transaction.atomic
def _rescore(project_id: object) -> RescoreReport | None:
    project = (
        Project.objects.select_for_update(skip_locked=True, no_key=True)
        .filter(pk=project_id)
        .first()
    )
    if project is None:
        return None
    answers = _answers(project)
    updated = sent = 0
    if project.kind in CLASS_FIELD and answers:
        posteriors, evidence = _posteriors(project, answers)
        updated, sent = _accepted_write(project, posteriors)
    else:
        evidence = _shape_evidence(answers)
    skills = _skills_write(project, evidence)
    pairs = copying_refresh(project=project)
    return RescoreReport(str(project.pk), len(answers), skills, updated, sent, pairs)


def projects_to_rescore() -> list[str]:
    """Active projects with answers: the beat job re-scores each in its own Celery task."""
    active = Project.objects.filter(
        status=ProjectStatus.ACTIVE, tasks__answers_count__gt=0
    ).distinct()
    return [str(pk) for pk in active.values_list("pk", flat=True)]

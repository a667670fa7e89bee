"""A model version votes as one more worker: its account's WorkerSkill in the project is its
measured skill. Its predictions on gold tasks are graded as soon as they arrive (the known answer
is there), moving that skill like a person's gold answer; once the record makes it credible,
each open task it predicted asks for fewer people (one, when they agree with it), and its vote
enters the fusion weighted by its skill. It is never paid points and never suspended: a model
that is wrong only loses its weight."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from annotations.models import Task, TaskState
from annotations.services.task_states import task_lower_target
from predictions.models import ModelVersion, Prediction
from sebenzai import jobs
from sebenzai.common.broker import job_send_on_commit

from .aggregate import gold_grade
from .algorithms.skill import GOLD_WEIGHT, BetaSkill
from .models import WorkerSkill

GOLD_PASS = 0.5


@dataclass(frozen=True)
class ModelVote:
    """A credible model's prediction on a task, as the fusion takes it."""

    prediction: Prediction
    voter_id: int
    payload: dict  # the prediction less the shapes it is not sure of


def model_credible(skill: WorkerSkill | None) -> bool:
    rule = settings.SEBENZAI
    return (
        skill is not None
        and skill.gold_total >= rule["MODEL_MIN_GOLD"]
        and skill.accuracy >= rule["MODEL_MIN_ACCURACY"]
    )


def model_skill(*, version: ModelVersion, lock: bool = False) -> WorkerSkill:
    """The model's skill row in its project, made at the prior the first time."""
    prior = BetaSkill()
    WorkerSkill.objects.get_or_create(
        worker_id=version.voter_id,
        project_id=version.project_id,
        defaults={"alpha": prior.alpha, "beta": prior.beta},
    )
    rows = WorkerSkill.objects.select_for_update() if lock else WorkerSkill.objects
    return rows.get(worker_id=version.voter_id, project_id=version.project_id)


def model_votes_apply(*, model_id: object) -> dict:
    """Grade the model's new predictions on gold; if it is credible now, lower the target of
    every open task it predicted and score those that already have enough answers. Safe to run
    twice: graded predictions are not graded again, a lowered target is not lowered again."""
    version = ModelVersion.objects.select_related("project").get(pk=model_id)
    graded = _gold_grade(version)
    lowered = 0
    if model_credible(model_skill(version=version)):
        lowered = sum(_task_lower(task_id) for task_id in _tasks_to_lower(version))
    return {"graded": graded, "lowered": lowered}


@transaction.atomic
def _gold_grade(version: ModelVersion) -> int:
    project = version.project
    skill = model_skill(version=version, lock=True)
    pending = list(
        Prediction.objects.filter(model=version, task__is_gold=True, gold_grade__isnull=True)
        .select_related("task")
        .order_by("created_at", "id")
    )
    for prediction in pending:
        grade = gold_grade(
            project.kind, prediction.payload, prediction.task.gold_answer, project.iou_threshold
        )
        prediction.gold_grade = grade
        updated = BetaSkill(skill.alpha, skill.beta).observe(grade, GOLD_WEIGHT)
        skill.alpha, skill.beta = updated.alpha, updated.beta
        skill.gold_total += 1
        skill.gold_correct += int(grade >= GOLD_PASS)
    Prediction.objects.bulk_update(pending, ["gold_grade"])
    skill.save()
    return len(pending)


def _tasks_to_lower(version: ModelVersion) -> list[object]:
    rows = Prediction.objects.filter(
        model=version,
        task__is_gold=False,
        task__state=TaskState.OPEN,
        task__target_redundancy__gt=1,
    )
    return list(rows.values_list("task_id", flat=True))


@transaction.atomic
def _task_lower(task_id: object) -> int:
    task = Task.objects.select_for_update(of=("self",), no_key=True).get(pk=task_id)
    target = max(task.slots_taken, 1)
    if task.state != TaskState.OPEN or target >= task.target_redundancy:
        return 0
    task_lower_target(task=task, target=target)
    if task.answers_count and task.answers_count >= task.target_redundancy:
        job_send_on_commit(jobs.SCORE, str(task.pk))  # enough answers already: decide now
    return 1


def model_votes_for(*, task: Task) -> list[ModelVote]:
    """The votes of the credible models that predicted ``task``, in a stable order."""
    predictions = list(
        Prediction.objects.filter(task=task).select_related("model").order_by("model__created_at")
    )
    if not predictions:
        return []
    voters = [p.model.voter_id for p in predictions]
    skills = {
        s.worker_id: s
        for s in WorkerSkill.objects.filter(project_id=task.project_id, worker_id__in=voters)
    }
    return [
        ModelVote(p, p.model.voter_id, _sure_part(p.payload))
        for p in predictions
        if model_credible(skills.get(p.model.voter_id))
    ]


def _sure_part(payload: dict) -> dict:
    """Shapes the model scored under MODEL_MIN_SCORE are not part of its vote."""
    floor = settings.SEBENZAI["MODEL_MIN_SCORE"]
    for key in ("boxes", "polygons"):
        if key in payload:
            return {key: [s for s in payload[key] if s["score"] >= floor]}
    return payload

"""A model version votes as one more worker: its account's WorkerSkill in the project is its
measured skill. Its predictions on gold tasks are graded as soon as they arrive (the known answer
is there), moving that skill like a person's gold answer; once the record makes it credible,
each open task it predicted asks for fewer people (one, when they agree with it), and its vote
enters the fusion weighted by its skill. It is never paid points and never suspended: a model
that is wrong only loses its weight."""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Avg, Count

from annotations.models import Project, Task, TaskState
from annotations.services.task_states import (
    task_accept_by_model,
    task_lower_target,
    task_mark_audit,
)
from predictions.models import ModelVersion, Prediction
from predictions.payloads import doubt, vote_part
from sebenzai import jobs
from sebenzai.common.broker import job_send_on_commit

from .aggregate import gold_grade
from .algorithms.skill import BetaSkill
from .models import ConsensusResult, Decision, WorkerSkill
from .skill_moves import GOLD_PASS, gold_observe

AUTO_METHOD = "model_auto"  # ConsensusResult.method of a task accepted on a model's word
MIN_AUDITS = 5  # audits decided before their accuracy can stop auto-accept
# A model's accuracy on one class is its gold record on that class, starting from its overall
# accuracy worth this many gold answers: a few golds of a class move it, a handful do not.
CLASS_PRIOR_ANSWERS = 5.0
CLASS_KEYS = ("label", "verdict")  # the class of a classification or moderation answer


@dataclass(frozen=True)
class ModelVote:
    """A credible model's prediction on a task, as the fusion takes it."""

    prediction: Prediction
    voter_id: int
    payload: dict  # the prediction less the shapes it is not sure of
    # Its weight: the model's accuracy on the class it says (its skill, for shapes), or its
    # score where that is lower.
    accuracy: float


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


def model_votes_apply(*, model_id: object, rng: random.Random | None = None) -> dict:
    """Grade the model's new predictions on gold; if it is credible now, take each open task it
    predicted: accept it on the model's word (auto-accept, when the project asks for it and the
    model is sure and its audits hold), or draw it as an audit for people, or else lower its
    target and score those that already have enough answers. Safe to run twice: graded
    predictions are not graded again, a task taken is not taken again."""
    version = ModelVersion.objects.select_related("project").get(pk=model_id)
    graded = _gold_grade(version)
    skill = model_skill(version=version)
    outcomes: dict[str, int] = {"graded": graded, "accepted": 0, "audit": 0, "lowered": 0}
    if model_credible(skill):
        auto = auto_accept_on(version=version, skill=skill)
        for prediction in _open_predictions(version):
            outcome = _task_take(prediction, skill, auto, rng or random.Random())
            if outcome:
                outcomes[outcome] += 1
    return outcomes


def auto_accept_on(*, version: ModelVersion, skill: WorkerSkill) -> bool:
    """The project asks for it, the model's measured accuracy reaches the acceptance threshold,
    and its audits so far (once there are enough) agree with people as often."""
    project = version.project
    if not project.model_auto_accept or skill.accuracy < project.acceptance_threshold:
        return False
    audit = audit_figures(version=version)
    return audit["audited"] < MIN_AUDITS or audit["accuracy"] >= project.acceptance_threshold


def audit_figures(*, version: ModelVersion) -> dict:
    """How the model's audited predictions compared with what people decided."""
    rows = Prediction.objects.filter(model=version, task__model_audit=True)
    graded = rows.filter(agreement__isnull=False).aggregate(n=Count("id"), mean=Avg("agreement"))
    accepted = Prediction.objects.filter(model=version, task__accepted_by_model=True).count()
    return {
        "audits": rows.count(),
        "audited": graded["n"],
        "accuracy": graded["mean"],
        "auto_accepted": accepted,
    }


def model_versions_progress(*, project: Project) -> list[dict]:
    """Each model version of the project: its measured skill and gold record, whether its vote
    counts, what it accepted on its own and how its audits went."""
    versions = ModelVersion.objects.filter(project=project).order_by("created_at")
    skills = {
        s.worker_id: s
        for s in WorkerSkill.objects.filter(
            project=project, worker_id__in=versions.values("voter_id")
        )
    }
    rows = []
    for version in versions:
        skill = skills.get(version.voter_id)
        rows.append(
            {
                "model": version.name,
                "id": str(version.pk),
                "skill": skill.accuracy if skill else None,
                "gold_answers": skill.gold_total if skill else 0,
                "gold_correct": skill.gold_correct if skill else 0,
                "credible": model_credible(skill),
                **audit_figures(version=version),
            }
        )
    return rows


@transaction.atomic
def _gold_grade(version: ModelVersion) -> int:
    project = version.project
    skill = model_skill(version=version, lock=True)
    version.refresh_from_db(fields=["class_record"])  # as the grader before us left it
    pending = list(
        Prediction.objects.filter(model=version, task__is_gold=True, gold_grade__isnull=True)
        .select_related("task")
        .order_by("created_at", "id")
    )
    for prediction in pending:
        grade = gold_grade(
            project.kind,
            vote_part(prediction.payload),
            prediction.task.gold_answer,
            project.iou_threshold,
        )
        prediction.gold_grade = grade
        gold_observe(skill, grade)
        _class_record_add(version, prediction.payload, grade)
    Prediction.objects.bulk_update(pending, ["gold_grade"])
    skill.save()
    version.save(update_fields=["class_record"])
    return len(pending)


def _class_record_add(version: ModelVersion, payload: dict, grade: float) -> None:
    key = class_of(payload)
    if key is not None:
        right, graded = version.class_record.get(key, (0, 0))
        version.class_record[key] = [right + int(grade >= GOLD_PASS), graded + 1]


def _open_predictions(version: ModelVersion) -> list[Prediction]:
    rows = Prediction.objects.filter(model=version, task__is_gold=False, task__state=TaskState.OPEN)
    return list(rows.only("id", "task_id", "payload").order_by("task_id"))


@transaction.atomic
def _task_take(
    prediction: Prediction, skill: WorkerSkill, auto: bool, rng: random.Random
) -> str | None:
    task = (
        Task.objects.select_for_update(of=("self",), no_key=True)
        .select_related("project")
        .get(pk=prediction.task_id)
    )
    if task.state != TaskState.OPEN or task.model_audit:
        return None  # decided, or an audit: people decide it as they would without a model
    project = task.project
    if auto and task.model_audit is None and not task.slots_taken and _sure(prediction, project):
        if rng.random() < project.model_audit_share:
            task_mark_audit(task=task)
            return "audit"
        _accept_by_model(task, prediction, skill)
        return "accepted"
    target = max(task.slots_taken, 1 if _sure(prediction, project) else 2)
    if target >= task.target_redundancy:
        return None
    task_lower_target(task=task, target=target)
    if task.answers_count and task.answers_count >= task.target_redundancy:
        job_send_on_commit(jobs.SCORE, str(task.pk))  # enough answers already: decide now
    return "lowered"


def _sure(prediction: Prediction, project: Project) -> bool:
    """Sure enough to stand without people: no class or shape nearer a coin flip than the
    project's acceptance threshold allows."""
    return doubt(prediction.payload) <= round(1.0 - project.acceptance_threshold, 4)


def _accept_by_model(task: Task, prediction: Prediction, skill: WorkerSkill) -> None:
    label = _label_of(vote_part(prediction.payload))
    task_accept_by_model(task=task, label=label, confidence=skill.accuracy)
    values = {
        "label": label,
        "confidence": skill.accuracy,
        "method": AUTO_METHOD,
        "decision": Decision.ACCEPT,
        "contributors": [
            {"prediction": str(prediction.pk), "worker": skill.worker_id, "weight": 1.0}
        ],
        "answers": 0,
    }
    ConsensusResult.objects.update_or_create(task=task, defaults=values)


def _label_of(payload: dict) -> dict:
    """The accepted label in the shape people's consensus gives it: a class without its score,
    shapes with theirs."""
    return {k: v for k, v in payload.items() if k != "score"}


def task_predictions(*, task: Task) -> list[Prediction]:
    """The models' predictions on ``task``, in a stable order, each with its model."""
    rows = Prediction.objects.filter(task=task).select_related("model")
    return list(rows.order_by("model__created_at"))


def model_votes(
    *, predictions: list[Prediction], skills: dict[int, WorkerSkill]
) -> list[ModelVote]:
    """The votes among ``predictions`` of the models credible by ``skills`` (their rows, as
    the scorer locked them)."""
    votes = []
    for prediction in predictions:
        skill = skills.get(prediction.model.voter_id)
        if skill is not None and model_credible(skill):
            payload = vote_part(prediction.payload)
            accuracy = min(
                class_accuracy(prediction.model, skill, payload), payload.get("score", 1.0)
            )
            votes.append(ModelVote(prediction, skill.worker_id, payload, accuracy))
    return votes


def class_of(payload: dict) -> str | None:
    """The class a classification or moderation answer gives; None for shapes."""
    return next((payload[k] for k in CLASS_KEYS if k in payload), None)


def class_accuracy(version: ModelVersion, skill: WorkerSkill, payload: dict) -> float:
    """The model's accuracy when it says this payload's class (its overall accuracy for
    shapes, whose classes the fusion weighs shape by shape)."""
    key = class_of(payload)
    if key is None:
        return skill.accuracy
    right, graded = version.class_record.get(key, (0, 0))
    return (CLASS_PRIOR_ANSWERS * skill.accuracy + right) / (CLASS_PRIOR_ANSWERS + graded)

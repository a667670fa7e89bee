"""Worker quality for the staff dashboards: each worker's skill with its uncertainty, and the
workers table of a project (gold accuracy, agreement, time per answer, points, blocks, spammer
flags and suspected copying), computed by aggregate queries, never one per worker."""

from __future__ import annotations

import math

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Aggregate, Avg, Count, FloatField, Q, Sum

from annotations.models import Annotation, Project, ProjectBlock
from predictions.models import ModelVersion
from workers.models import PointsEntry

from .algorithms.skill import PRIOR_ALPHA, PRIOR_BETA
from .copying import copying_partners
from .model_votes import audit_figures
from .models import WorkerSkill

User = get_user_model()


def skill_figures(skill: WorkerSkill | None) -> dict:
    """A worker's posterior mean accuracy and a 90 % interval (normal approximation of the Beta)."""
    alpha, beta = (skill.alpha, skill.beta) if skill else (PRIOR_ALPHA, PRIOR_BETA)
    n = alpha + beta
    mean = alpha / n
    sd = math.sqrt(alpha * beta / (n * n * (n + 1)))
    low, high = max(0.0, mean - 1.645 * sd), min(1.0, mean + 1.645 * sd)
    return {
        "mean": mean,
        "sd": sd,
        "low": low,
        "high": high,
        "span": high - low,
        "alpha": alpha,
        "beta": beta,
    }


LOW_AGREEMENT = 0.5  # share of graded answers agreeing with the consensus
FAST_MEDIAN_MS = 1500  # no one reads an image and answers in under this, time after time
MIN_ANSWERS_TO_FLAG = 5


class Median(Aggregate):
    """PostgreSQL's ordered-set median."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def workers_table(*, project: Project) -> list[dict]:
    """Every worker who answered in the project: skill with its uncertainty, gold accuracy,
    answers, agreement, median time per answer, points, block state (and its reason), spammer
    flags and the accounts they seem to copy or be copied by (as the last batch run found them);
    least trustworthy first."""
    answers = Annotation.objects.filter(task__project=project, task__is_gold=False)
    per_worker = answers.values("worker_id").annotate(
        answers=Count("id"),
        graded=Count("agreement"),
        agreed=Count("id", filter=Q(agreement__gte=LOW_AGREEMENT)),
        mean_agreement=Avg("agreement"),
        **_median_duration(),
    )
    rows = {r["worker_id"]: r for r in per_worker}
    skills = {s.worker_id: s for s in WorkerSkill.objects.filter(project=project)}
    points = dict(
        PointsEntry.objects.filter(annotation__task__project=project)
        .values("worker_id")
        .annotate(total=Sum("points"))
        .values_list("worker_id", "total")
    )
    blocks = dict(ProjectBlock.objects.filter(project=project).values_list("worker_id", "reason"))
    copying = copying_partners(project=project)
    ids = set(rows) | set(skills)
    partners = {p["partner"] for pk in ids for p in copying.get(pk, [])}
    names = dict(User.objects.filter(pk__in=ids | partners).values_list("pk", "username"))
    # A model votes as an account of its own: shown by its name, beside the people.
    versions = {v.voter_id: v for v in ModelVersion.objects.filter(project=project)}
    models = {pk: v.name for pk, v in versions.items()}
    names |= {pk: f"{name} (model)" for pk, name in models.items() if pk in names}
    table = []
    for pk in ids:
        row = _worker_row(
            pk, names[pk], rows.get(pk, {}), skills.get(pk), points.get(pk, 0), pk in blocks
        )
        row["model"] = pk in models
        row["audit"] = audit_figures(version=versions[pk]) if pk in versions else None
        row["block_reason"] = blocks.get(pk)
        _copying_add(row, copying.get(pk, []), names)
        table.append(row)
    return sorted(table, key=lambda r: (not r["flags"], r["skill"]["mean"]))


def _copying_add(row: dict, partners: list[dict], names: dict[int, str]) -> None:
    """One "copying" flag per partner account, naming it with the evidence."""
    row["copying"] = [p | {"username": names.get(p["partner"], "?")} for p in partners]
    for p in row["copying"]:
        row["flags"].append(
            f"copying with {p['username']} "
            f"({p['twins']} of {p['unusual']} unusual answers identical)"
        )


def _median_duration() -> dict:
    if connection.vendor == "postgresql":
        return {"median_ms": Median("duration_ms")}
    return {"median_ms": Avg("duration_ms")}  # other databases: the mean stands in


def _worker_row(
    pk: int, name: str, row: dict, skill: WorkerSkill | None, points: int, blocked: bool
) -> dict:
    graded = row.get("graded", 0)
    agreement_rate = row.get("agreed", 0) / graded if graded else None
    gold = (skill.gold_correct / skill.gold_total) if skill and skill.gold_total else None
    flags = []
    if graded >= MIN_ANSWERS_TO_FLAG and agreement_rate < LOW_AGREEMENT:
        flags.append("low agreement")
    median = row.get("median_ms")
    if (
        row.get("answers", 0) >= MIN_ANSWERS_TO_FLAG
        and median is not None
        and median < FAST_MEDIAN_MS
    ):
        flags.append("implausibly fast")
    return {
        "worker": pk,
        "username": name,
        "skill": skill_figures(skill),
        "gold_accuracy": gold,
        "gold_answers": skill.gold_total if skill else 0,
        "answers": row.get("answers", 0),
        "agreement_rate": agreement_rate,
        "mean_agreement": row.get("mean_agreement"),
        "median_ms": median,
        "points": points,
        "blocked": blocked,
        "flags": flags,
    }

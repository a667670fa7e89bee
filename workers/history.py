"""A worker's own answers with their outcome, and feedback on check (known-answer) tasks.

Outcomes never tell a check task apart early: a check answer reads "pending" until the longest
gold-pay delay has passed (the same rule as points), and then "accepted" or "disagreed" like any
decided task. Other workers' answers are never read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, IntegerField, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from annotations.models import Annotation, TaskState

from .models import PointsEntry, PointsReason
from .selectors import reveal_delay

PASSING = (PointsReason.ACCEPTED, PointsReason.GOLD_CORRECT, PointsReason.REVIEW_CREDIT)


@dataclass(frozen=True)
class HistoryRow:
    answered_at: datetime
    project: str
    kind: str
    outcome: str  # "accepted" | "disagreed" | "pending"
    points: int


def _answers(user: AbstractBaseUser, now: datetime) -> QuerySet[Annotation]:
    visible = Q(points__visible_at__lte=now)
    passed = PointsEntry.objects.filter(annotation=OuterRef("pk"), reason__in=PASSING)
    debited = PointsEntry.objects.filter(
        annotation=OuterRef("pk"), reason=PointsReason.REVIEW_DEBIT
    )
    return (
        Annotation.objects.filter(worker=user)
        .select_related("task__project")
        .annotate(
            earned=Coalesce(
                Sum("points__points", filter=visible), Value(0), output_field=IntegerField()
            ),
            passed=Exists(passed),
            debited=Exists(debited),
        )
        .order_by("-created_at", "-pk")
    )


def outcome_of(answer: Annotation, now: datetime) -> str:
    task = answer.task
    if task.is_gold:
        decided = answer.gold_grade is not None and answer.created_at <= now - reveal_delay()
    else:
        decided = task.state in (TaskState.ACCEPTED, TaskState.REJECTED)
    if not decided:
        return "pending"
    # A review may debit an answer and a later decision (or a reopen) credit it back: what
    # counts is where its points stand now, not that a debit was ever written.
    taken_back = answer.debited and answer.earned <= 0
    return "accepted" if answer.passed and not taken_back else "disagreed"


def answers_history(
    *, user: AbstractBaseUser, offset: int = 0, limit: int = 50
) -> tuple[list[HistoryRow], bool]:
    """One page of the worker's answers, newest first, and whether an older page exists."""
    now = timezone.now()
    page = list(_answers(user, now)[offset : offset + limit + 1])
    rows = [
        HistoryRow(
            a.created_at, a.task.project.name, a.task.project.kind, outcome_of(a, now), a.earned
        )
        for a in page[:limit]
    ]
    return rows, len(page) > limit


def expected_text(kind: str, answer: dict) -> str:
    """A short, human reading of a known answer: what the toast says was expected."""
    if kind == "classification":
        return answer["label"]
    if kind == "moderation":
        categories = ", ".join(answer.get("categories", []))
        return f"{answer['verdict']} ({categories})" if categories else answer["verdict"]
    shapes = answer.get("boxes") or answer.get("polygons") or []
    noun = "box" if kind == "bbox" else "polygon"
    labels = ", ".join(sorted({s["label"] for s in shapes}))
    return f"{len(shapes)} {noun}{'' if len(shapes) == 1 else 'es' if noun == 'box' else 's'}: {labels}"


def checks_feedback(*, user: AbstractBaseUser, since: datetime | None) -> list[dict]:
    """Feedback on the worker's check tasks revealed after ``since`` (oldest first): correct,
    or what was expected. Revealed means graded and older than the longest gold-pay delay."""
    now = timezone.now()
    latest = now - reveal_delay()
    answers = Annotation.objects.filter(
        worker=user, task__is_gold=True, gold_grade__isnull=False, created_at__lte=latest
    )
    if since is not None:
        answers = answers.filter(created_at__gt=since - reveal_delay())
    answers = answers.select_related("task__project").annotate(
        passed=Exists(
            PointsEntry.objects.filter(annotation=OuterRef("pk"), reason=PointsReason.GOLD_CORRECT)
        )
    )
    items = [_feedback(a) for a in answers.order_by("created_at")[:20]]
    return sorted(items, key=lambda i: (i["answered_at"], i["project"], i.get("expected", "")))


def _feedback(answer: Annotation) -> dict:
    """Only the hour of the answer, and items in an order of their own within it: an exact time
    would let a worker (or a ring of colluders) match the feedback to the task it was on."""
    task = answer.task
    hour = answer.created_at.replace(minute=0, second=0, microsecond=0)
    item = {
        "answered_at": hour.isoformat(),
        "project": task.project.name,
        "correct": answer.passed,
    }
    if not answer.passed:
        item["expected"] = expected_text(task.project.kind, task.gold_answer)
    return item

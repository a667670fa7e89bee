"""Reads for the worker's pages: today's progress, level, streak, badges and the leaderboard.

Everything is computed from two sources of truth — the answers (``Annotation`` rows) and the
append-only points ledger — and only from ledger rows already visible, so a points total shown
here always equals the sum of the rows a recount would find.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.services import profile_get

from .gamification import (
    Badge,
    BadgeFacts,
    Level,
    badges_for,
    level_for,
    streak_current,
    streak_longest,
)
from .models import PointsEntry, PointsReason
from .services import points_total


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def reveal_delay() -> timedelta:
    """How long after an answer its check-task outcome may be shown: the longest delay gold pay
    can take, so the outcome never appears before the points would (see consensus)."""
    return timedelta(seconds=settings.SEBENZAI["GOLD_PAY_DELAY_SECONDS"][1])


def answers_per_day(*, user: AbstractBaseUser) -> dict[date, int]:
    rows = (
        user.annotations.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    return dict(rows)


def checks_graded(*, user: AbstractBaseUser, now: datetime) -> tuple[int, int]:
    """(checks, correct) over the worker's known-answer tasks whose reveal time has passed."""
    revealed = user.annotations.filter(
        task__is_gold=True, gold_grade__isnull=False, created_at__lte=now - reveal_delay()
    )
    correct = Q(points__reason=PointsReason.GOLD_CORRECT)
    counts = revealed.aggregate(
        checks=Count("id", distinct=True), correct=Count("id", filter=correct, distinct=True)
    )
    return counts["checks"], counts["correct"]


@dataclass(frozen=True)
class WorkerSummary:
    points: int
    level: Level
    answers: int
    answers_today: int
    daily_target: int
    streak: int
    longest_streak: int
    badges: list[Badge]


def worker_summary(*, user: AbstractBaseUser, now: datetime | None = None) -> WorkerSummary:
    """Everything the home page and the labelling page's header show about the worker."""
    now = now or timezone.now()
    target = max(profile_get(user=user).daily_target, 1)
    per_day = answers_per_day(user=user)
    met = [day for day, n in per_day.items() if n >= target]
    checks, correct = checks_graded(user=user, now=now)
    answers = sum(per_day.values())
    longest = streak_longest(met)
    points = points_total(user=user)
    return WorkerSummary(
        points=points,
        level=level_for(points),
        answers=answers,
        answers_today=per_day.get(timezone.localdate(now), 0),
        daily_target=target,
        streak=streak_current(met, timezone.localdate(now)),
        longest_streak=longest,
        badges=badges_for(BadgeFacts(answers, longest, checks, correct)),
    )


PERIODS = ("today", "week", "all")


def period_start(period: str, now: datetime) -> datetime | None:
    """Today: since midnight; week: since Monday midnight; all: no start."""
    today = timezone.localdate(now)
    if period == "today":
        return day_start(today)
    if period == "week":
        return day_start(today - timedelta(days=today.weekday()))
    if period == "all":
        return None
    raise ValueError(f"Unknown period {period!r}; expected one of {', '.join(PERIODS)}.")


@dataclass(frozen=True)
class Standing:
    rank: int
    worker_id: int
    username: str
    points: int


def _period_totals(period: str, now: datetime):
    rows = PointsEntry.objects.filter(visible_at__lte=now).exclude(worker__profile__simulated=True)
    start = period_start(period, now)
    if start is not None:
        rows = rows.filter(visible_at__gte=start)
    return rows.values("worker_id", "worker__username").annotate(total=Sum("points"))


def leaderboard(*, period: str, limit: int = 50, now: datetime | None = None) -> list[Standing]:
    """The top ``limit`` workers by points made visible in the period. Ties share a rank (1, 1,
    3); among equals, names in alphabetical order so the table does not shuffle on reload."""
    now = now or timezone.now()
    rows = _period_totals(period, now).filter(total__gt=0).order_by("-total", "worker__username")
    standings: list[Standing] = []
    for index, row in enumerate(rows[:limit]):
        tied = standings and standings[-1].points == row["total"]
        rank = standings[-1].rank if tied else index + 1
        standings.append(Standing(rank, row["worker_id"], row["worker__username"], row["total"]))
    return standings


def leaderboard_rank(
    *, user: AbstractBaseUser, period: str, now: datetime | None = None
) -> Standing | None:
    """The worker's own place in the period (None without points), even outside the top."""
    now = now or timezone.now()
    mine = sum(
        _period_totals(period, now).filter(worker_id=user.pk).values_list("total", flat=True)
    )
    if mine <= 0:
        return None
    ahead = _period_totals(period, now).filter(total__gt=mine).count()
    return Standing(ahead + 1, user.pk, user.get_username(), mine)


def ledger_totals() -> dict[int, int]:
    """Every worker's balance recounted from the visible ledger rows, for audits and tests."""
    rows = PointsEntry.objects.filter(visible_at__lte=timezone.now())
    return dict(rows.values("worker_id").annotate(t=Sum("points")).values_list("worker_id", "t"))

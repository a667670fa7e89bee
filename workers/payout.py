"""The payout report: per worker, answers and accepted answers in a period, and points to pay."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TextIO

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone

from annotations.models import Annotation
from sebenzai.common.spreadsheet import cell_safe

from .models import PointsEntry, PointsReason
from .selectors import day_start

PAID_FOR = (PointsReason.ACCEPTED, PointsReason.GOLD_CORRECT)


@dataclass(frozen=True)
class PayoutRow:
    worker: str
    answers: int
    accepted: int
    points: int


def payout_rows(*, start: date, end: date) -> list[PayoutRow]:
    """Workers with answers or points in ``start``..``end`` (whole days, both included); never
    the crowd simulator's accounts, which nobody is to be paid for.

    ``answers`` and ``accepted`` count answers submitted in the period; ``points`` sums the ledger
    rows that became visible in it (and are visible now). Consecutive periods therefore pay every
    ledger row exactly once, even when an answer from one period is decided in the next.
    """
    low, high = day_start(start), day_start(end + timedelta(days=1))
    high = min(high, timezone.now())
    answered = Q(annotations__created_at__gte=low, annotations__created_at__lt=high)
    paid = PointsEntry.objects.filter(annotation=OuterRef("pk"), reason__in=PAID_FOR)
    accepted_ids = Annotation.objects.filter(created_at__gte=low, created_at__lt=high).filter(
        Exists(paid)
    )
    counts = (
        get_user_model()
        .objects.annotate(
            answers=Count("annotations", filter=answered, distinct=True),
            accepted=Count("annotations", filter=Q(annotations__in=accepted_ids), distinct=True),
        )
        .filter(answers__gt=0)
        .exclude(profile__simulated=True)
        .values_list("username", "answers", "accepted")
    )
    points = dict(
        PointsEntry.objects.filter(visible_at__gte=low, visible_at__lt=high)
        .exclude(worker__profile__simulated=True)
        .values("worker__username")
        .annotate(total=Sum("points"))
        .values_list("worker__username", "total")
    )
    rows = {
        name: PayoutRow(name, answers, accepted, points.get(name, 0))
        for name, answers, accepted in counts
    }
    for name, total in points.items():
        rows.setdefault(name, PayoutRow(name, 0, 0, total))
    return [rows[name] for name in sorted(rows)]


def payout_write_csv(rows: list[PayoutRow], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["worker", "answers", "accepted", "points"])
    for row in rows:
        # Usernames may start with + - @ (sign-up allows them): never a formula.
        writer.writerow([cell_safe(row.worker), row.answers, row.accepted, row.points])

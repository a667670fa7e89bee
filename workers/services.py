"""The points ledger: awards appended once, balances summed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Sum
from django.utils import timezone

from .models import PointsEntry


@dataclass(frozen=True)
class Award:
    worker_id: int
    annotation_id: object
    reason: str
    points: int
    visible_at: datetime | None = None  # None: at once
    review_decision: int | None = None  # the review decision a review adjustment pays


def points_award(*, awards: list[Award]) -> None:
    """Append awards to the ledger. The (annotation, reason) constraint, and for review
    adjustments (annotation, reason, review decision), makes a repeat a no-op, so a scoring
    job or a review decision that runs twice never pays twice."""
    rows = [
        PointsEntry(
            worker_id=a.worker_id,
            annotation_id=a.annotation_id,
            reason=a.reason,
            points=a.points,
            visible_at=a.visible_at or timezone.now(),
            review_decision=a.review_decision,
        )
        for a in awards
    ]
    PointsEntry.objects.bulk_create(rows, ignore_conflicts=True)


def points_total(*, user: AbstractBaseUser) -> int:
    """The worker's balance: the sum of their ledger rows that are visible by now."""
    rows = PointsEntry.objects.filter(worker=user, visible_at__lte=timezone.now())
    return rows.aggregate(total=Sum("points"))["total"] or 0

"""Accounts, roles and the points ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from sebenzai.common.errors import Conflict, DomainError

from .models import PointsEntry, Role, WorkerProfile

User = get_user_model()


def profile_get(*, user: AbstractBaseUser) -> WorkerProfile:
    """Every account has a profile; accounts made by ``createsuperuser`` get theirs on first use."""
    profile, _ = WorkerProfile.objects.get_or_create(user=user)
    return profile


def user_role(*, user: AbstractBaseUser) -> str:
    try:
        return user.profile.role
    except WorkerProfile.DoesNotExist:
        return profile_get(user=user).role


@transaction.atomic
def user_create(*, username: str, password: str, role: Role, email: str = "") -> AbstractBaseUser:
    """Create an account with a checked password; a taken username is a 409."""
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(code="username_taken", field="username", message="This username is taken.")
    candidate = User(username=username, email=email)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise DomainError(
            code="weak_password", field="password", message=" ".join(exc.messages)
        ) from exc
    user = User.objects.create_user(username=username, password=password, email=email)
    WorkerProfile.objects.create(user=user, role=role)
    return user


@dataclass(frozen=True)
class Award:
    worker_id: int
    annotation_id: object
    reason: str
    points: int
    visible_at: datetime | None = None  # None: at once


def points_award(*, awards: list[Award]) -> None:
    """Append awards to the ledger. The (annotation, reason) constraint makes a repeat a no-op,
    so a scoring job that runs twice never pays twice."""
    rows = [
        PointsEntry(
            worker_id=a.worker_id,
            annotation_id=a.annotation_id,
            reason=a.reason,
            points=a.points,
            visible_at=a.visible_at or timezone.now(),
        )
        for a in awards
    ]
    PointsEntry.objects.bulk_create(rows, ignore_conflicts=True)


def points_total(*, user: AbstractBaseUser) -> int:
    """The worker's balance: the sum of their ledger rows that are visible by now."""
    rows = PointsEntry.objects.filter(worker=user, visible_at__lte=timezone.now())
    return rows.aggregate(total=Sum("points"))["total"] or 0

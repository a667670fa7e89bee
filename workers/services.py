"""Accounts, roles and the points ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from sebenzai.common.errors import Conflict, DomainError

from .models import PointsEntry, Role, WorkerProfile
from .usernames import username_normalise, username_skeleton

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
def user_create(
    *, username: str, password: str, role: Role, email: str = "", simulated: bool = False
) -> AbstractBaseUser:
    """Create an account with a checked password; a taken username is a 409, and so is one a
    person could mistake for a taken one (``usernames.username_skeleton``)."""
    username = username_normalise(username)  # before any comparison: Ｓtaffer is Staffer
    skeleton = username_skeleton(username)
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(code="username_taken", field="username", message="This username is taken.")
    if WorkerProfile.objects.filter(name_skeleton=skeleton).exists():
        raise Conflict(
            code="username_confusable",
            field="username",
            message="This username looks like one that is taken; choose another.",
        )
    candidate = User(username=username, email=email)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise DomainError(
            code="weak_password", field="password", message=" ".join(exc.messages)
        ) from exc
    try:
        user = User.objects.create_user(username=username, password=password, email=email)
        WorkerProfile.objects.create(
            user=user, role=role, name_skeleton=skeleton, simulated=simulated
        )
    except IntegrityError as exc:
        # Two sign-ups with one name (or look-alike names) at once: the unique index decides.
        raise Conflict(
            code="username_taken", field="username", message="This username is taken."
        ) from exc
    return user


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

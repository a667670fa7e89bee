"""Accounts: profiles, roles and sign-up."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from sebenzai.common.errors import Conflict, DomainError

from .models import Role, WorkerProfile
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

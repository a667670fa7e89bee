"""Workers' own progress: the summary the labelling page's header shows, and the outcomes of
their check tasks."""

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.response import Response

from accounts.permissions import IsWorker
from accounts.services import user_role
from sebenzai.common.errors import DomainError

from .history import checks_feedback
from .selectors import worker_summary


@extend_schema(responses={200: dict})
@api_view(["GET"])
def me(request):
    """The caller's account and progress: what the labelling page's header shows."""
    user = request.user
    summary = worker_summary(user=user)
    return Response(
        {
            "username": user.username,
            "role": user_role(user=user),
            "is_staff": user.is_staff,
            "points": summary.points,
            "answers": summary.answers,
            "answers_today": summary.answers_today,
            "daily_target": summary.daily_target,
            "streak": summary.streak,
            "level": summary.level.number,
            "next_level_at": summary.level.next_at,
        }
    )


@extend_schema(responses={200: dict})
@api_view(["GET"])
@permission_classes([IsWorker])
def feedback(request):
    """Outcomes of the caller's check tasks revealed since ``?since=`` (ISO time), with what was
    expected when the answer missed. Nothing shows before the longest gold-pay delay."""
    raw = request.query_params.get("since")
    try:
        since = parse_datetime(raw) if raw else None
    except ValueError:  # well formed but impossible, e.g. month 13
        since = None
    if raw and (since is None or since.tzinfo is None):
        raise DomainError(
            code="invalid_datetime", field="since", message="Expected an ISO time with a zone."
        )
    items = checks_feedback(user=request.user, since=since)
    return Response({"items": items, "now": timezone.now().isoformat()})

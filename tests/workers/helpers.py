"""Helpers for the gamification tests: answers through the API, ledger rows written directly."""

from __future__ import annotations

from datetime import datetime

import time_machine

from annotations.models import Annotation
from tests.helpers import lease, submit
from workers.models import PointsReason
from workers.services import Award, points_award


def answer(client, project, payload: dict, *, at: datetime | None = None) -> Annotation:
    """Lease a task of ``project`` and submit ``payload`` (at time ``at`` when given)."""
    if at is None:
        return _answer(client, project, payload)
    with time_machine.travel(at, tick=False):
        return _answer(client, project, payload)


def _answer(client, project, payload: dict) -> Annotation:
    work = lease(client, project)
    assert work is not None, "no task left to lease"
    response = submit(client, work["assignment"], payload)
    assert response.status_code == 201, response.content
    return Annotation.objects.get(pk=response.json()["annotation"])


def pay(
    annotation: Annotation,
    points: int,
    *,
    visible_at: datetime | None = None,
    reason: str = PointsReason.ACCEPTED,
) -> None:
    points_award(awards=[Award(annotation.worker_id, annotation.pk, reason, points, visible_at)])

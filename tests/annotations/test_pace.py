"""Pace limits (docs/reliability.md C7): answers faster than anyone can look, and skip after skip to
cherry-pick, are slowed with a 429 that says how long to wait; nothing is lost meanwhile."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from annotations.models import Annotation, Assignment, AssignmentState
from tests.helpers import lease, submit

pytestmark = pytest.mark.django_db


def test_an_answer_sooner_than_the_minimum_is_refused_and_the_lease_kept(
    make_project, worker_client, settings
):
    settings.SEBENZAI = {**settings.SEBENZAI, "MIN_ANSWER_MS": 5000}
    project = make_project(images=1)
    work = lease(worker_client, project)

    refused = submit(worker_client, work["assignment"], {"label": "car"}, duration_ms=9000)

    assert refused.status_code == 429
    error = refused.json()["error"]
    assert (error["code"], error["field"]) == ("too_fast", "assignment")
    assert 0 < error["retry_after_ms"] <= 5000
    assert Assignment.objects.get(pk=work["assignment"]).state == AssignmentState.LEASED
    assert not Annotation.objects.exists()
    with time_machine.travel(timezone.now() + timedelta(seconds=6)):
        assert submit(worker_client, work["assignment"], {"label": "car"}).status_code == 201


def _skip(client, project) -> None:
    work = lease(client, project)
    response = client.post(f"/api/v1/work/assignments/{work['assignment']}/skip/", {}, "json")
    assert response.status_code == 200


def test_skipping_task_after_task_earns_a_cool_down(make_project, worker_client, settings):
    settings.SEBENZAI = {**settings.SEBENZAI, "MAX_SKIPS_IN_A_ROW": 3, "SKIP_COOLDOWN_SECONDS": 60}
    project = make_project(images=8)
    for _ in range(3):
        _skip(worker_client, project)

    refused = worker_client.post("/api/v1/work/next/", {"project": str(project.pk)}, "json")

    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_skips"
    assert not Assignment.objects.filter(state=AssignmentState.LEASED).exists()
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert lease(worker_client, project) is not None


def test_an_answer_between_skips_breaks_the_streak(make_project, worker_client, settings):
    settings.SEBENZAI = {**settings.SEBENZAI, "MAX_SKIPS_IN_A_ROW": 3}
    project = make_project(images=8)
    _skip(worker_client, project)
    _skip(worker_client, project)
    work = lease(worker_client, project)
    assert submit(worker_client, work["assignment"], {"label": "car"}).status_code == 201
    _skip(worker_client, project)
    assert lease(worker_client, project) is not None

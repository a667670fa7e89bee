"""The Celery side of exports: named, late-acked tasks whose limits fit under the broker's
visibility timeout (docs/reliability.md P4), and a sweeper that picks up what a lost message dropped."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from exports import services
from exports.models import Export, ExportState
from exports.services import (
    BUILD_TIME_LIMIT,
    MAX_ATTEMPTS,
    STALE_AFTER,
    export_build,
    export_root,
    export_sweep,
)
from exports.webhooks import BACKOFF_MAX, CLAIM_SECONDS
from sebenzai.celery import app as celery_app

pytestmark = pytest.mark.django_db


def test_export_tasks_are_registered_by_name_and_acknowledged_late():
    for name in ("exports.build", "exports.deliver_webhook", "exports.sweep"):
        assert celery_app.tasks[name].acks_late
    assert "exports.sweep" in {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}


def test_every_export_limit_and_backoff_fits_under_the_visibility_timeout():
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    build = celery_app.tasks["exports.build"]
    assert build.soft_time_limit < build.time_limit == BUILD_TIME_LIMIT < visibility
    assert visibility > BACKOFF_MAX * 1.2  # the largest retry countdown, with jitter
    assert STALE_AFTER > BUILD_TIME_LIMIT  # a live build is never taken over
    assert CLAIM_SECONDS > 15  # longer than one delivery attempt can last


def _export(project, **fields) -> Export:
    return Export.objects.create(project=project, version=1, format="coco", options={
        "split": {"train": 1.0, "val": 0.0, "test": 0.0}, "min_confidence": None,
        "states": ["accepted"]}, **fields)  # fmt: skip


def test_a_build_runs_once_even_when_its_message_comes_twice(accepted_project):
    export = _export(accepted_project("bbox", images=2))
    assert export_build(export_id=str(export.pk)).state == ExportState.READY
    assert export_build(export_id=str(export.pk)) is None  # the duplicate finds it done
    export.refresh_from_db()
    assert export.attempts == 1


def test_a_build_whose_worker_died_is_taken_over_once_stale(accepted_project):
    stale = timezone.now() - timedelta(seconds=STALE_AFTER + 1)
    export = _export(
        accepted_project("bbox", images=2), state="running", started_at=stale, attempts=1
    )
    assert export_build(export_id=str(export.pk)).state == ExportState.READY
    live = _export(accepted_project("bbox", images=1, name="live"), state="running",
                   started_at=timezone.now(), attempts=1)  # fmt: skip
    assert export_build(export_id=str(live.pk)) is None


def test_the_sweeper_requeues_lost_builds_fails_hopeless_ones_and_clears_dead_work(
    accepted_project, monkeypatch
):
    sent = []
    monkeypatch.setattr(celery_app.tasks["exports.build"], "delay", sent.append)
    old = timezone.now() - timedelta(seconds=STALE_AFTER + 1)
    lost = _export(accepted_project("bbox", images=1))
    Export.objects.filter(pk=lost.pk).update(created_at=old)
    hopeless = _export(accepted_project("bbox", images=1, name="b"), state="running",
                       started_at=old, attempts=MAX_ATTEMPTS)  # fmt: skip
    dead = export_root() / ".tmp" / ".export-dead"
    dead.mkdir(parents=True)
    os.utime(dead, (time.time() - STALE_AFTER - 5,) * 2)
    counts = export_sweep()
    assert sent == [str(lost.pk)]
    assert counts == {
        "builds": 1,
        "failed": 1,
        "deliveries": 0,
        "work_folders": 1,
        "uploads_aborted": 0,
    }
    hopeless.refresh_from_db()
    assert hopeless.state == ExportState.FAILED
    assert hopeless.error_code == "export_failed"
    assert not dead.exists()
    assert services.LOST_AFTER < STALE_AFTER


@pytest.mark.skipif(not settings.USING_POSTGRES, reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_the_same_export_asked_for_four_times_at_once_is_built_once(
    accepted_project, requester, monkeypatch
):
    from exports.options import export_options_build
    from exports.services import export_request
    from tests.helpers import at_once

    project = accepted_project("bbox", images=3)
    builds = []
    # the build job is held back, so all four requests arrive while the first is still pending
    monkeypatch.setattr(services, "_enqueue_build", builds.append)
    options = export_options_build(kind="bbox", fmt="coco", split=None, min_confidence=None)

    def ask():
        return export_request(project=project, user=requester, options=options, url_for=str)

    results = at_once([ask] * 4)

    assert all(isinstance(r, tuple) for r in results), results
    assert len({export.pk for export, _ in results}) == 1
    assert [created for _, created in results].count(True) == 1
    assert Export.objects.filter(project=project).count() == 1
    assert len(builds) == 1

"""The sweeper that re-sends scoring for answers whose message was lost, on the real broker: it
re-sends nothing while jobs wait in the queue (they are queued, not lost: issue 17 saw 211
duplicates sent under a backlog), and re-sends once the queue is empty."""

from __future__ import annotations

import pytest

from annotations.models import Annotation, ScoreState
from consensus.tasks import sweep_unscored_task
from sebenzai import jobs
from sebenzai.celery import app as celery_app
from tests.helpers import lease, submit
from tests.integration.helpers import needs_services

pytestmark = [needs_services, pytest.mark.django_db(transaction=True)]


def queued(base: str) -> int:
    """Messages waiting in the scoring queue of the base queue ``base``."""
    with celery_app.connection_for_read() as broker:
        scoring = jobs.queue_name(jobs.SCORING, base)
        return broker.default_channel.queue_declare(queue=scoring, passive=True).message_count


def test_no_resend_while_jobs_wait_and_a_resend_once_the_queue_is_empty(
    queue_without_worker, make_project, worker_clients, settings
):
    # given a task answered three times, its scoring job waiting in a queue nobody reads yet
    project = make_project(images=1)
    for client in worker_clients[:3]:
        work = lease(client, project)
        assert submit(client, work["assignment"], {"label": "car"}).status_code == 201
    assert queued(queue_without_worker) == 1
    assert Annotation.objects.filter(score_state=ScoreState.PENDING).count() == 3
    settings.SEBENZAI = {**settings.SEBENZAI, "SCORE_SWEEP_AFTER_SECONDS": -1}
    # when the sweeper runs, then it sends nothing more: the job is queued, not lost
    assert sweep_unscored_task() == 0
    assert queued(queue_without_worker) == 1
    # and when the queue has been emptied (the message lost), the sweeper sends it again
    with celery_app.connection_for_write() as broker:
        broker.default_channel.queue_purge(jobs.queue_name(jobs.SCORING, queue_without_worker))
    assert sweep_unscored_task() == 1
    assert queued(queue_without_worker) == 1

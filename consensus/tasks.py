"""Celery wrappers: take ids, call one service, safe to run twice (hence acks_late)."""

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from .services import consensus_score, score_attempt_begin, unscored_task_ids


@shared_task(
    name="consensus.score",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def consensus_score_task(task_id: str) -> None:
    if score_attempt_begin(task_id=task_id):
        consensus_score(task_id=task_id)


@shared_task(name="consensus.sweep_unscored", acks_late=True)
def sweep_unscored_task() -> int:
    """Re-enqueue scoring for answers whose message was lost (broker down at submit time)."""
    ids = unscored_task_ids(older_than_seconds=settings.SEBENZAI["SCORE_SWEEP_AFTER_SECONDS"])
    for task_id in ids:
        consensus_score_task.delay(task_id)
    return len(ids)

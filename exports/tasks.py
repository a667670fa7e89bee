"""Celery entry points for exports: ids in, one service call, safe to run twice (acks_late)."""

from celery import shared_task

from sebenzai import jobs

from .models import ExportState
from .services import BUILD_SOFT_LIMIT, BUILD_TIME_LIMIT, export_build, export_sweep
from .webhooks import MAX_ATTEMPTS, delivery_attempt

STORE_RETRY_IN = 30  # seconds, times the attempts so far: a store's outage is seldom brief


@shared_task(
    name=jobs.EXPORT_BUILD,
    bind=True,
    acks_late=True,
    soft_time_limit=BUILD_SOFT_LIMIT,
    time_limit=BUILD_TIME_LIMIT,
    **jobs.DATABASE_RETRY,
)
def export_build_task(self, export_id: str) -> None:
    export = export_build(export_id=export_id)
    # Left pending: the object store was down. The sweeper would send it again too; the
    # retry is sooner, and a duplicate finds it claimed.
    if export is not None and export.state == ExportState.PENDING:
        raise self.retry(countdown=STORE_RETRY_IN * export.attempts)


@shared_task(name=jobs.WEBHOOK_DELIVER, acks_late=True, bind=True, max_retries=MAX_ATTEMPTS)
def webhook_deliver_task(self, delivery_id: str) -> None:
    # The attempt count and the schedule live in the database; Celery only carries the wait.
    retry_in = delivery_attempt(delivery_id=delivery_id)
    if retry_in is not None:
        raise self.retry(countdown=retry_in)


@shared_task(name=jobs.EXPORT_SWEEP, acks_late=True)
def export_sweep_task() -> dict[str, int]:
    return export_sweep()

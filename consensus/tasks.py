"""Celery wrappers: take ids, call one service, safe to run twice (hence acks_late)."""

from celery import shared_task
from django.conf import settings
from kombu.exceptions import ChannelError, OperationalError

from sebenzai import jobs

from .batch import project_rescore, projects_to_rescore
from .model_votes import model_votes_apply
from .services import (
    consensus_score,
    score_attempt_begin,
    score_attempt_release,
    unscored_task_ids,
)
from .suspension import workers_suspend_failing


@shared_task(name=jobs.SCORE, acks_late=True, **jobs.DATABASE_RETRY)
def consensus_score_task(task_id: str) -> None:
    if score_attempt_begin(task_id=task_id):
        try:
            consensus_score(task_id=task_id)
        except BaseException:
            # The attempt is over (its retry, if any, may be lost with the broker): free its
            # lease so the sweeper need not wait out the time limit. A killed job cannot get
            # here; its lease runs out instead.
            score_attempt_release(task_id=task_id)
            raise


@shared_task(name=jobs.SWEEP_UNSCORED, acks_late=True)
def sweep_unscored_task() -> int:
    """Re-enqueue scoring for answers whose message was lost (broker down at submit time). Not
    while jobs wait in the queue: then the answers' messages are queued behind them, not lost,
    and sending them again would add work exactly when the workers are behind."""
    if _jobs_waiting() > 0:
        return 0
    ids = unscored_task_ids(older_than_seconds=settings.SEBENZAI["SCORE_SWEEP_AFTER_SECONDS"])
    for task_id in ids:
        consensus_score_task.delay(task_id)
    return len(ids)


def _jobs_waiting() -> int:
    """Messages waiting in the scoring queue; 0 when that cannot be told (tasks run in-process,
    the broker is away, or the queue has never held a message)."""
    app = consensus_score_task.app
    if app.conf.task_always_eager:
        return 0
    try:
        with app.connection_for_read() as connection:
            queue = jobs.queue_name(jobs.SCORING, app.conf.task_default_queue)
            return connection.default_channel.queue_declare(queue=queue, passive=True).message_count
    except (OSError, ChannelError, OperationalError):
        return 0


@shared_task(name=jobs.SUSPEND_WORKER, acks_late=True)
def suspend_worker_task(project_id: str, worker_id: int) -> bool:
    """After a gold grade: block the worker from the project if their gold record fails the
    suspension rule. Idempotent (a blocked worker is not blocked again)."""
    return bool(workers_suspend_failing(project_id=project_id, worker_id=worker_id))


@shared_task(name=jobs.RESCORE_PROJECT, acks_late=True)
def rescore_project_task(project_id: str) -> dict | None:
    """Dawid–Skene over the whole project and skills re-estimated; idempotent, so a redelivery
    (or two beats overlapping: the second finds the project locked and returns) is harmless."""
    report = project_rescore(project_id=project_id)
    return report.__dict__ if report else None


@shared_task(name=jobs.RESCORE_ACTIVE, acks_late=True)
def rescore_active_task() -> int:
    """The beat job: one re-scoring task per active project with answers."""
    ids = projects_to_rescore()
    for project_id in ids:
        rescore_project_task.delay(project_id)
    return len(ids)


@shared_task(name=jobs.MODEL_VOTES, acks_late=True, **jobs.DATABASE_RETRY)
def model_votes_task(model_id: str) -> None:
    model_votes_apply(model_id=model_id)

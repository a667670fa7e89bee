"""Publishing Celery jobs: after the transaction commits (``job_send_on_commit``, the one way
app code enqueues), and without holding a request up while the broker is away: a circuit
breaker lets a request skip publishing for a few seconds once the broker was found down."""

from __future__ import annotations

from functools import partial

from django.db import transaction
from kombu.exceptions import OperationalError as BrokerUnreachable

from sebenzai.celery import app as celery_app

from .cache import CircuitBreaker, breaker_for

BROKER_BREAKER_SECONDS = 5.0


def broker_breaker() -> CircuitBreaker:
    return breaker_for("Celery broker", BROKER_BREAKER_SECONDS)


def task_send(name: str, *args: object) -> bool:
    """Publish Celery task ``name`` unless the broker was found down in the last few seconds;
    say whether it was sent. Only for jobs that a sweeper re-sends from the database (the rows
    stay the source of truth), so not sending is a delay, never a loss.

    While the broker is up a publish retries by CELERY_TASK_PUBLISH_RETRY_POLICY; once it failed,
    the next tries (one per back-off, in this process) are single attempts, and every other call
    returns at once instead of holding its request for the retries."""
    breaker = broker_breaker()
    if not breaker.allows():
        return False
    task = celery_app.tasks[name]
    try:
        if breaker.is_open:  # a probe
            task.apply_async(args, retry_policy={"max_retries": 0})
        else:
            task.delay(*args)
    except BrokerUnreachable as error:
        breaker.failed(error)
        return False
    breaker.succeeded()
    return True


def job_send_on_commit(name: str, *args: object, sweeper_backed: bool = False) -> None:
    """Send Celery job ``name`` once the current transaction commits (never for a rolled-back
    one, never before its rows are visible); a publish that fails is logged, not raised.
    ``sweeper_backed``: a sweeper re-sends the job from the database, so while the broker is
    known to be down it is not even tried (``task_send``), and the request is not held up."""
    if sweeper_backed:
        transaction.on_commit(partial(task_send, name, *args), robust=True)
    else:
        transaction.on_commit(partial(celery_app.tasks[name].delay, *args), robust=True)

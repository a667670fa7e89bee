"""The Celery jobs' names, in one place: apps enqueue each other's jobs by name (``annotations``
never imports ``consensus``), so a name written twice could drift. Also the retry arguments of
the jobs that retry when the database is briefly away."""

from django.db import OperationalError

SCORE = "consensus.score"
SWEEP_UNSCORED = "consensus.sweep_unscored"
SUSPEND_WORKER = "consensus.suspend_worker"
RESCORE_PROJECT = "consensus.rescore_project"
RESCORE_ACTIVE = "consensus.rescore_active"
EXPIRE_LEASES = "annotations.expire_leases"
EXPORT_BUILD = "exports.build"
EXPORT_SWEEP = "exports.sweep"
WEBHOOK_DELIVER = "exports.deliver_webhook"
MODEL_VOTES = "consensus.model_votes"
RUN_MODEL = "predictions.run_model"
SWEEP_MODELS = "predictions.sweep_models"

# Each kind of job on a queue of its own, so a slow export, a webhook to a dead host or a long
# model run never waits in front of scoring. A queue is named ``<base>.<kind>`` after the base
# queue (CELERY_QUEUE, "celery" by default), which keeps the housekeeping jobs (lease expiry,
# sweeps, nightly re-scoring): a test, or a second platform on the same Redis, that changes the
# base moves every queue with it.
SCORING, EXPORTS, WEBHOOKS, MODELS = "scoring", "exports", "webhooks", "models"
KINDS = (SCORING, EXPORTS, WEBHOOKS, MODELS)
KIND_OF_JOB = {
    SCORE: SCORING,
    SUSPEND_WORKER: SCORING,
    MODEL_VOTES: SCORING,
    EXPORT_BUILD: EXPORTS,
    WEBHOOK_DELIVER: WEBHOOKS,
    RUN_MODEL: MODELS,
}


def queue_name(kind: str | None, base: str) -> str:
    """The queue of a kind of job (``None``: the base queue)."""
    return f"{base}.{kind}" if kind else base


def queue_names(base: str) -> list[str]:
    """Every queue, the base first: what one worker consuming everything is given (``-Q``)."""
    return [base] + [queue_name(kind, base) for kind in KINDS]


def route(name: str, args: object, kwargs: object, options: object, task=None, **kw) -> dict:
    """Celery's router (CELERY_TASK_ROUTES): the job's queue, read at send time from the app's
    base queue so that changing the base (a test's worker) moves every kind with it."""
    from sebenzai.celery import app  # the router runs inside Celery, after the app exists

    return {"queue": queue_name(KIND_OF_JOB.get(name), app.conf.task_default_queue)}


# A database error (a restart, a lock timeout) is retried with exponential backoff up to 5 min;
# the jobs are idempotent, so a retry after a partial attempt is harmless.
DATABASE_RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 5,
}

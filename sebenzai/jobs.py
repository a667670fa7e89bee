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

# A database error (a restart, a lock timeout) is retried with exponential backoff up to 5 min;
# the jobs are idempotent, so a retry after a partial attempt is harmless.
DATABASE_RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 5,
}

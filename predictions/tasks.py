"""Celery entry points for uploaded ONNX models: ids in, one service call, safe to run twice
(acks_late): a batch already stored is skipped, and a second job finds the lease held."""

from dataclasses import asdict
from typing import Any

from celery import shared_task

from sebenzai import jobs

from .runs import BATCH_SECONDS, onnx_model_run, onnx_models_due

# A batch stops taking images after BATCH_SECONDS; one image may then run up to the runner's
# 30 s budget. Past this the worker is killed, and the lease (runs.LEASE_SECONDS) runs out.
RUN_TIME_LIMIT = int(BATCH_SECONDS) + 180


@shared_task(name=jobs.RUN_MODEL, acks_late=True, time_limit=RUN_TIME_LIMIT, **jobs.DATABASE_RETRY)
def onnx_model_run_task(model_id: str) -> dict[str, Any] | None:
    report = onnx_model_run(model_id=model_id)
    return asdict(report) if report else None


@shared_task(name=jobs.SWEEP_MODELS, acks_late=True)
def onnx_models_sweep_task() -> int:
    """The beat job: one run job per model with tasks left (none without the onnx extra)."""
    ids = onnx_models_due()
    for model_id in ids:
        onnx_model_run_task.delay(model_id)
    return len(ids)

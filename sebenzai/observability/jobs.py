"""Celery signal handlers (connected in sebenzai/celery.py).

- The request id travels with the jobs a request publishes, as a message header, and is the
  current id while the worker runs the job, so its log lines name the request that caused it.
  A job published outside any request (beat, a sweeper) carries none. Publishing happens on
  commit (sebenzai/common/broker.py), which is still inside the request's context.
- Workers log through Django's LOGGING (the same JSON or text as the web process) instead of
  Celery's own set-up.
- A failed job is counted where web nodes can read it (failures.py)."""

from __future__ import annotations

import logging
import logging.config
from typing import Any

from celery import signals
from django.conf import settings

from .context import current_request_id, well_formed
from .failures import job_failure_record

HEADER = "request_id"
_RESET = "_request_id_reset"  # where prerun keeps the contextvar token for postrun


def request_id_into_message(headers: dict | None = None, **kwargs: Any) -> None:
    request_id = current_request_id.get()
    if request_id and headers is not None:
        headers.setdefault(HEADER, request_id)


def request_id_from_message(task: Any = None, **kwargs: Any) -> None:
    """Before a job runs: its message's request id becomes the current one. A job run in-process
    (no broker) has no header and keeps the id of the request it runs in."""
    if task is None:
        return
    carried = getattr(task.request, HEADER, None) or (task.request.headers or {}).get(HEADER)
    request_id = carried if well_formed(carried) else current_request_id.get()
    setattr(task.request, _RESET, current_request_id.set(request_id))


def request_id_reset(task: Any = None, **kwargs: Any) -> None:
    token = getattr(getattr(task, "request", None), _RESET, None)
    if token is not None:
        try:
            current_request_id.reset(token)
        except ValueError:  # set in another context (cannot happen in one job's thread)
            current_request_id.set(None)


def job_failure_count(sender: Any = None, **kwargs: Any) -> None:
    job_failure_record(name=getattr(sender, "name", None) or "unknown")


def worker_logging(loglevel: int | str | None = None, **kwargs: Any) -> None:
    """Celery's ``setup_logging``: a receiver stops Celery from configuring logging itself.
    The more verbose of LOG_LEVEL and the worker's ``--loglevel`` wins."""
    logging.config.dictConfig(settings.LOGGING)
    root = logging.getLogger()
    wanted = logging.getLevelName(loglevel) if isinstance(loglevel, str) else loglevel
    if isinstance(wanted, int) and wanted < root.level:
        root.setLevel(wanted)


def signals_connect() -> None:
    """Connect the handlers above (strongly referenced: they are module functions anyway)."""
    signals.before_task_publish.connect(request_id_into_message, weak=False)
    signals.task_prerun.connect(request_id_from_message, weak=False)
    signals.task_postrun.connect(request_id_reset, weak=False)
    signals.task_failure.connect(job_failure_count, weak=False)
    # celeryd_init too: the worker warns (running as root, say) before it sets up logging
    signals.celeryd_init.connect(worker_logging, weak=False)
    signals.setup_logging.connect(worker_logging, weak=False)

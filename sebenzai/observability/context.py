"""The id of the request (or of the job it caused) that the current code runs for.

A contextvar, not a thread-local: each gunicorn thread, and each Celery job, has its own, and
code reached from either (logging, publishing a job) reads it without being handed a request.
No Django import: the log formatter uses it outside Django too."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

current_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# What a proxy such as nginx ($request_id, 32 hex) or a client may send: anything else (too long,
# spaces, CR/LF, quotes) would let a caller forge log lines or headers, so it is replaced.
_WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{1,64}")


def well_formed(value: object) -> bool:
    return isinstance(value, str) and _WELL_FORMED.fullmatch(value) is not None


def request_id_accept(incoming: str | None) -> str:
    """The incoming id if it is well formed, else a new one (uuid4 hex)."""
    return incoming if well_formed(incoming) else uuid.uuid4().hex

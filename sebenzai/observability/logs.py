"""Log records as one JSON object per line (``LOG_FORMAT=json``) or as text, both naming the
request id the record was written for (``null``/``-`` outside any request or job).

Our own formatter rather than python-json-logger: the fields are fixed and few, the standard
library's ``json`` writes them, and one dependency fewer sits in every process's logging path.
A message with newlines or quotes stays on its line: ``json.dumps`` escapes them."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from .context import current_request_id


class StderrHandler(logging.StreamHandler):
    """The one log handler of every process (settings.LOGGING). It also sends Python's warnings
    through logging (``py.warnings``), so that stderr holds log lines only, all in one format."""

    def __init__(self) -> None:
        super().__init__()  # stderr
        logging.captureWarnings(True)


class RequestIdFilter(logging.Filter):
    """Stamps each record with the current request id when it is emitted, in the emitting
    thread or job, whatever the handler does later. Django logs a 4xx or 5xx response after
    the middlewares have returned, but hands the request along: its id is on it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            on_request = getattr(getattr(record, "request", None), "request_id", None)
            record.request_id = current_request_id.get() or on_request or "-"
        return True


class JsonFormatter(logging.Formatter):
    """timestamp (ISO-8601 UTC), level, logger, message, request_id, and exception/stack text."""

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None)
        entry = {
            "timestamp": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": None if request_id in (None, "-") else request_id,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)

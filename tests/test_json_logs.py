"""Logs as one JSON object per line naming the request id, which the response carries back
(X-Request-ID), taken from the client when well formed; a bad LOG_FORMAT stops the process. The
request id in a real Celery worker's log lines: tests/integration/test_request_id.py."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from sebenzai.observability.context import current_request_id
from sebenzai.observability.logs import JsonFormatter, RequestIdFilter

ROOT = Path(__file__).resolve().parents[1]
NEW_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def json_lines():
    """What the root logger writes, through the settings' JSON formatter and filter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


def test_a_log_line_during_a_request_names_the_id_the_response_carries(json_lines, db):
    response = Client().get("/api/v1/no-such-thing/")  # Django logs "Not Found" (a warning)
    assert response.status_code == 404
    request_id = response["X-Request-ID"]
    assert NEW_ID.fullmatch(request_id)
    (line,) = [line for line in json_lines() if line["logger"] == "django.request"]
    assert line["request_id"] == request_id
    assert line["level"] == "WARNING"
    assert "/api/v1/no-such-thing/" in line["message"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["timestamp"])
    assert current_request_id.get() is None  # nothing leaks past the request


def test_a_well_formed_incoming_id_is_kept(json_lines, db):
    response = Client().get("/api/v1/no-such-thing/", HTTP_X_REQUEST_ID="nginx-4f2a.b_9")
    assert response["X-Request-ID"] == "nginx-4f2a.b_9"
    assert {line["request_id"] for line in json_lines()} == {"nginx-4f2a.b_9"}


@pytest.mark.parametrize(
    "incoming",
    ["a" * 65, "has space", "semi;colon", "<script>", "abc\r\nSet-Cookie: x=1", "é", ""],
)
def test_a_malformed_incoming_id_is_replaced_never_echoed(incoming, db):
    response = Client().get("/healthz", HTTP_X_REQUEST_ID=incoming)
    assert NEW_ID.fullmatch(response["X-Request-ID"])
    assert "Set-Cookie" not in response


def test_every_request_gets_a_fresh_id(db):
    first, second = (Client().get("/healthz")["X-Request-ID"] for _ in range(2))
    assert first != second


def test_an_exception_is_logged_on_the_same_line_with_its_traceback(json_lines):
    token = current_request_id.set("job-7")
    try:
        try:
            raise ValueError("boom\nsecond line")
        except ValueError:
            logging.getLogger("sebenzai.test").exception("it failed")
    finally:
        current_request_id.reset(token)
    (line,) = json_lines()
    assert line["request_id"] == "job-7"
    assert line["message"] == "it failed"
    assert "ValueError: boom" in line["exception"]
    assert "Traceback" in line["exception"]


def test_the_settings_log_json_by_default_without_debug_and_text_with_it():
    assert settings.LOGGING["handlers"]["console"]["formatter"] == settings.LOG_FORMAT
    assert set(settings.LOGGING["formatters"]) == {"json", "text"}


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "LOG_FORMAT", "LOG_LEVEL")}
    environment = {**base, "PYTHONPATH": str(ROOT), "SECRET_KEY": "s3cr3t-" + "abcdefgh" * 7,
                   "DJANGO_SETTINGS_MODULE": "sebenzai.settings", **env}  # fmt: skip
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


LOG_ONE = "import django, logging; django.setup(); logging.getLogger('probe').warning('a\\nb')"


def test_a_production_process_writes_one_json_object_per_line_on_stderr():
    done = _run(LOG_ONE, DEBUG="0")
    assert done.returncode == 0, done.stderr
    (line,) = done.stderr.splitlines()
    assert json.loads(line) == {**json.loads(line), "logger": "probe", "message": "a\nb",
                                "level": "WARNING", "request_id": None}  # fmt: skip


def test_debug_writes_text():
    done = _run(LOG_ONE, DEBUG="1")
    assert done.returncode == 0, done.stderr
    assert " WARNING probe [-] a" in done.stderr


@pytest.mark.parametrize(("name", "value"), [("LOG_FORMAT", "xml"), ("LOG_LEVEL", "LOUD")])
def test_a_bad_log_setting_stops_the_process_with_one_line_naming_it(name, value):
    done = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "DEBUG": "1", name: value},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert name in done.stderr
    assert value in done.stderr

"""A long-running process with a configuration mistake stops with one line naming the variable,
as manage.py does: gunicorn's master, a Celery worker and beat."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
COMMANDS = {
    "web": [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "sebenzai.wsgi"],
    "worker": [str(BIN / "celery"), "-A", "sebenzai", "worker", "-Q", "never-read"],
    "beat": [str(BIN / "celery"), "-A", "sebenzai", "beat"],
}
MISTAKES = {
    "SECRET_KEY": ({"SECRET_KEY": "short", "DEBUG": "0"}, "error: SECRET_KEY is too weak"),
    "LOG_LEVEL": ({"LOG_LEVEL": "LOUD", "DEBUG": "1"}, "error: LOG_LEVEL must be"),
}


def _production_env() -> dict[str, str]:
    """This environment with the production settings (pytest's names the tests' own), no
    database or broker."""
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return {**base, "DJANGO_SETTINGS_MODULE": "sebenzai.settings"}


@pytest.mark.parametrize("process", sorted(COMMANDS))
@pytest.mark.parametrize("variable", sorted(MISTAKES))
def test_a_configuration_mistake_stops_the_process_with_one_line(process, variable):
    env, first_words = MISTAKES[variable]
    base = _production_env()
    done = subprocess.run(
        COMMANDS[process],
        cwd=ROOT,
        env={**base, "PYTHONPATH": str(ROOT), "WEB_BIND": "127.0.0.1:0", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert done.stderr.strip().startswith(first_words), done.stderr[-2000:]
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr[-2000:]


def test_a_command_meeting_a_store_that_is_down_exits_with_one_line():
    base = _production_env()
    store = {"S3_BUCKET": "b", "S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
             "S3_ACCESS_KEY_ID": "k", "S3_SECRET_ACCESS_KEY": "s", "S3_CONNECT_TIMEOUT": "0.5"}  # fmt: skip
    touch = "from django.core.files.storage import default_storage; default_storage.exists('x')"
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", touch],
        cwd=ROOT,
        env={**base, "DEBUG": "1", **store},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "error: the file store did not answer (EndpointConnectionError); try again."
    )

"""A long-running process with a configuration mistake stops with one line naming the variable,
as manage.py does: gunicorn's master, a Celery worker and beat."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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


@pytest.mark.parametrize("process", sorted(COMMANDS))
@pytest.mark.parametrize("variable", sorted(MISTAKES))
def test_a_configuration_mistake_stops_the_process_with_one_line(process, variable):
    env, first_words = MISTAKES[variable]
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
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

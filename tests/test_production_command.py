"""One way to run the web process everywhere: the image's command and the compose file's are the
same ``gunicorn -c deploy/gunicorn.conf.py sebenzai.wsgi``, and that config file serves."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml

from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[1]
COMMAND = ["gunicorn", "-c", "deploy/gunicorn.conf.py", "sebenzai.wsgi"]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def test_the_image_and_the_compose_file_run_the_same_web_command():
    dockerfile = (ROOT / "Dockerfile").read_text().splitlines()
    cmd = json.loads(next(line for line in dockerfile if line.startswith("CMD "))[4:])
    assert cmd == COMMAND
    assert any("deploy/gunicorn.conf.py" in line for line in dockerfile if line.startswith("COPY"))
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert shlex.split(compose["services"]["web"]["command"]) == COMMAND


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return {**env, "DEBUG": "1", "PYTHONPATH": str(ROOT), **extra}


def test_the_config_file_serves_with_gthread_workers_sized_by_the_environment(tmp_path):
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = _env(WEB_BIND=f"127.0.0.1:{port}", WEB_WORKERS="2", WEB_THREADS="3")
    command = [GUNICORN, *COMMAND[1:], "--log-level", "debug", "--log-file", str(log)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text() if log.exists() else "no log"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not answer in 60 s"
                time.sleep(0.2)
        settings_logged = log.read_text()
        assert "worker_class: gthread" in settings_logged
        assert "workers: 2" in settings_logged
        assert "threads: 3" in settings_logged
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_a_bad_size_stops_it_with_one_line_naming_the_variable():
    done = subprocess.run(
        [GUNICORN, *COMMAND[1:]],
        cwd=ROOT,
        env=_env(WEB_THREADS="many"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert done.stderr.strip() == "WEB_THREADS must be a whole number of at least 1, got 'many'"

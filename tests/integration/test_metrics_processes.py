"""/metrics under the production command: gunicorn with deploy/gunicorn.conf.py, two worker
processes sharing the latency histogram through PROMETHEUS_MULTIPROC_DIR, JSON logs on stderr,
and a bad metrics or log setting stopping the server with one line."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.helpers import ROOT, worker_env

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
COMMAND = [GUNICORN, "-c", "deploy/gunicorn.conf.py", "sebenzai.wsgi"]
TOKEN = "t" * 40
needs_postgres = pytest.mark.skipif(
    not settings.USING_POSTGRES, reason="gunicorn runs in another process and reads the test's rows"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str, **headers: str) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def _wait_until_serving(port: int, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"gunicorn exited with {process.returncode}"
        try:
            if _get(port, "/readyz")[0] == 200:  # not /healthz: it would count in the histogram
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"gunicorn did not serve within {timeout:.0f} s")


@pytest.fixture
def gunicorn(transactional_db, tmp_path):
    """Two gunicorn workers (2 threads each) with a metrics folder that holds a stale file."""
    port, folder, log = _free_port(), tmp_path / "prometheus", tmp_path / "stderr.log"
    folder.mkdir()
    (folder / "histogram_999999.db").write_bytes(b"stale from a previous run")
    env = {**worker_env(settings.REDIS_URL or ""), "ALLOWED_HOSTS": "127.0.0.1",
           "WEB_BIND": f"127.0.0.1:{port}", "WEB_WORKERS": "2", "WEB_THREADS": "2",
           "PROMETHEUS_MULTIPROC_DIR": str(folder), "METRICS_TOKEN": TOKEN,
           "LOG_FORMAT": "json"}  # fmt: skip
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            COMMAND, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr,
            start_new_session=True,
        )  # fmt: skip
    try:
        _wait_until_serving(port, process)
        yield {"port": port, "folder": folder, "log": log, "process": process}
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _healthz_count(port: int) -> float:
    status, _, body = _get(port, "/metrics", Authorization=f"Bearer {TOKEN}")
    assert status == 200, body
    return sum(
        sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
        if sample.name == "sebenzai_http_request_duration_seconds_count"
        and sample.labels["route"] == "/healthz"
    )


def _worker_files(folder: Path) -> set[str]:
    return {path.name for path in folder.glob("histogram_*.db")}


@pytest.mark.integration
@needs_postgres
def test_the_latency_histogram_sums_every_gunicorn_worker(gunicorn):
    port, folder = gunicorn["port"], gunicorn["folder"]
    assert "histogram_999999.db" not in _worker_files(folder)  # emptied at start
    made, deadline = 0, time.monotonic() + 30
    with ThreadPoolExecutor(max_workers=4) as pool:
        # Until both workers have served (each keeps a file of its own), bounded in time.
        while len(_worker_files(folder)) < 2 and time.monotonic() < deadline:
            statuses = list(pool.map(lambda _: _get(port, "/healthz")[0], range(8)))
            assert statuses == [200] * 8
            made += 8
    assert len(_worker_files(folder)) >= 2, "one worker took every request"
    assert _healthz_count(port) == made
    assert _healthz_count(port) == made  # whichever worker answers the scrape

    # A worker that dies is replaced (child_exit marks it dead): what it served still counts.
    victim = int(sorted(_worker_files(folder))[0].split("_")[1].split(".")[0])
    os.kill(victim, signal.SIGKILL)
    time.sleep(1.0)
    for _ in range(4):
        assert _get(port, "/healthz")[0] == 200
    assert _healthz_count(port) == made + 4


@pytest.mark.integration
@needs_postgres
def test_the_web_process_logs_json_with_the_callers_request_id(gunicorn):
    status, headers, _ = _get(
        gunicorn["port"], "/api/v1/no-such-thing/", **{"X-Request-ID": "lb-77"}
    )
    assert status == 404
    assert headers["X-Request-ID"] == "lb-77"
    time.sleep(0.5)
    lines = [json.loads(line) for line in gunicorn["log"].read_text().splitlines()
             if line.startswith("{")]  # fmt: skip
    (line,) = [line for line in lines if line["logger"] == "django.request"]
    assert line["request_id"] == "lb-77"
    assert "no-such-thing" in line["message"]
    # gunicorn's own lines too: every line on stderr is one JSON object
    text = gunicorn["log"].read_text()
    assert [json.loads(line)["level"] for line in text.splitlines()]
    assert any(json.loads(line)["logger"] == "gunicorn.error" for line in text.splitlines())


def _start_fails(**env: str) -> str:
    done = subprocess.run(
        COMMAND, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    return done.stderr.strip()


def test_a_metrics_folder_that_cannot_be_written_stops_gunicorn_with_one_line(tmp_path):
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("")
    message = _start_fails(PROMETHEUS_MULTIPROC_DIR=str(in_the_way / "metrics"))
    assert message == (
        f"PROMETHEUS_MULTIPROC_DIR must be a folder we can write, got '{in_the_way}/metrics'"
    )


def test_a_bad_log_format_stops_gunicorn_with_one_line():
    assert _start_fails(LOG_FORMAT="xml") == "LOG_FORMAT must be json or text, got 'xml'"

"""The embedded default as a newcomer meets it: `scripts/demo`'s server (runserver, SQLite, tasks
in-process) with ten people labelling at once and a requester exporting meanwhile: no 5xx.

Runs whatever database the suite uses: the server is a child process on a SQLite file of its own.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from tests.demo_server import demo_env, demo_server

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = 10
ANSWERS_EACH = 12
DEADLINE_SECONDS = 120


def _call(base: str, method: str, path: str, body: dict | None, token: str | None):
    request = urllib.request.Request(  # noqa: S310 - loopback only
        base + path,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Content-Type": "application/json", **({"Authorization": f"Token {token}"} if token else {})},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
            raw = response.read()
            return response.status, response.headers.get("Content-Type", ""), raw
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


@pytest.fixture
def demo(tmp_path):
    env = demo_env(
        tmp_path,
        MIN_ANSWER_MS="0",
        THROTTLE_REGISTER="1000/min",
        THROTTLE_LOGIN="1000/min",
        THROTTLE_EXPORT="1000/min",
    )
    with demo_server(env, images=20) as base:
        yield base


def _labeller(base: str, name: str, statuses: Counter, lock: threading.Lock) -> None:
    def record(status: int) -> None:
        with lock:
            statuses[status] += 1

    status, _, raw = _call(base, "POST", "/api/v1/auth/register/", {"username": name, "password": "demo-" + name * 3}, None)  # fmt: skip
    record(status)
    token = json.loads(raw)["token"]
    deadline = time.monotonic() + DEADLINE_SECONDS
    for _ in range(ANSWERS_EACH):
        if time.monotonic() > deadline:
            return
        status, _, raw = _call(base, "POST", "/api/v1/work/next/", {}, token)
        record(status)
        if status != 200:
            continue
        work = json.loads(raw)
        payload = _answer(work)
        status, _, _ = _call(base, "POST", f"/api/v1/work/assignments/{work['assignment']}/submit/", {"payload": payload, "duration_ms": 3000}, token)  # fmt: skip
        record(status)


def _answer(work: dict) -> dict:
    first = work["labels"][0]["name"] if work["labels"] else None
    return {
        "classification": {"label": first},
        "moderation": {"verdict": "safe", "categories": []},
        "bbox": {"boxes": [{"label": first, "bbox": [1, 1, 10, 10]}]},
        "polygon": {"polygons": [{"label": first, "points": [[1, 1], [12, 1], [6, 9]]}]},
    }[work["kind"]]


def _exporter(base: str, statuses: Counter, bodies: list, lock: threading.Lock) -> None:
    _, _, raw = _call(base, "POST", "/api/v1/auth/token/", {"username": "demo-requester", "password": "sebenzai-demo"}, None)  # fmt: skip
    token = json.loads(raw)["token"]
    _, _, raw = _call(base, "GET", "/api/v1/projects/", None, token)
    projects = [p["id"] for p in json.loads(raw)["results"]]
    for project in projects:
        status, kind, raw = _call(base, "POST", f"/api/v1/projects/{project}/exports/", {"format": "csv"}, token)  # fmt: skip
        with lock:
            statuses[status] += 1
            bodies.append((status, kind))


def test_ten_people_labelling_at_once_on_the_demo_database_get_no_server_error(demo):
    statuses, bodies, lock = Counter(), [], threading.Lock()
    threads = [
        threading.Thread(target=_labeller, args=(demo, f"crowd{i}", statuses, lock))
        for i in range(CLIENTS)
    ]
    threads.append(threading.Thread(target=_exporter, args=(demo, statuses, bodies, lock)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=DEADLINE_SECONDS + 60)
    server_errors = {code: n for code, n in statuses.items() if code >= 500}
    assert server_errors == {}, statuses
    assert statuses[201] >= CLIENTS * ANSWERS_EACH // 2, statuses  # people did get work done
    assert all(kind.startswith("application/json") for _, kind in bodies), bodies

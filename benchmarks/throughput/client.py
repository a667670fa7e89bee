"""The client side: one persistent HTTP connection per thread, acting in turn for its worker
accounts — ``work/next/`` then ``work/assignments/<id>/submit/`` — and tallying latencies and
errors."""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass, field

from benchmarks.harness.services import HOST

LABELS = ("car", "taxi", "truck")
MAX_ERRORS_PER_ACCOUNT = 20


class Client:
    """One persistent HTTP/1.1 connection (http.client reconnects by itself when the server
    closes it, as gunicorn's sync workers do after every response)."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)
        self.closed_by_server = 0

    def post(self, path: str, body: dict, token: str) -> tuple[int, bytes, float]:
        raw = json.dumps(body).encode()
        headers = {
            "Authorization": f"Token {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        start = time.perf_counter()
        try:
            self.conn.request("POST", path, raw, headers)
            response = self.conn.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            raise
        elapsed = time.perf_counter() - start
        if response.will_close:
            self.closed_by_server += 1
        return response.status, data, elapsed

    def get(self, path: str, token: str) -> int:
        self.conn.request("GET", path, headers={"Authorization": f"Token {token}"})
        response = self.conn.getresponse()
        response.read()
        return response.status

    def close(self) -> None:
        self.conn.close()


def label_for(task_id: str) -> str:
    """Every worker gives a task the same label, so all tasks can reach acceptance."""
    return LABELS[int(task_id.replace("-", ""), 16) % len(LABELS)]


@dataclass
class Tally:
    next_latency: list[float] = field(default_factory=list)
    submit_latency: list[float] = field(default_factory=list)
    submitted: int = 0
    empty: int = 0  # 204 from next-task
    errors: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)
    last_submit: float = 0.0
    closed_by_server: int = 0
    requests: int = 0

    def error(self, what: str, detail: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1
        if len(self.samples) < 5:
            self.samples.append(f"{what}: {detail[:300]}")

    def merge(self, other: Tally) -> None:
        self.next_latency += other.next_latency
        self.submit_latency += other.submit_latency
        self.submitted += other.submitted
        self.empty += other.empty
        for key, value in other.errors.items():
            self.errors[key] = self.errors.get(key, 0) + value
        self.samples += other.samples[: max(0, 5 - len(self.samples))]
        self.last_submit = max(self.last_submit, other.last_submit)
        self.closed_by_server += other.closed_by_server
        self.requests += other.requests


@dataclass
class Stream:
    """One worker account's answers. With ``carry`` each submit asks for the next lease in the
    same request (``"next"``) and the lease it carries back is answered next; without, every
    answer takes two requests: work/next/ then submit."""

    token: str
    carry: bool = False
    lease: dict | None = None


def pair(client: Client, stream: Stream, project: str | None, tally: Tally) -> bool | None:
    """One next-task + submit. True: submitted; False: nothing left for this worker; None: error.
    ``project`` None asks for work from any project, as the labelling page does."""
    lease, stream.lease = stream.lease, None
    if lease is None:
        lease = _lease(client, stream.token, project, tally)
        if not lease:
            return lease
    body = {"payload": {"label": label_for(lease["task"])}, "duration_ms": 1000}
    if stream.carry:
        body["next"] = {"project": project} if project else {}
    path = f"/api/v1/work/assignments/{lease['assignment']}/submit/"
    try:
        status, data, elapsed = client.post(path, body, stream.token)
    except (http.client.HTTPException, OSError) as exc:
        tally.error("submit:connection", repr(exc))
        return None
    tally.requests += 1
    tally.submit_latency.append(elapsed)
    if status != 201:
        tally.error(f"submit:{status}", data.decode(errors="replace"))
        return None
    tally.submitted += 1
    tally.last_submit = time.perf_counter()
    if stream.carry:
        stream.lease = json.loads(data)["next"]
    return True


def _lease(client: Client, token: str, project: str | None, tally: Tally) -> dict | bool | None:
    """work/next/: the lease; False on 204 (nothing left); None on an error."""
    body = {"project": project} if project else {}
    try:
        status, data, elapsed = client.post("/api/v1/work/next/", body, token)
    except (http.client.HTTPException, OSError) as exc:
        tally.error("next:connection", repr(exc))
        return None
    tally.requests += 1
    tally.next_latency.append(elapsed)
    if status == 204:
        tally.empty += 1
        return False
    if status != 200:
        tally.error(f"next:{status}", data.decode(errors="replace"))
        return None
    return json.loads(data)


def crowd_client(
    port: int,
    streams: list[Stream],
    project: str | None,
    barrier: threading.Barrier,
    tally: Tally,
):
    """Act in turn for each of ``streams`` until none of them is offered a task."""
    client = Client(port)
    errors = {stream.token: 0 for stream in streams}
    try:
        barrier.wait()
        active = list(streams)
        while active:
            for stream in list(active):
                outcome = pair(client, stream, project, tally)
                if outcome is None:
                    errors[stream.token] += 1
                if outcome is False or errors[stream.token] >= MAX_ERRORS_PER_ACCOUNT:
                    active.remove(stream)
    finally:
        tally.closed_by_server += client.closed_by_server
        client.close()


def warm_up(port: int, token: str, threads: int = 8, each: int = 10) -> None:
    """Touch every gunicorn worker (URLconf, DB connection) before anything is timed."""

    def hammer():
        client = Client(port)
        try:
            for _ in range(each):
                client.get("/api/v1/me/", token)
        finally:
            client.close()

    pool = [threading.Thread(target=hammer) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()

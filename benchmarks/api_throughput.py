#!/usr/bin/env python
"""Throughput of the worker API against the production set-up, on this machine's loopback.

Starts gunicorn, a Celery worker, a database of its own on the local PostgreSQL and a Redis
database number of its own, then measures:

(a) a crowd of worker accounts giving 3 answers on each of 2,000 tasks (6,000 submissions)
    through 8 concurrent clients: each client thread holds one persistent HTTP connection and
    acts, in turn, for its own 3 worker accounts, POSTing ``work/next/`` then
    ``work/assignments/<id>/submit/``. Reported: submissions/s over the wall time, latency
    percentiles of the submit call and of the next-task call, and — after waiting for the Celery
    worker to drain — how many tasks ended accepted and the scoring lag (last submit until every
    answer is scored). Each task gets the same label from all three workers, so all should end
    accepted: a check that the whole pipeline ran.
(b) one worker's sequential next-task + submit stream (500 pairs): pairs/s.

It also reports where the CPU went (gunicorn, PostgreSQL, Celery, Redis, the client, and other
processes on the machine, read from /proc), because on 2 cores the app's figures are a CPU
budget, and a machine shared with other work understates them.

Each run starts both scenarios from the same freshly seeded database (cloned from a template that
is migrated and seeded once per invocation), with a flushed Redis database and freshly started
servers. ``--runs K`` (default 3) repeats; the table shows medians and compares them with Label
Studio 1.23's published figures on the same kind of 2-core machine.

    .venv/bin/python benchmarks/api_throughput.py [--runs 3] [--gunicorn-workers 4]
    .venv/bin/python benchmarks/api_throughput.py --app-dir /tmp/other-revision   # a worktree

gunicorn runs 4 sync workers by default (as docker-compose does): 2 per core, since a request
spends a good part of its time waiting on PostgreSQL. The Celery worker runs with -c 1.

Planner statistics: the template is VACUUM ANALYZEd after seeding, and when the server runs with
autovacuum off (a bare CI box) the script ANALYZEs every 15 s during a scenario, as autovacuum
would in production; ``--no-analyze`` shows the app on never-analyzed tables instead.

Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth) and Redis at 127.0.0.1:6379; it
creates and drops the databases ``sebenzai_bench`` and ``sebenzai_bench_tpl`` and flushes Redis
database 14. The last run's database is left in place for inspection (dropped at the next run).
Figures are also written as JSON to ``benchmarks/out/``.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"

try:  # the project's own dependencies; re-run under its virtualenv when started with another Python
    import psycopg2
    import redis
except ImportError:
    if (VENV / "python").exists() and Path(sys.prefix).resolve() != VENV.parent.resolve():
        os.execv(VENV / "python", [VENV / "python", __file__, *sys.argv[1:]])  # noqa: S606
    sys.exit("error: run this with the project's virtualenv: .venv/bin/python " + __file__)

HOST = "127.0.0.1"
LABELS = ("car", "taxi", "truck")
# Label Studio 1.23, PostgreSQL, 4 gunicorn workers, 2-core machine (the reference).
LS_SUBMITS_PER_S = 23.6
LS_SUBMIT_P99_MS = 625.0
LS_PAIRS_PER_S = 10.4
BARE_DRF_REQ_PER_S = 270.0
TARGET_FACTOR = 5.0


# --------------------------------------------------------------------------------------------
# Checks and infrastructure
# --------------------------------------------------------------------------------------------


class BenchError(Exception):
    """A failure worth one readable line."""


def pg_connect(args, dbname: str = "postgres"):
    conn = psycopg2.connect(
        host=args.pg_host, port=args.pg_port, user=args.pg_user, dbname=dbname, connect_timeout=3
    )
    conn.autocommit = True
    return conn


def services_check(args) -> None:
    try:
        pg_connect(args).close()
    except psycopg2.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BenchError(
            f"PostgreSQL is not reachable at {args.pg_host}:{args.pg_port} as user {args.pg_user}: {reason}"
        ) from exc
    try:
        redis_client(args).ping()
    except redis.RedisError as exc:
        raise BenchError(
            f"Redis is not reachable at {args.redis_host}:{args.redis_port}: {exc}"
        ) from exc


def redis_client(args) -> redis.Redis:
    return redis.Redis(
        host=args.redis_host,
        port=args.redis_port,
        db=args.redis_db,
        socket_timeout=3,
        socket_connect_timeout=3,
    )


def db_recreate(args, name: str, template: str | None = None) -> None:
    conn = pg_connect(args)
    try:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if template:
                cur.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            else:
                cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()


def db_drop(args, name: str) -> None:
    conn = pg_connect(args)
    try:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        conn.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def app_env(args, *, database: str, media_root: Path, secret_key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    redis_url = f"redis://{args.redis_host}:{args.redis_port}/{args.redis_db}"
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "sebenzai.settings",
            "DATABASE_URL": f"postgres://{args.pg_user}@{args.pg_host}:{args.pg_port}/{database}",
            "REDIS_URL": redis_url,
            "CACHE_URL": redis_url,
            "SECRET_KEY": secret_key,
            # the clients answer at machine speed: measure the app, not the pace and rate limits
            # (the throttles still run, and still cost their cache round trip)
            "MIN_ANSWER_MS": "0",
            "THROTTLE_WORK": "1000000/min",
            "THROTTLE_SUBMIT": "1000000/min",
            "DEBUG": "0",
            "ALLOWED_HOSTS": HOST,
            "MEDIA_ROOT": str(media_root),
            "STATIC_ROOT": str(media_root.parent / "static"),
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            # The app under test comes first, ahead of the virtualenv's editable install.
            "PYTHONPATH": str(args.app_dir),
        }
    )
    return env


def run_checked(cmd: list[str], env: dict[str, str], what: str, log: Path, cwd: Path) -> None:
    with log.open("ab") as out:
        result = subprocess.run(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise BenchError(f"{what} failed (exit {result.returncode}); see {log}:\n{tail(log)}")


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class Service:
    """A child process in a session of its own, so it and only its children can be stopped."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], log: Path, cwd: Path):
        self.name, self.log = name, log
        self._out = log.open("ab")
        self.proc = subprocess.Popen(
            cmd,
            env=env,
            cwd=cwd,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, grace: float = 20.0) -> None:
        if self.alive():  # the leader stops its own workers gracefully
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        # Children left behind by a dead leader (a gunicorn worker, a Celery child) go too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._out.close()


@dataclass
class Stack:
    """gunicorn + Celery worker over one database."""

    port: int
    gunicorn: Service
    celery: Service

    def stop(self) -> None:
        for service in (self.gunicorn, self.celery):
            service.stop()


STACKS: list[Stack] = []  # live stacks, stopped on any exit


def stack_start(args, env: dict[str, str], logdir: Path, label: str) -> Stack:
    port = free_port()
    gunicorn_cmd = [
        str(VENV / "gunicorn"),
        "sebenzai.wsgi",
        "-w",
        str(args.gunicorn_workers),
        "-k",
        args.gunicorn_class,
        "-b",
        f"{HOST}:{port}",
        "--log-level",
        "warning",
    ]
    if args.gunicorn_class == "gthread":
        gunicorn_cmd += ["--threads", str(args.gunicorn_threads)]
    celery_cmd = [
        str(VENV / "celery"),
        "-A",
        "sebenzai",
        "worker",
        "-c",
        str(args.celery_concurrency),
        "--pool=prefork",
        "-l",
        "INFO",
        "-n",
        f"bench-{label}@%h",
        "--without-gossip",
        "--without-mingle",
    ]
    gunicorn = Service(
        "gunicorn", gunicorn_cmd, env, logdir / f"gunicorn-{label}.log", args.app_dir
    )
    celery = Service("celery", celery_cmd, env, logdir / f"celery-{label}.log", args.app_dir)
    stack = Stack(port, gunicorn, celery)
    STACKS.append(stack)
    deadline = time.monotonic() + 60
    http_ready = celery_ready = False
    while not (http_ready and celery_ready):
        for service in (gunicorn, celery):
            if not service.alive():
                raise BenchError(
                    f"{service.name} exited at start; see {service.log}:\n{tail(service.log)}"
                )
        if not http_ready:
            http_ready = http_answers(port)
        if not celery_ready:
            celery_ready = " ready." in celery.log.read_text(errors="replace")
        if time.monotonic() > deadline:
            raise BenchError(
                f"servers not ready after 60 s (gunicorn {http_ready}, celery {celery_ready}); logs in {logdir}"
            )
        time.sleep(0.2)
    return stack


def http_answers(port: int) -> bool:
    conn = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        conn.request("GET", "/api/v1/me/")
        conn.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        conn.close()


CLK_TCK = os.sysconf("SC_CLK_TCK")
ROLES = ("gunicorn", "postgres", "celery", "redis", "client", "other")


def _postgres_role(pid: Path, database: str) -> str:
    """A backend serving another database is someone else's load; the server's own background
    processes (WAL writer, checkpointer, the postmaster) are counted as PostgreSQL's."""
    try:
        title = (pid / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "other"
    words = title.split(": ", 2)[-1].split()
    is_backend = len(words) >= 3 and ("(" in words[2] or words[2] == "[local]")
    return "postgres" if not is_backend or words[1] == database else "other"


def cpu_seconds(stack: Stack, database: str) -> dict[str, float]:
    """CPU time used so far, by role: gunicorn, Celery, PostgreSQL (backends of ``database`` and
    the server's background processes), Redis, this client, and everything else on the machine
    ("other": busy time in /proc/stat minus the roles). Exited children (a recycled Celery child,
    a closed PostgreSQL backend) count through their parent's cutime/cstime once reaped."""
    roles = {stack.gunicorn.proc.pid: "gunicorn", stack.celery.proc.pid: "celery"}
    totals = dict.fromkeys(ROLES, 0.0)
    # user nice system idle iowait irq softirq steal: busy = all but idle and iowait
    cpu = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    busy = (sum(cpu) - cpu[3] - cpu[4]) / CLK_TCK
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        pgrp, ticks = int(fields[2]), sum(int(x) for x in fields[11:15])
        if int(entry.name) == os.getpid():
            role = "client"
        elif pgrp in roles:
            role = roles[pgrp]
        elif comm.startswith("postgres"):
            role = _postgres_role(entry, database)
        elif comm.startswith("redis-server"):
            role = "redis"
        else:
            continue
        totals[role] += ticks / CLK_TCK
    totals["other"] = busy - sum(totals.values())
    return totals


def cpu_share(before: dict[str, float], after: dict[str, float], wall: float) -> dict[str, float]:
    """Cores used by each role over ``wall`` seconds (1.0 = one core busy all the time)."""
    return {role: (after[role] - before[role]) / wall for role in before}


def stacks_stop() -> None:
    while STACKS:
        STACKS.pop().stop()


# --------------------------------------------------------------------------------------------
# Seeding (runs in a subprocess with the application's environment)
# --------------------------------------------------------------------------------------------


def seed_main(out_path: str, tasks: int, accounts: int, app_dir: Path) -> None:
    """Requester, one active classification project of ``tasks`` tiny PNGs, ``accounts`` crowd
    workers plus one solo worker, each with an API token. Writes ids and tokens as JSON."""
    import io

    sys.path.insert(0, str(app_dir))
    import django

    django.setup()
    from PIL import Image
    from rest_framework.authtoken.models import Token

    from accounts.models import Role
    from accounts.services import user_create
    from annotations.models import ProjectStatus
    from annotations.services.intake import IncomingFile, tasks_create_from_files
    from annotations.services.projects import project_create

    def png(i: int) -> bytes:
        image = Image.new("RGB", (32, 32), (i % 256, (i // 256) % 256, 97))
        image.putpixel((i % 32, (i // 32) % 32), (255 - i % 256, 7, (i * 7) % 256))
        out = io.BytesIO()
        image.save(out, "PNG")
        return out.getvalue()

    def account(name: str, role: str):
        user = user_create(username=name, password=secrets.token_urlsafe(18), role=role)
        return user, Token.objects.create(user=user).key

    requester, requester_token = account("bench-requester", Role.REQUESTER)
    project = project_create(
        owner=requester,
        data={
            "name": "Benchmark classification",
            "kind": "classification",
            "labels": list(LABELS),
            "instructions": "Which vehicle is in the picture?",
            "redundancy_min": 3,
            "redundancy_max": 5,
            "acceptance_threshold": 0.9,
            "gold_ratio": 0.0,
        },
    )
    files = (
        IncomingFile(f"images[{i}]", f"bench-{i:05d}.png", lambda i=i: png(i)) for i in range(tasks)
    )
    report = tasks_create_from_files(project=project, files=files)
    if len(report.created) != tasks:
        raise SystemExit(
            f"seed: {len(report.created)} of {tasks} tasks created: {report.errors[:3]}"
        )
    project.status = ProjectStatus.ACTIVE
    project.save(update_fields=["status"])
    crowd = [account(f"bench-crowd-{i:03d}", Role.WORKER)[1] for i in range(accounts)]
    solo = account("bench-solo", Role.WORKER)[1]
    Path(out_path).write_text(
        json.dumps(
            {
                "project": str(project.pk),
                "requester": requester_token,
                "crowd": crowd,
                "solo": solo,
                "tasks": tasks,
            }
        )
    )


# --------------------------------------------------------------------------------------------
# HTTP client
# --------------------------------------------------------------------------------------------


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


MAX_ERRORS_PER_ACCOUNT = 20


def pair(client: Client, token: str, project: str | None, tally: Tally) -> bool | None:
    """One next-task + submit. True: submitted; False: nothing left for this worker; None: error.
    ``project`` None asks for work from any project, as the labelling page does."""
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
    lease = json.loads(data)
    body = {"payload": {"label": label_for(lease["task"])}, "duration_ms": 1000}
    path = f"/api/v1/work/assignments/{lease['assignment']}/submit/"
    try:
        status, data, elapsed = client.post(path, body, token)
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
    return True


def asked_project(args, seed: dict) -> str | None:
    return None if args.without_project else seed["project"]


def crowd_client(
    port: int, tokens: list[str], project: str | None, barrier: threading.Barrier, tally: Tally
):
    """Act in turn for each of ``tokens`` until none of them is offered a task."""
    client = Client(port)
    errors = dict.fromkeys(tokens, 0)
    try:
        barrier.wait()
        active = list(tokens)
        while active:
            for token in list(active):
                outcome = pair(client, token, project, tally)
                if outcome is None:
                    errors[token] += 1
                if outcome is False or errors[token] >= MAX_ERRORS_PER_ACCOUNT:
                    active.remove(token)
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


# --------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank), in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1] * 1000


def latency_summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": pct(values, 50),
        "p95": pct(values, 95),
        "p99": pct(values, 99),
        "max": max(values) * 1000 if values else float("nan"),
    }


def scenario_a(args, seed: dict, stack: Stack, bench_db: str, rds: redis.Redis) -> dict:
    port = stack.port
    crowd = seed["crowd"]
    per = args.accounts_per_client
    tallies = [Tally() for _ in range(args.clients)]
    barrier = threading.Barrier(args.clients + 1)
    threads = [
        threading.Thread(
            target=crowd_client,
            args=(
                port,
                crowd[i * per : (i + 1) * per],
                asked_project(args, seed),
                barrier,
                tallies[i],
            ),
            daemon=True,
        )
        for i in range(args.clients)
    ]
    for t in threads:
        t.start()
    cpu_before = cpu_seconds(stack, bench_db)
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    cpu = cpu_share(cpu_before, cpu_seconds(stack, bench_db), wall)
    tally = Tally()
    for part in tallies:
        tally.merge(part)
    backlog = rds.llen("celery")
    drain = drain_wait(args, bench_db, seed["project"], tally.last_submit)
    return {
        "wall_s": wall,
        "submitted": tally.submitted,
        "expected": seed["tasks"] * 3,
        "submits_per_s": tally.submitted / wall,
        "requests_per_s": tally.requests / wall,
        "submit_ms": latency_summary(tally.submit_latency),
        "next_ms": latency_summary(tally.next_latency),
        "next_empty": tally.empty,
        "errors": tally.errors,
        "error_samples": tally.samples,
        "closed_by_server": tally.closed_by_server,
        "requests": tally.requests,
        "queue_at_end": backlog,
        "cpu_cores": cpu,
        **drain,
    }


def drain_wait(args, bench_db: str, project: str, last_submit: float) -> dict:
    """Poll until no answer awaits scoring (every scoring job has run: the tasks are decided,
    or left open when consensus asked for more answers than the crowd gave)."""
    conn = pg_connect(args, bench_db)
    deadline = time.perf_counter() + args.drain_timeout
    try:
        with conn.cursor() as cur:
            while True:
                cur.execute(
                    "SELECT count(*) FILTER (WHERE state = 'open'),"
                    " count(*) FILTER (WHERE state = 'accepted'),"
                    " count(*) FILTER (WHERE state = 'review'), count(*)"
                    " FROM annotations_task WHERE project_id = %s",
                    [project],
                )
                open_, accepted, review, total = cur.fetchone()
                cur.execute(
                    "SELECT count(*) FILTER (WHERE score_state = 'pending'),"
                    " count(*) FILTER (WHERE score_state = 'failed'), count(*)"
                    " FROM annotations_annotation"
                )
                pending, failed, answers = cur.fetchone()
                now = time.perf_counter()
                drained = pending == 0
                if drained or now > deadline:
                    break
                time.sleep(0.1)
            cur.execute("SELECT count(*) FROM consensus_consensusresult WHERE decision = 'accept'")
            results_accepted = cur.fetchone()[0]
            over_assigned, double_answers = integrity_counts(cur, project)
    finally:
        conn.close()
    return {
        "drained": drained,
        "scoring_lag_s": max(0.0, now - last_submit) if drained else float("nan"),
        "tasks_total": total,
        "tasks_accepted": accepted,
        "tasks_review": review,
        "tasks_open": open_,
        "answers": answers,
        "answers_pending": pending,
        "answers_failed": failed,
        "results_accepted": results_accepted,
        "over_assigned": over_assigned,
        "double_answers": double_answers,
    }


def integrity_counts(cur, project: str) -> tuple[int, int]:
    """Tasks holding more answers than the project's redundancy_max, and (task, worker) pairs
    answered twice: both must be zero however many clients raced for the same tasks."""
    cur.execute(
        "SELECT count(*) FROM annotations_task t JOIN annotations_project p ON p.id = t.project_id"
        " WHERE t.project_id = %s AND p.redundancy_max <"
        " (SELECT count(*) FROM annotations_annotation a WHERE a.task_id = t.id)",
        [project],
    )
    over_assigned = cur.fetchone()[0]
    cur.execute(
        "SELECT count(*) FROM (SELECT 1 FROM annotations_annotation"
        " GROUP BY task_id, worker_id HAVING count(*) > 1) AS twice"
    )
    return over_assigned, cur.fetchone()[0]


def scenario_b(args, seed: dict, stack: Stack) -> dict:
    client = Client(stack.port)
    tally = Tally()
    cpu_before = cpu_seconds(stack, args.db)
    start = time.perf_counter()
    try:
        done = 0
        while done < args.pairs:
            outcome = pair(client, seed["solo"], asked_project(args, seed), tally)
            if outcome is False:
                break
            if outcome is None and sum(tally.errors.values()) >= MAX_ERRORS_PER_ACCOUNT:
                break
            done += bool(outcome)
    finally:
        client.close()
    wall = time.perf_counter() - start
    return {
        "wall_s": wall,
        "cpu_cores": cpu_share(cpu_before, cpu_seconds(stack, args.db), wall),
        "pairs": tally.submitted,
        "pairs_per_s": tally.submitted / wall,
        "next_ms": latency_summary(tally.next_latency),
        "submit_ms": latency_summary(tally.submit_latency),
        "errors": tally.errors,
        "error_samples": tally.samples,
    }


PROBLEM_MARKERS = (
    "Traceback",
    "[ERROR]",
    "ERROR/",
    "Internal Server Error",
    "Retry in",
    "WorkerLost",
)


def log_problems(logdir: Path, run: int) -> dict[str, int]:
    """Error lines in one run's server logs: a clean run has none."""
    counts: dict[str, int] = {}
    for log in sorted(logdir.glob(f"*-{run}[ab].log")):
        text = log.read_text(errors="replace")
        hits = sum(
            1 for line in text.splitlines() if any(marker in line for marker in PROBLEM_MARKERS)
        )
        if hits:
            counts[log.name] = hits
    return counts


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def machine_info(args) -> dict[str, str]:
    import celery
    import django
    import gunicorn

    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    conn = pg_connect(args)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW server_version")
            pg_version = cur.fetchone()[0].split()[0]
    finally:
        conn.close()
    redis_version = redis_client(args).info("server").get("redis_version", "?")
    mem_kb = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_kb = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": model,
        "memory": f"{mem_kb / 1024 / 1024:.0f} GiB",
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": pg_version,
        "redis": redis_version,
        "gunicorn": gunicorn.__version__,
        "celery": celery.__version__,
    }


APP_ROLES = ("gunicorn", "postgres", "celery", "redis")


def cpu_row(values: dict[str, float], digits: int) -> str:
    app = sum(values[r] for r in APP_ROLES)
    cells = [fmt(values[r], digits) for r in APP_ROLES]
    cells += [f"**{fmt(app, digits)}**", fmt(values["client"], digits)]
    cells += [fmt(values["other"], digits), fmt(sum(values.values()), digits)]
    return " | ".join(cells)


def p99_ratio(p99: float) -> str:
    if p99 != p99:
        return "n/a"
    if p99 <= LS_SUBMIT_P99_MS:
        return f"p99 {LS_SUBMIT_P99_MS / p99:.1f}× lower"
    return f"p99 {p99 / LS_SUBMIT_P99_MS:.1f}× higher"


def med(values: list[float]) -> float:
    values = [v for v in values if v == v]  # drop NaN
    return statistics.median(values) if values else float("nan")


def fmt(value: float, digits: int = 1) -> str:
    return "n/a" if value != value else f"{value:,.{digits}f}"


def report(args, runs: list[dict], machine: dict[str, str], seed_s: float) -> str:
    a = [r["a"] for r in runs if "a" in r]
    b = [r["b"] for r in runs if "b" in r]
    subs = med([x["submits_per_s"] for x in a])
    p50, p95, p99 = (med([x["submit_ms"][q] for x in a]) for q in ("p50", "p95", "p99"))
    n50, n95, n99 = (med([x["next_ms"][q] for x in a]) for q in ("p50", "p95", "p99"))
    reqs = med([x["requests_per_s"] for x in a])
    pairs = med([x["pairs_per_s"] for x in b])
    b_next = med([x["next_ms"]["p50"] for x in b])
    b_submit = med([x["submit_ms"]["p50"] for x in b])
    lag = med([x["scoring_lag_s"] for x in a])
    accepted = med([x["tasks_accepted"] for x in a])
    roles = ROLES
    # CPU per submission in (a), in ms, by role: what a submission costs the machine while
    # the crowd works (Celery's backlog after the last submit is not in it).
    cost = {
        role: med([x["cpu_cores"][role] * x["wall_s"] / max(x["submitted"], 1) * 1000 for x in a])
        for role in roles
    }
    cores = {role: med([x["cpu_cores"][role] for x in a]) for role in roles}
    b_cost = {
        role: med([x["cpu_cores"][role] * x["wall_s"] / max(x["pairs"], 1) * 1000 for x in b])
        for role in roles
    }
    k = len(runs)
    workers = f"{args.gunicorn_workers} {args.gunicorn_class}"
    if args.gunicorn_class == "gthread":
        workers += f" × {args.gunicorn_threads} threads"

    def verdict(ratio: float) -> str:
        if ratio != ratio:
            return "n/a"
        return f"{ratio:.1f}× ({'meets' if ratio >= TARGET_FACTOR else 'below'} {TARGET_FACTOR:g}×)"

    lines = [
        f"## Worker API throughput (median of {k} run{'s' if k > 1 else ''})",
        "",
        f"gunicorn {workers} workers, Celery worker -c {args.celery_concurrency} prefork, "
        f"PostgreSQL {machine['postgresql']}, Redis {machine['redis']}, all on {HOST}; "
        f"{args.clients} client threads with one persistent connection each; work/next/ "
        + ("without a project." if args.without_project else "names the project."),
        "",
        "| scenario | Sebenzai | Label Studio 1.23 | ratio |",
        "| --- | ---: | ---: | ---: |",
        f"| (a) submissions/s — {args.tasks:,} tasks × 3 answers, {args.clients} clients | "
        f"**{fmt(subs)}** | {LS_SUBMITS_PER_S} | {verdict(subs / LS_SUBMITS_PER_S)} |",
        f"| (a) submit latency p50 / p95 / p99 (ms) | {fmt(p50)} / {fmt(p95)} / **{fmt(p99)}** | "
        f"– / – / {LS_SUBMIT_P99_MS:.0f} | {p99_ratio(p99)} |",
        f"| (a) next-task latency p50 / p95 / p99 (ms) | {fmt(n50)} / {fmt(n95)} / {fmt(n99)} | – | – |",
        f"| (a) API requests/s (next + submit) | {fmt(reqs)} | bare DRF endpoint ≈ {BARE_DRF_REQ_PER_S:.0f} | "
        f"{reqs / BARE_DRF_REQ_PER_S:.2f}× |",
        f"| (b) next + submit pairs/s — 1 worker, {args.pairs} pairs | **{fmt(pairs)}** | {LS_PAIRS_PER_S} | "
        f"{verdict(pairs / LS_PAIRS_PER_S)} |",
        f"| (b) next / submit latency p50 (ms) | {fmt(b_next)} / {fmt(b_submit)} | – | – |",
        f"| pipeline: tasks accepted after (a) | {accepted:,.0f} / {args.tasks:,} | – | – |",
        f"| pipeline: scoring lag, last submit → every answer scored (s) | {fmt(lag)} | – | – |",
        "",
        "Where the CPU goes (medians):",
        "",
        "| | " + " | ".join(APP_ROLES) + " | **app** | client | other | machine |",
        "| --- |" + " ---: |" * (len(APP_ROLES) + 4),
        "| (a) cores busy | " + cpu_row(cores, 2) + f" of {machine['nproc']} |",
        "| (a) CPU ms per submission | " + cpu_row(cost, 1) + " |",
        "| (b) CPU ms per pair | " + cpu_row(b_cost, 1) + " |",
        "",
        "Per run:",
        "",
        "| run | (a) subs/s | submit p50/p95/p99 ms | next p50/p95/p99 ms | submitted | errors | "
        "queue at end | accepted | lag s | (b) pairs/s | (b) errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    missing_b = {"pairs_per_s": float("nan"), "errors": {}}
    for i, run in enumerate(runs, 1):
        ra, rb = run["a"], run.get("b", missing_b)
        sm, nm = ra["submit_ms"], ra["next_ms"]
        lines.append(
            f"| {i} | {fmt(ra['submits_per_s'])} | {fmt(sm['p50'])}/{fmt(sm['p95'])}/{fmt(sm['p99'])} | "
            f"{fmt(nm['p50'])}/{fmt(nm['p95'])}/{fmt(nm['p99'])} | {ra['submitted']:,}/{ra['expected']:,} | "
            f"{sum(ra['errors'].values())} | {ra['queue_at_end']:,} | {ra['tasks_accepted']:,} | "
            f"{fmt(ra['scoring_lag_s'])} | {fmt(rb['pairs_per_s'])} | {sum(rb['errors'].values())} |"
        )
    lines += [
        "",
        f"Machine: {machine['nproc']} cores ({machine['cpu']}), {machine['memory']}; "
        f"Python {machine['python']}, Django {machine['django']}, PostgreSQL {machine['postgresql']}, "
        f"Redis {machine['redis']}, gunicorn {machine['gunicorn']}, Celery {machine['celery']}. "
        f"Template seed took {seed_s:.0f} s. App: {machine['app']}.",
        "",
        f"Planner statistics: server autovacuum {machine['autovacuum']}; "
        + (
            "none gathered (--no-analyze)."
            if args.no_analyze
            else "VACUUM ANALYZE after seeding"
            + (
                f", then ANALYZE every {args.analyze_every:g} s during each scenario."
                if args.analyze_every
                else "."
            )
        ),
    ]
    if cores["other"] > 0.2:
        lines += [
            "",
            f"Warning: other processes on this machine kept {cores['other']:.2f} cores busy during (a); "
            "the figures understate what the app does on a quiet machine.",
        ]
    problems = {}
    for run in runs:
        for key, value in run["log_problems"].items():
            problems[key] = problems.get(key, 0) + value
    samples = [
        s for run in runs for part in ("a", "b") for s in run.get(part, {}).get("error_samples", [])
    ]
    if problems or samples:
        lines += ["", "Problems seen:"]
        lines += [f"- {name}: {count} error line(s)" for name, count in problems.items()]
        lines += [f"- {sample}" for sample in samples[:5]]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="repetitions; medians are reported")
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads in (a)")
    parser.add_argument("--accounts-per-client", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=500, help="next+submit pairs in (b)")
    parser.add_argument(
        "--gunicorn-workers",
        type=int,
        default=4,
        help="default 4: 2 per core, since a request spends about half its time waiting on PostgreSQL",
    )
    parser.add_argument(
        "--without-project",
        action="store_true",
        help="ask work/next/ for any project (body {}) instead of naming the project",
    )
    parser.add_argument("--gunicorn-class", choices=("sync", "gthread"), default="sync")
    parser.add_argument("--gunicorn-threads", type=int, default=2)
    parser.add_argument("--celery-concurrency", type=int, default=1)
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    parser.add_argument("--pg-host", default=HOST)
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--pg-user", default="postgres")
    parser.add_argument("--db", default="sebenzai_bench")
    parser.add_argument("--redis-host", default=HOST)
    parser.add_argument("--redis-port", type=int, default=6379)
    parser.add_argument("--redis-db", type=int, default=14)
    parser.add_argument(
        "--no-analyze",
        action="store_true",
        help="skip VACUUM ANALYZE after seeding and the periodic ANALYZE (planner statistics "
        "stay those of empty tables: shows how the app behaves before autovacuum has run)",
    )
    parser.add_argument(
        "--analyze-every",
        type=float,
        default=None,
        help="seconds between ANALYZEs during a scenario; default 15 when the server's "
        "autovacuum is off (as on a bare CI machine), else 0 (never)",
    )
    parser.add_argument(
        "--app-dir",
        type=Path,
        default=ROOT,
        help="the checkout to benchmark (default: this one), e.g. a `git worktree` of another "
        "revision; this checkout's .venv runs it",
    )
    parser.add_argument("--seed-into", help=argparse.SUPPRESS)  # internal: the seeding subprocess
    args = parser.parse_args(argv)
    args.app_dir = args.app_dir.resolve()
    if not (args.app_dir / "manage.py").exists():
        parser.error(f"--app-dir: no manage.py in {args.app_dir}")
    if args.runs < 1 or args.tasks < 1 or args.pairs < 1 or args.clients < 1:
        parser.error("--runs, --tasks, --pairs and --clients must be positive")
    if args.pairs > args.tasks and not args.seed_into:
        parser.error("--pairs cannot exceed --tasks (one worker answers a task once)")
    return args


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def autovacuum_on(args) -> bool:
    conn = pg_connect(args)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW autovacuum")
            return cur.fetchone()[0] == "on"
    finally:
        conn.close()


def db_analyze(args, name: str, vacuum: bool = False) -> None:
    conn = pg_connect(args, name)
    try:
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")
    finally:
        conn.close()


class Analyzer(threading.Thread):
    """Stands in for autovacuum when the server has it off: production PostgreSQL re-analyzes a
    table after 50 + 10 % of its rows changed, and without fresh statistics the planner keeps
    the plans it chose for empty tables, which is not what production would see."""

    def __init__(self, args, every: float):
        super().__init__(daemon=True)
        self.args, self.every, self.stopped, self.count = args, every, threading.Event(), 0

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            with contextlib.suppress(psycopg2.Error):
                db_analyze(self.args, self.args.db)
                self.count += 1

    def stop(self) -> None:
        self.stopped.set()
        self.join()


def one_scenario(args, name, run, env, logdir, seed, template, rds, work):
    """Fresh database from the template, flushed Redis, fresh servers; run ``work``."""
    db_recreate(args, args.db, template=template)
    rds.flushdb()
    stack = stack_start(args, env, logdir, f"{run}{name}")
    analyzer = Analyzer(args, args.analyze_every) if args.analyze_every > 0 else None
    try:
        warm_up(stack.port, seed["requester"])
        if analyzer:
            analyzer.start()
        return work(stack)
    finally:
        if analyzer:
            analyzer.stop()
        stack.stop()
        STACKS.remove(stack)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.seed_into:
        seed_main(args.seed_into, args.tasks, args.clients * args.accounts_per_client, args.app_dir)
        return 0
    services_check(args)
    autovacuum = autovacuum_on(args)
    if args.analyze_every is None:
        args.analyze_every = 0.0 if autovacuum or args.no_analyze else 15.0
    rds = redis_client(args)
    template = f"{args.db}_tpl"
    tmp = Path(tempfile.mkdtemp(prefix="sebenzai-bench-"))
    logdir = tmp / "logs"
    logdir.mkdir()
    secret = secrets.token_urlsafe(50)
    env = app_env(args, database=args.db, media_root=tmp / "media", secret_key=secret)
    seed_env = app_env(args, database=template, media_root=tmp / "media", secret_key=secret)
    runs: list[dict] = []
    machine: dict[str, str] = {}
    seed_s = 0.0
    try:
        machine = machine_info(args)
        machine["autovacuum"] = "on" if autovacuum else "off"
        machine["app"] = f"{args.app_dir} @ {app_revision(args.app_dir)}"
        say(f"== logs in {logdir}")
        say(f"== seeding template database {template}: migrate, {args.tasks:,} images, accounts")
        started = time.perf_counter()
        db_recreate(args, template)
        rds.flushdb()
        py = str(VENV / "python")
        seed_log, app = logdir / "seed.log", args.app_dir
        run_checked([py, "manage.py", "migrate", "--noinput"], seed_env, "migrate", seed_log, app)
        run_checked(
            [py, "manage.py", "collectstatic", "--noinput", "-v0"],
            seed_env,
            "collectstatic",
            seed_log,
            app,
        )
        seed_file = tmp / "seed.json"
        run_checked(
            [
                py,
                __file__,
                "--seed-into",
                str(seed_file),
                "--tasks",
                str(args.tasks),
                "--clients",
                str(args.clients),
                "--accounts-per-client",
                str(args.accounts_per_client),
                "--app-dir",
                str(app),
            ],
            seed_env,
            "seeding",
            seed_log,
            app,
        )
        seed = json.loads(seed_file.read_text())
        if not args.no_analyze:  # statistics as autovacuum would leave them after the upload
            db_analyze(args, template, vacuum=True)
        seed_s = time.perf_counter() - started
        say(f"   done in {seed_s:.1f} s")
        for run in range(1, args.runs + 1):
            runs.append({"log_problems": {}})
            say(
                f"== run {run}/{args.runs}: (a) {args.tasks * 3:,} submissions, {args.clients} clients"
            )
            a = one_scenario(
                args,
                "a",
                run,
                env,
                logdir,
                seed,
                template,
                rds,
                lambda stack: scenario_a(args, seed, stack, args.db, rds),
            )
            runs[-1]["a"] = a
            say(
                f"   {a['submits_per_s']:.1f} submissions/s, submit p99 {a['submit_ms']['p99']:.0f} ms, "
                f"{a['submitted']:,}/{a['expected']:,} submitted, {a['tasks_accepted']:,} accepted, "
                f"scoring lag {a['scoring_lag_s']:.1f} s, errors {a['errors'] or 'none'}, "
                f"over-assigned tasks {a['over_assigned']}, answered twice {a['double_answers']}, "
                f"answers unscored {a['answers_pending']}, failed {a['answers_failed']}"
            )
            say(f"== run {run}/{args.runs}: (b) {args.pairs} sequential next+submit pairs")
            b = one_scenario(
                args,
                "b",
                run,
                env,
                logdir,
                seed,
                template,
                rds,
                lambda stack: scenario_b(args, seed, stack),
            )
            runs[-1]["b"] = b
            say(f"   {b['pairs_per_s']:.1f} pairs/s, errors {b['errors'] or 'none'}")
            runs[-1]["log_problems"] = log_problems(logdir, run)
        results_write(args, runs, machine, seed_s)
        return 0
    except BenchError:
        if runs and "a" in runs[0]:  # what was measured before the failure is still worth seeing
            runs[-1]["log_problems"] = log_problems(logdir, len(runs))
            say("== partial results (the run did not finish):")
            results_write(args, [r for r in runs if "a" in r], machine, seed_s)
        raise
    finally:
        stacks_stop()
        with contextlib.suppress(psycopg2.Error):
            db_drop(args, template)
        if runs and not os.environ.get("BENCH_KEEP_LOGS"):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            say(f"== logs kept in {logdir}")


def results_write(args, runs: list[dict], machine: dict[str, str], seed_s: float) -> None:
    table = report(args, runs, machine, seed_s)
    print(table, flush=True)
    out = ROOT / "benchmarks" / "out"
    out.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    (out / f"api_throughput-{stamp}.json").write_text(
        json.dumps({"args": settings, "machine": machine, "runs": runs}, indent=2)
    )
    (out / f"api_throughput-{stamp}.md").write_text(table + "\n")


def app_revision(app_dir: Path) -> str:
    try:
        result = subprocess.run(
            ["git", "-C", str(app_dir), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return result.stdout.strip() if result.returncode == 0 else "not a git checkout"


def _terminate(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminate)
    try:
        sys.exit(main(sys.argv[1:]))
    except BenchError as exc:
        say(f"error: {exc}")
        sys.exit(2)
    except KeyboardInterrupt:
        say("interrupted; servers stopped")
        sys.exit(130)

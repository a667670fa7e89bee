"""The two scenarios, each on a fresh database cloned from the template, a flushed Redis database
and freshly started servers: (a) the crowd — client threads for many worker accounts, then the
wait until every answer is scored and the integrity checks; (b) one worker's sequential stream."""

from __future__ import annotations

import argparse
import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psycopg2
import redis

from benchmarks.harness.postgres import Postgres, database_analyze, database_recreate
from benchmarks.harness.usage import cpu_share
from benchmarks.throughput.client import (
    MAX_ERRORS_PER_ACCOUNT,
    Client,
    Stream,
    Tally,
    crowd_client,
    pair,
    warm_up,
)
from benchmarks.throughput.stack import STACKS, Stack, stack_start
from sebenzai import jobs

PROBLEM_MARKERS = (
    "Traceback",
    "[ERROR]",
    "ERROR/",
    "Internal Server Error",
    "Retry in",
    "WorkerLost",
)


class Analyzer(threading.Thread):
    """Stands in for autovacuum when the server has it off: production PostgreSQL re-analyzes a
    table after 50 + 10 % of its rows changed, and without fresh statistics the planner keeps
    the plans it chose for empty tables, which is not what production would see."""

    def __init__(self, pg: Postgres, database: str, every: float):
        super().__init__(daemon=True)
        self.pg, self.database, self.every = pg, database, every
        self.stopped, self.count = threading.Event(), 0

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            with contextlib.suppress(psycopg2.Error):
                database_analyze(self.pg, self.database)
                self.count += 1

    def stop(self) -> None:
        self.stopped.set()
        self.join()


def one_scenario(
    args: argparse.Namespace,
    label: str,
    env: dict[str, str],
    logdir: Path,
    seed: dict,
    rds: redis.Redis,
    work: Callable[[Stack], dict],
) -> dict:
    """Fresh database from the template, flushed Redis, fresh servers (logs named ``label``);
    run ``work``."""
    pg = Postgres.from_args(args)
    database_recreate(pg, args.db, template=f"{args.db}_tpl")
    rds.flushdb()
    stack = stack_start(args, env, logdir, label)
    analyzer = Analyzer(pg, args.db, args.analyze_every) if args.analyze_every > 0 else None
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


def asked_project(args: argparse.Namespace, seed: dict) -> str | None:
    return None if args.without_project else seed["project"]


def _crowd_run(args: argparse.Namespace, seed: dict, stack: Stack) -> tuple[Tally, float, dict]:
    """Every client thread at once; their merged tally, the wall time and the CPU share."""
    per = args.accounts_per_client
    tallies = [Tally() for _ in range(args.clients)]
    barrier = threading.Barrier(args.clients + 1)
    threads = [
        threading.Thread(
            target=crowd_client,
            args=(
                stack.port,
                [
                    Stream(token, carry=args.flow == "one")
                    for token in seed["crowd"][i * per : (i + 1) * per]
                ],
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
    cpu_before = stack.cpu_seconds(args.db)
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    cpu = cpu_share(cpu_before, stack.cpu_seconds(args.db), wall)
    tally = Tally()
    for part in tallies:
        tally.merge(part)
    return tally, wall, cpu


def scenario_a(args: argparse.Namespace, seed: dict, stack: Stack, rds: redis.Redis) -> dict:
    tally, wall, cpu = _crowd_run(args, seed, stack)
    backlog = sum(rds.llen(name) for name in jobs.queue_names("celery"))
    drain = drain_wait(args, seed["project"], tally.last_submit)
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


def _task_counts(cur, project: str) -> tuple[int, int, int, int, int, int, int]:
    """Tasks open, accepted, in review, in all; answers pending, failed, in all."""
    cur.execute(
        "SELECT count(*) FILTER (WHERE state = 'open'),"
        " count(*) FILTER (WHERE state = 'accepted'),"
        " count(*) FILTER (WHERE state = 'review'), count(*)"
        " FROM annotations_task WHERE project_id = %s",
        [project],
    )
    tasks = cur.fetchone()
    cur.execute(
        "SELECT count(*) FILTER (WHERE score_state = 'pending'),"
        " count(*) FILTER (WHERE score_state = 'failed'), count(*)"
        " FROM annotations_annotation"
    )
    return (*tasks, *cur.fetchone())


def drain_wait(args: argparse.Namespace, project: str, last_submit: float) -> dict:
    """Poll until no answer awaits scoring (every scoring job has run: the tasks are decided,
    or left open when consensus asked for more answers than the crowd gave)."""
    conn = Postgres.from_args(args).connect(args.db)
    deadline = time.perf_counter() + args.drain_timeout
    try:
        with conn.cursor() as cur:
            while True:
                open_, accepted, review, total, pending, failed, answers = _task_counts(
                    cur, project
                )
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


def scenario_b(args: argparse.Namespace, seed: dict, stack: Stack) -> dict:
    client = Client(stack.port)
    tally = Tally()
    cpu_before = stack.cpu_seconds(args.db)
    start = time.perf_counter()
    stream = Stream(seed["solo"], carry=args.flow == "one")
    try:
        done = 0
        while done < args.pairs:
            outcome = pair(client, stream, asked_project(args, seed), tally)
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
        "cpu_cores": cpu_share(cpu_before, stack.cpu_seconds(args.db), wall),
        "pairs": tally.submitted,
        "pairs_per_s": tally.submitted / wall,
        "next_ms": latency_summary(tally.next_latency),
        "submit_ms": latency_summary(tally.submit_latency),
        "errors": tally.errors,
        "error_samples": tally.samples,
    }


def log_problems(logdir: Path, run: int) -> dict[str, int]:
    """Error lines in one run's server logs: a clean run has none."""
    counts: dict[str, int] = {}
    for log in sorted(logdir.glob(f"*-{run}[a-h]-[ab].log")):
        text = log.read_text(errors="replace")
        hits = sum(
            1 for line in text.splitlines() if any(marker in line for marker in PROBLEM_MARKERS)
        )
        if hits:
            counts[log.name] = hits
    return counts

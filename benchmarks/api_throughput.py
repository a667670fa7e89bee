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
Studio 1.23.2's range over issue 17's runs (the same workload, alternated with Sebenzai on the same
kind of 2-core machine).

    .venv/bin/python benchmarks/api_throughput.py [--runs 3] [--gunicorn-workers 4]
    .venv/bin/python benchmarks/api_throughput.py --app-dir /tmp/other-revision   # a worktree

gunicorn runs as docker-compose.yml runs it: 4 gthread workers × 4 threads (2 workers per core,
since a request spends a good part of its time waiting on PostgreSQL; threads keep the clients'
connections open). ``--gunicorn-class sync,gthread`` measures both in turn; the Celery worker runs
with ``--celery-concurrency`` (default 1; the compose file's is 2). Clients carry the next lease in
each submit (``--flow one``; ``two`` asks work/next/ first, as clients of older versions had to);
``--before DIR`` measures an older checkout in turn with this one in every run.

Planner statistics: the template is VACUUM ANALYZEd after seeding, and when the server runs with
autovacuum off (a bare CI box) the script ANALYZEs every 15 s during a scenario, as autovacuum
would in production; ``--no-analyze`` shows the app on never-analyzed tables instead.

Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth) and Redis at 127.0.0.1:6379; it
creates and drops the databases ``sebenzai_bench`` and ``sebenzai_bench_tpl`` and flushes Redis
database 14. The last run's database is left in place for inspection (dropped at the next run).
Figures are also written as JSON to ``benchmarks/out/``.

The sections live in ``benchmarks/throughput/`` (the servers, the clients, the scenarios, the
report, the flags and runs); the seeding child in ``benchmarks/children/api_seed.py``.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout: benchmarks.*

from benchmarks.harness import BenchError
from benchmarks.harness.venv import run_in_project_venv

run_in_project_venv(__file__)

from benchmarks.throughput.cli import main, say  # noqa: E402  (needs the venv's psycopg2)


def _terminate(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminate)
    try:
        sys.exit(main(sys.argv[1:], description=__doc__.split("\n\n")[0]))
    except BenchError as exc:
        say(f"error: {exc}")
        sys.exit(2)
    except KeyboardInterrupt:
        say("interrupted; servers stopped")
        sys.exit(130)

#!/usr/bin/env python
"""Time a scrape of GET /metrics on PostgreSQL with many answers: the whole request through
Django's middlewares, as Prometheus makes it (the METRICS_TOKEN bearer), and its SQL queries.
The first scrape of a process (an empty cache) also counts every answer once.

Seeds a database of its own (``sebenzai_bench_metrics``) with ``--answers`` answers (4 per task)
spread over three days, 1 % of them waiting to be scored, and a few exports in flight, by bulk
inserts. With ``--redis`` the broker figures are read from that Redis (on queues named for the
benchmark), else there is no broker. Prints the median and p95 of ``--runs`` scrapes.

    .venv/bin/python benchmarks/metrics_scrape.py [--answers 100000] [--runs 20]
        [--redis redis://127.0.0.1:6379/11] [--reuse]

Target (issue 18): a scrape is a few indexed queries, well under 50 ms at 100,000 answers.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout: benchmarks.*

from benchmarks.harness.venv import run_in_project_venv

run_in_project_venv(__file__)

from benchmarks.harness.django_db import django_on_database  # noqa: E402

DB_NAME = "sebenzai_bench_metrics"
PER_TASK = 4
BATCH = 10_000
WORKERS = 200
TOKEN = "bench-metrics-token-" + "x" * 20  # noqa: S105 - this benchmark's own


def seed(n_answers: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from annotations.models import Annotation, Assignment, Project, Task
    from exports.models import Export

    users = get_user_model()
    owner = users.objects.create_user("bench-requester")
    workers = users.objects.bulk_create([users(username=f"bench-w{i}") for i in range(WORKERS)])
    project = Project.objects.create(owner=owner, name="Benchmark", kind="classification",
                                     labels=[{"name": "car", "color": "#1c7ed6"}], status="active")  # fmt: skip
    started = time.perf_counter()
    tasks = Task.objects.bulk_create(
        [Task(project=project, image=f"bench/{i:064x}.png", sha256=f"{i:064x}",
              image_format="png", width=320, height=240, target_redundancy=PER_TASK,
              slots_taken=PER_TASK, answers_count=PER_TASK)  # fmt: skip
         for i in range(n_answers // PER_TASK)],
        batch_size=BATCH,
    )  # fmt: skip
    assignments, answers = [], []
    for i, task in enumerate(tasks):
        for k in range(PER_TASK):
            worker = workers[(i + k) % WORKERS]
            assignment = Assignment(task=task, worker=worker, state="submitted",
                                    expires_at=task.created_at)  # fmt: skip
            assignments.append(assignment)
            pending = (i * PER_TASK + k) % 100 == 0
            answers.append(Annotation(assignment=assignment, task=task, worker=worker,
                                      payload={"label": "car"},
                                      score_state="pending" if pending else "scored"))  # fmt: skip
    Assignment.objects.bulk_create(assignments, batch_size=BATCH)
    Annotation.objects.bulk_create(answers, batch_size=BATCH)
    for version, state in enumerate(["pending", "running", "ready", "ready"], start=1):
        Export.objects.create(project=project, version=version, format="coco", options={},
                              state=state)  # fmt: skip
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE annotations_annotation SET created_at = now() - random() * interval '3 days'"
        )
        cur.execute("VACUUM ANALYZE")
    print(f"seeded {len(answers):,} answers in {time.perf_counter() - started:.0f} s")


def measure(runs: int, redis_url: str | None) -> dict:
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    from annotations.models import Annotation

    client = Client(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    broker = {"REDIS_URL": redis_url or "", "CELERY_TASK_DEFAULT_QUEUE": "bench-metrics"}
    times = []
    with override_settings(**broker, METRICS_TOKEN=TOKEN, ALLOWED_HOSTS=["testserver"]):
        client.get("/metrics")  # warm: imports, the URL conf, connections, the Redis pool
        cache.clear()  # the first scrape counts every answer once (sebenzai/metrics/tallies.py)
        started = time.perf_counter()
        client.get("/metrics")
        first = (time.perf_counter() - started) * 1000
        for _ in range(runs):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get("/metrics")
                times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.content
    times.sort()
    return {
        "answers": Annotation.objects.count(),
        "runs": runs,
        "broker": "redis" if redis_url else "none",
        "first_ms": round(first, 2),
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 2),
        "max_ms": round(times[-1], 2),
        "queries": len(queries.captured_queries),
        "sql": [q["sql"][:160] for q in queries.captured_queries],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--answers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--redis", default=None, help="read queue depths from this Redis")
    parser.add_argument("--reuse", action="store_true", help="measure the last run's database")
    args = parser.parse_args()
    django_on_database(DB_NAME, media="bench-metrics-media", reuse=args.reuse)
    if not args.reuse:
        seed(args.answers)
    result = measure(args.runs, args.redis)
    print(f"\nGET /metrics on PostgreSQL, {platform.python_version()}, broker: {result['broker']}")
    print("| answers | first scrape ms | scrapes | median ms | p95 ms | max ms | SQL queries |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(f"| {result['answers']:,} | {result['first_ms']} | {result['runs']} | {result['median_ms']} | "
          f"{result['p95_ms']} | {result['max_ms']} | {result['queries']} |")  # fmt: skip
    for sql in result["sql"]:
        print("  ", sql)


if __name__ == "__main__":
    main()

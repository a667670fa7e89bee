#!/usr/bin/env python
"""Latency of scoring one submitted task, as the Celery worker does it, on PostgreSQL.

Seeds a database of its own (``sebenzai_bench_scoring``) with one project per kind: ``--tasks``
tasks, each with five submitted answers drawn from the seeded crowd simulator (a mostly-good crowd:
good, sloppy and spammer workers). Box and polygon tasks have exactly ``--objects`` true objects
(20 by default: the issue's "5-worker, 20-box image"). Then, task by task, it runs the body of
the Celery task ``consensus.score`` (count the attempt, lock the task, load its answers and the
workers' skills, fuse, decide, write the result, agreement, skills and points) and times it.

Also timed: the fusion alone on the same answers (pure numpy/Shapely, no database), to show how
much of the latency is the database round trips.

    .venv/bin/python benchmarks/scoring_latency.py [--tasks 300] [--objects 20] [--compare REV]

``--compare REV`` runs the same benchmark as of revision REV first (benchmarks/harness/compare.py).

Target (issue 17): under 10 ms median for every kind (5 workers, 20 boxes or polygons).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout: benchmarks.*

from benchmarks.harness.compare import compare_argv, run_at_revision
from benchmarks.harness.venv import run_in_project_venv

run_in_project_venv(__file__)

from benchmarks.harness.django_db import django_on_database  # noqa: E402

DB_NAME = "sebenzai_bench_scoring"
WORKERS = 5
TARGET_MS = 10.0


def _database() -> None:
    """A fresh database of the benchmark's own; scoring runs in this process, as the worker's
    body would."""
    django_on_database(DB_NAME, media="bench-scoring-media")


def _payloads(kind: str, n_tasks: int, n_objects: int) -> list[list[dict]]:
    """Five answers per task from the simulator, keeping images with exactly n_objects objects."""
    from consensus.algorithms.simulate import MIXES, make_crowd, simulate_boxes, simulate_polygons

    if kind == "classification":
        labels = ["car", "bus", "person"]
        return [
            [{"label": labels[(t + (w == 4) * (t % 2)) % 3]} for w in range(WORKERS)]
            for t in range(n_tasks)
        ]
    crowd = make_crowd(MIXES["mostly-good"], 40, seed=1)
    simulate = simulate_boxes if kind == "bbox" else simulate_polygons
    out: list[list[dict]] = []
    seed = 0
    while len(out) < n_tasks:
        images = simulate(400, crowd, workers_per_image=WORKERS, max_objects=n_objects, seed=seed)
        seed += 1
        for image in (i for i in images if len(i.truth) == n_objects):
            out.append([_shape_payload(kind, answer) for answer in image.answers])
    return out[:n_tasks]


def _shape_payload(kind: str, answer) -> dict:
    if kind == "bbox":
        boxes = [
            {"label": label, "bbox": [round(float(v), 2) for v in box]}
            for box, label in zip(answer.shapes, answer.labels, strict=True)
        ]
        return {"boxes": boxes}
    polygons = [
        {"label": label, "points": [[round(float(x), 2), round(float(y), 2)] for x, y in shape]}
        for shape, label in zip(answer.shapes, answer.labels, strict=True)
    ]
    return {"polygons": polygons}


def _seed(kind: str, payloads: list[list[dict]], owner, workers) -> list:
    from annotations.models import Annotation, Assignment, AssignmentState, Project, Task

    labels = ["car", "bus", "person"] if kind == "classification" else None
    from consensus.algorithms.simulate import LABELS

    project = Project.objects.create(
        owner=owner,
        name=f"bench {kind}",
        kind=kind,
        labels=[{"name": name} for name in (labels or LABELS)],
        redundancy_min=WORKERS,
        redundancy_max=WORKERS + 1,
        acceptance_threshold=0.7,
        gold_ratio=0.0,
        status="active",
    )
    tasks = Task.objects.bulk_create(
        Task(
            project=project,
            image=f"bench/{kind}/{i}.png",
            sha256=f"{i:064x}",
            image_format="PNG",
            width=640,
            height=480,
            target_redundancy=WORKERS,
            slots_taken=WORKERS,
            answers_count=WORKERS,
        )
        for i in range(len(payloads))
    )
    pairs = [(t, w) for t in tasks for w in workers]
    assignments = Assignment.objects.bulk_create(
        Assignment(task=t, worker=w, state=AssignmentState.SUBMITTED, expires_at=t.created_at)
        for t, w in pairs
    )
    Annotation.objects.bulk_create(
        Annotation(assignment=a, task=t, worker=w, payload=payloads[i // WORKERS][i % WORKERS])
        for i, (a, (t, w)) in enumerate(zip(assignments, pairs, strict=True))
    )
    return tasks


def _time_scoring(tasks: list) -> tuple[list[float], list[int]]:
    """Milliseconds per task, and SQL statements per task counted on every tenth one (counting
    wraps each query, so those are left out of the timings)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from consensus.tasks import consensus_score_task

    millis, queries = [], []
    for index, task in enumerate(tasks):
        if index % 10 == 0:
            with CaptureQueriesContext(connection) as captured:
                consensus_score_task(str(task.pk))
            queries.append(len(captured))
            continue
        start = time.perf_counter()
        consensus_score_task(str(task.pk))  # the task's body, in this process
        millis.append((time.perf_counter() - start) * 1000)
    return millis, queries


def _time_fusion(kind: str, payloads: list[list[dict]], labels: list[str]) -> list[float]:
    from consensus.aggregate import FUSERS

    millis = []
    for answers in payloads:
        start = time.perf_counter()
        FUSERS[kind](answers, [0.8] * WORKERS, labels, 0.5)
        millis.append((time.perf_counter() - start) * 1000)
    return millis


def _row(kind: str, objects: int, timed: tuple, fusion: list[float], decisions) -> str:
    scoring, queries = timed
    p95 = statistics.quantiles(scoring, n=20)[18]
    median = statistics.median(scoring)
    verdict = "met" if median < TARGET_MS else f"missed ({median / TARGET_MS:.1f}x)"
    return (
        f"| {kind} | {objects} | {len(scoring)} | {median:.1f} | {p95:.1f} | "
        f"{statistics.median(fusion):.1f} | {statistics.median(queries):.0f} | {decisions} | "
        f"{verdict} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--objects", type=int, default=20)
    args = parser.parse_args()
    if args.tasks < 20 or not 1 <= args.objects <= 50:
        sys.exit("error: --tasks must be at least 20 and --objects between 1 and 50")
    _database()
    from collections import Counter

    from accounts.models import Role
    from accounts.services import user_create
    from annotations.models import Task
    from consensus.algorithms.simulate import LABELS

    owner = user_create(username="bench-owner", password="bench-Passw0rd-x", role=Role.REQUESTER)
    workers = [
        user_create(username=f"bench-w{i}", password="bench-Passw0rd-x", role=Role.WORKER)
        for i in range(WORKERS)
    ]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        "| kind | objects | tasks | scoring median ms | p95 ms | fusion alone ms | SQL per task | decisions | <10 ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for kind in ("classification", "bbox", "polygon"):
        objects = 0 if kind == "classification" else args.objects
        payloads = _payloads(kind, args.tasks, objects)
        tasks = _seed(kind, payloads, owner, workers)
        labels = ["car", "bus", "person"] if kind == "classification" else list(LABELS)
        fusion = _time_fusion(kind, payloads, labels)
        scoring = _time_scoring(tasks)
        states = Counter(
            Task.objects.filter(pk__in=[t.pk for t in tasks]).values_list("state", flat=True)
        )
        decided = ", ".join(f"{k} {v}" for k, v in sorted(states.items()))
        print(_row(kind, objects, scoring, fusion, decided), flush=True)
    return 0


if __name__ == "__main__":
    revision, arguments = compare_argv(sys.argv[1:])
    if revision:
        run_at_revision(revision, __file__, arguments)
    sys.argv[1:] = arguments
    sys.exit(main())

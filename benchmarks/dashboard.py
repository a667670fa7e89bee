#!/usr/bin/env python
"""Time the staff dashboard of a big project on PostgreSQL: each figure's selector, the whole
page render and the live JSON, with the number of SQL queries each takes.

Seeds a database of its own (``sebenzai_bench_dash``) with one classification project of
``--tasks`` tasks and ``--answers-per-task`` answers each (100,000 and 4: 400,000 answers) by
bulk inserts, states and timestamps spread like a project a week into its life, a consensus
result per scored task and a ledger row per paid answer. Then runs each piece ``--runs`` times
and prints the median.

    .venv/bin/python benchmarks/dashboard.py [--tasks 100000] [--answers-per-task 4] [--runs 5]

Target (issue 5): the dashboard of 100,000 tasks and 400,000 answers renders in under a second.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout: benchmarks.*

from benchmarks.harness.venv import run_in_project_venv

run_in_project_venv(__file__)

from benchmarks.harness.django_db import django_on_database  # noqa: E402

DB_NAME = "sebenzai_bench_dash"
LABELS = ["car", "taxi", "truck", "bus"]
WORKERS = 400
TARGET_S = 1.0
BATCH = 10_000
PLAIN_STATIC = "django.contrib.staticfiles.storage.StaticFilesStorage"
# Share of tasks in each state, like a project a week into its life.
STATES = (("accepted", 0.70), ("open", 0.15), ("review", 0.10), ("rejected", 0.05))


def _database(*, reuse: bool) -> None:
    """A fresh database of the benchmark's own (or the last run's, with ``reuse``)."""
    django_on_database(DB_NAME, media="bench-dash-media", reuse=reuse, ALLOWED_HOSTS="testserver")


def _people():
    from django.contrib.auth import get_user_model

    from accounts.models import Role, WorkerProfile

    user_model = get_user_model()
    owner = user_model.objects.create_user("bench-requester")
    WorkerProfile.objects.create(user=owner, role=Role.REQUESTER)
    admin = user_model.objects.create_user("bench-admin", is_staff=True)
    workers = user_model.objects.bulk_create(
        [user_model(username=f"bench-w{i}") for i in range(WORKERS)]
    )
    return owner, admin, workers


def _tasks(project, n_tasks: int, per_task: int, rng: random.Random) -> list:
    from annotations.models import Task

    weights = [w for _, w in STATES]
    rows = []
    for i in range(n_tasks):
        state = rng.choices([s for s, _ in STATES], weights)[0]
        truth = rng.choice(LABELS)
        rows.append(
            Task(
                project=project,
                image=f"bench/{i:064x}.png",
                sha256=f"{i:064x}",
                image_format="png",
                width=320,
                height=240,
                state=state,
                target_redundancy=per_task,
                slots_taken=per_task,
                answers_count=per_task,
                accepted_label={"label": truth} if state == "accepted" else None,
                confidence=rng.uniform(0.9, 1.0) if state == "accepted" else rng.uniform(0.3, 0.9),
                is_gold=i % 50 == 0,
                gold_answer={"label": truth} if i % 50 == 0 else None,
                metadata={"truth": truth},
            )
        )
    return Task.objects.bulk_create(rows, batch_size=BATCH)


def _answers(tasks, workers, per_task: int, rng: random.Random) -> list:
    from annotations.models import Annotation, Assignment

    assignments, answers = [], []
    for task in tasks:
        truth = task.metadata["truth"]
        for worker in rng.sample(workers, per_task):
            assignment = Assignment(
                task=task, worker=worker, state="submitted", expires_at=task.created_at
            )
            label = truth if rng.random() < 0.85 else rng.choice(LABELS)
            scored = task.state == "accepted"
            assignments.append(assignment)
            answers.append(
                Annotation(
                    assignment=assignment,
                    task=task,
                    worker=worker,
                    payload={"label": label},
                    duration_ms=rng.randint(1500, 20000),
                    agreement=float(label == truth) if scored else None,
                    gold_grade=float(label == truth) if task.is_gold else None,
                    score_state="scored",
                )
            )
    Assignment.objects.bulk_create(assignments, batch_size=BATCH)
    return Annotation.objects.bulk_create(answers, batch_size=BATCH)


def _consensus_and_points(project, tasks, answers, workers) -> None:
    from consensus.models import ConsensusResult, WorkerSkill
    from workers.models import PointsEntry

    results = [
        ConsensusResult(
            task=t,
            label=t.accepted_label or {"label": t.metadata["truth"]},
            confidence=t.confidence,
            method="weighted_vote",
            decision="accept" if t.state == "accepted" else "review",
            answers=t.answers_count,
        )
        for t in tasks
        if not t.is_gold and t.state != "open"
    ]
    ConsensusResult.objects.bulk_create(results, batch_size=BATCH)
    paid = [
        PointsEntry(worker_id=a.worker_id, annotation=a, reason="accepted", points=10)
        for a in answers
        if a.agreement == 1.0
    ]
    PointsEntry.objects.bulk_create(paid, batch_size=BATCH)
    WorkerSkill.objects.bulk_create(
        [WorkerSkill(worker=w, project=project, alpha=40.0, beta=6.0) for w in workers]
    )


def _spread_in_time() -> None:
    """Tasks uploaded over the past week; answers, decisions and results over the last 3 days."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "UPDATE annotations_task SET created_at = now() - random() * interval '7 days', "
            "decided_at = CASE WHEN state IN ('accepted', 'rejected') "
            "THEN now() - random() * interval '3 days' END"
        )
        cur.execute(
            "UPDATE annotations_annotation SET created_at = now() - random() * interval '3 days'"
        )
        cur.execute(
            "UPDATE consensus_consensusresult SET updated_at = now() - random() * interval '3 days'"
        )
        cur.execute("VACUUM ANALYZE")


def seed(n_tasks: int, per_task: int) -> tuple:
    from annotations.models import Project

    rng = random.Random(5)
    owner, admin, workers = _people()
    project = Project.objects.create(
        owner=owner,
        name="Benchmark",
        kind="classification",
        labels=[{"name": n, "color": "#1c7ed6"} for n in LABELS],
        status="active",
        redundancy_min=per_task,
        redundancy_max=per_task + 1,
    )
    started = time.perf_counter()
    tasks = _tasks(project, n_tasks, per_task, rng)
    answers = _answers(tasks, workers, per_task, rng)
    _consensus_and_points(project, tasks, answers, workers)
    _spread_in_time()
    print(
        f"seeded {len(tasks):,} tasks, {len(answers):,} answers in {time.perf_counter() - started:.0f} s"
    )
    return project, admin


def _seeded() -> tuple:
    from django.contrib.auth import get_user_model

    from annotations.models import Project

    project = Project.objects.get(name="Benchmark")
    return project, get_user_model().objects.get(username="bench-admin")


def _measure(label: str, call, runs: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, queries = [], 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)
        queries = len(captured)
    return {"what": label, "median_ms": statistics.median(times) * 1000, "queries": queries}


def measure(project, admin, runs: int) -> list[dict]:
    from django.conf import settings
    from django.test import Client, override_settings

    from consensus import dashboard as d
    from consensus.quality import workers_table
    from consensus.review import review_queue

    # The page's {% static %} tags without a collectstatic manifest: plain static storage.
    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": PLAIN_STATIC}}
    override_settings(STORAGES=storages).enable()
    client = Client()
    client.force_login(admin)

    def page(url: str):
        def get():
            response = client.get(url)
            assert response.status_code == 200, response.status_code

        return get

    pieces = [
        ("task figures: one scan of tasks", lambda: d._task_figures_pg(project)),
        ("answer figures: one scan of answers", lambda: d._answer_figures_pg(project)),
        ("points paid (ledger join)", lambda: d._points_paid(project)),
        ("dashboard_figures (all)", lambda: d.dashboard_figures(project=project)),
        ("GET /staff/projects/<id>/ (page)", page(f"/staff/projects/{project.pk}/")),
        ("GET /staff/projects/<id>/live/", page(f"/staff/projects/{project.pk}/live/")),
        ("GET /api/v1/staff/…/dashboard/", page(f"/api/v1/staff/projects/{project.pk}/dashboard/")),
        ("review_queue (50 worst)", lambda: review_queue(project=project)),
        ("workers_table (400 workers)", lambda: workers_table(project=project)),
    ]
    return [_measure(label, call, runs) for label, call in pieces]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--answers-per-task", type=int, default=4)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--reuse", action="store_true", help="measure the last run's database again"
    )
    args = parser.parse_args()
    _database(reuse=args.reuse)
    project, admin = _seeded() if args.reuse else seed(args.tasks, args.answers_per_task)
    rows = measure(project, admin, args.runs)
    print(f"\n{platform.processor() or platform.machine()}, PostgreSQL, median of {args.runs} runs")
    print(f"| {'what':38s} | median ms | SQL queries |")
    print(f"| {'-' * 38} | ---------:| -----------:|")
    for row in rows:
        print(f"| {row['what']:38s} | {row['median_ms']:9.1f} | {row['queries']:11d} |")
    page = next(r for r in rows if r["what"].startswith("GET /staff/projects/<id>/ "))
    verdict = "met" if page["median_ms"] < TARGET_S * 1000 else "NOT met"
    print(f"\ntarget: page under {TARGET_S:.0f} s: {verdict}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""The edge model in the loop (issue 14): a simulated crowd with a simulated model, through the
real services, on PostgreSQL.

On a database of its own (``sebenzai_bench_model_loop``), with Celery eager so scoring runs
inline, each run makes projects of ``--images`` classification images and half as many box
images (devtools' synthetic street scenes, a tenth of them gold), lets devtools' crowd of 20
(good, sloppy, spammers) work them through task_lease_next and annotation_submit, and measures
three things (benchmarks/model_loop/ holds the parts; model.py documents the simulated model):

1. the whole project worked to the end with no model, a useless one and a good one (right 85 %
   of the time, calibrated scores) posting predictions for every task: human answers per
   accepted label, accuracy, share accepted and in review;
2. a budget of human answers (30 % of the images'), the good model, today's order against the
   model's doubt first: how many of the model's wrong predictions people corrected;
3. the latency of scoring a task with and without the model's vote.

    .venv/bin/python benchmarks/model_in_loop.py [--images 300] [--runs 5] [--seed 1] [--jobs 2]

Targets (issue 14): a good model saves ≥ 40 % of human answers per accepted label at accuracy no
lower; a useless one costs ≤ 5 % more answers at accuracy no lower; doubt-first corrects ≥ 2×
as many wrong predictions; scoring with the model's vote stays within 10 % of today's.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout: benchmarks.*

from benchmarks.harness.venv import run_in_project_venv

run_in_project_venv(__file__)

from benchmarks.harness.django_db import django_on_database  # noqa: E402
from benchmarks.harness.output import results_save  # noqa: E402

if TYPE_CHECKING:
    from benchmarks.model_loop.runs import Job

DB_NAME = "sebenzai_bench_model_loop"
KINDS = ("classification", "bbox")
# Accounts are made by the hundred and their hashing is not what is measured (as in tests).
FAST_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"


def _database() -> None:
    django_on_database(DB_NAME, media="bench-model-loop-media")
    from django.test import override_settings

    override_settings(PASSWORD_HASHERS=[FAST_HASHER]).enable()


def _jobs(args: argparse.Namespace) -> tuple[list, list]:
    """The side-by-side jobs (biggest first) and the latency jobs, which run alone."""
    from benchmarks.model_loop.report import ORDERS, QUALITIES
    from benchmarks.model_loop.runs import Job
    from benchmarks.model_loop.scenario import Images, images_make

    sizes = {"classification": args.images, "bbox": args.images // 2}
    parallel, alone = [], []
    for seed in range(args.seed, args.seed + args.runs):
        images = {k: images_make(kind=k, count=n, seed=seed) for k, n in sizes.items()}
        for kind in KINDS:
            parallel += [Job("loop", quality, images[kind], seed) for quality in QUALITIES]
        parallel += [Job("doubt", order, images[k], seed) for k in KINDS for order in ORDERS]
        for kind in KINDS:
            half = args.images // 2
            few = Images(kind, images[kind].files[:half], images[kind].truths[:half])
            alone.append(Job("latency", "sure", few, seed))
    return sorted(parallel, key=_cost), alone


def _cost(job: Job) -> int:
    """Longest first, so neither process is left with a long job at the end: the projects
    without a credible model take the most answers, classification's being twice the size."""
    return (
        (job.what != "loop") * 4
        + (job.images.kind != "classification")
        + 2 * (job.variant == "good")
    )


def _progress(started: float):
    def done(result: dict) -> None:
        took = time.perf_counter() - started
        print(
            f"  [{took:5.0f} s] {result['what']} {result['kind']} {result['variant']} "
            f"seed {result['seed']}",
            flush=True,
        )

    return done


def _header(args: argparse.Namespace) -> list[str]:
    from benchmarks.model_loop.scenario import CROWD, PROJECT, gold_count

    gold = {n: gold_count(n) for n in (args.images, args.images // 2)}
    return [
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; runs: {args.runs} (seeds {args.seed}–"
        f"{args.seed + args.runs - 1}), medians over runs",
        f"sizes: classification {args.images} images ({gold[args.images]} gold, 4 classes), "
        f"boxes {args.images // 2} images ({gold[args.images // 2]} gold, 1–3 boxes each); "
        f"crowd of {CROWD} (devtools: good 60 %, sloppy 25 %, spammers 15 %); "
        f"redundancy {PROJECT['redundancy_min']}–{PROJECT['redundancy_max']}, acceptance "
        f"{PROJECT['acceptance_threshold']}, gold ratio {PROJECT['gold_ratio']}",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=300, help="classification; boxes get half")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2, help="projects worked side by side")
    args = parser.parse_args()
    if args.images < 60 or args.runs < 1 or args.jobs < 1:
        sys.exit("error: --images must be at least 60, --runs and --jobs at least 1")
    _database()
    from benchmarks.model_loop.report import NOTES, doubt_table, latency_table, loop_table
    from benchmarks.model_loop.runs import jobs_run

    started = time.perf_counter()
    parallel, alone = _jobs(args)
    results = jobs_run(parallel, processes=args.jobs, done=_progress(started))
    results += jobs_run(alone, processes=1, done=_progress(started))
    kinds = list(KINDS)
    table = "\n".join(
        [*_header(args), "", "1. Human answers and accuracy, the project worked to the end", ""]
        + [*loop_table(results, kinds), "", NOTES["loop"]]
        + ["", "2. A budget of 30 % of the images' answers, the good model", ""]
        + [*doubt_table(results, kinds), "", NOTES["doubt"]]
        + ["", "3. Scoring one task (consensus_score): the same 3 answers, with and without", ""]
        + [*latency_table(results, kinds), "", NOTES["latency"]]
        + ["", f"wall time: {time.perf_counter() - started:.0f} s"]
    )
    print("\n" + table, flush=True)
    data = {"args": vars(args), "setup": _header(args), "results": results}
    results_save("model_in_loop", data, table=table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The command line of ``benchmarks/api_throughput.py``: its flags, the template database migrated
and seeded once per invocation (by ``children/api_seed.py``), then ``--runs`` times scenario (a)
and scenario (b), each from a fresh clone of it."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psycopg2

from benchmarks.harness import ROOT, BenchError
from benchmarks.harness.postgres import (
    Postgres,
    database_analyze,
    database_drop,
    database_recreate,
    postgres_arguments,
    server_setting,
)
from benchmarks.harness.services import HOST, child_command, run_logged
from benchmarks.harness.venv import VENV
from benchmarks.throughput.client import LABELS
from benchmarks.throughput.report import app_revision, machine_info, results_write
from benchmarks.throughput.scenarios import log_problems, one_scenario, scenario_a, scenario_b
from benchmarks.throughput.stack import app_env, redis_client, services_check, stacks_stop
from benchmarks.throughput.variants import variants_of


def parse_args(argv: list[str], description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
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
    parser.add_argument(
        "--flow",
        choices=("one", "two", "one,two", "two,one"),
        default="one",
        help='one: each submit carries the next lease back (submit with "next"); two: '
        "work/next/ then submit, two requests an answer (clients of older versions); both: "
        "measured in turn in each run",
    )
    parser.add_argument(
        "--before",
        type=Path,
        default=None,
        help="an older checkout (`git worktree add /tmp/before REV`) measured in turn with this "
        "one in every run, its clients using two requests an answer",
    )
    parser.add_argument(
        "--gunicorn-class",
        choices=("sync", "gthread", "sync,gthread", "gthread,sync"),
        default="gthread",
        help="gunicorn's worker class; both: measured in turn in each run",
    )
    parser.add_argument("--gunicorn-threads", type=int, default=4)
    parser.add_argument("--celery-concurrency", type=int, default=1)
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    postgres_arguments(parser)
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
    args = parser.parse_args(argv)
    args.app_dir = args.app_dir.resolve()
    args.before = args.before.resolve() if args.before else None
    for flag, checkout in (("--app-dir", args.app_dir), ("--before", args.before)):
        if checkout is not None and not (checkout / "manage.py").exists():
            parser.error(f"{flag}: no manage.py in {checkout}")
    if args.runs < 1 or args.tasks < 1 or args.pairs < 1 or args.clients < 1:
        parser.error("--runs, --tasks, --pairs and --clients must be positive")
    if args.pairs > args.tasks:
        parser.error("--pairs cannot exceed --tasks (one worker answers a task once)")
    return args


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def template_seed(args: argparse.Namespace, env: dict[str, str], tmp: Path, logdir: Path) -> dict:
    """Migrate the template database, collect the static files, seed it (tasks, accounts,
    tokens); returns the seed's ids and tokens."""
    pg, template, app = Postgres.from_args(args), f"{args.db}_tpl", args.app_dir
    database_recreate(pg, template)
    redis_client(args).flushdb()
    py, seed_log = str(VENV / "python"), logdir / "seed.log"
    run_logged([py, "manage.py", "migrate", "--noinput"], env, "migrate", seed_log, app)
    run_logged(
        [py, "manage.py", "collectstatic", "--noinput", "-v0"], env, "collectstatic", seed_log, app
    )
    seed_file = tmp / "seed.json"
    spec = {
        "out": str(seed_file),
        "tasks": args.tasks,
        "accounts": args.clients * args.accounts_per_client,
        "labels": list(LABELS),
        "app_dir": str(app),
    }
    seed_command = [*child_command("api_seed", python=py), json.dumps(spec)]
    run_logged(seed_command, env, "seeding", seed_log, ROOT)
    if not args.no_analyze:  # statistics as autovacuum would leave them after the upload
        database_analyze(pg, template, vacuum=True)
    return json.loads(seed_file.read_text())


def run_once(
    args: argparse.Namespace, run: int, env: dict[str, str], logdir: Path, seed: dict, result: dict
) -> None:
    """Each variant in turn: scenario (a) then (b), each on fresh servers and a fresh clone of
    the template. Fills ``result`` as it goes: a run cut short keeps what it measured."""
    for number, variant in enumerate(variants_of(args)):
        measured = result[variant.name] = {}
        tag = f"{run}{'abcdefgh'[number]}"
        scenarios_run(variant.args(args), run, tag, variant.env(env), logdir, seed, measured)
    result["log_problems"] = log_problems(logdir, run)


def scenarios_run(
    args: argparse.Namespace,
    run: int,
    tag: str,
    env: dict[str, str],
    logdir: Path,
    seed: dict,
    result: dict,
) -> None:
    rds = redis_client(args)
    say(f"== run {run}/{args.runs}, {args.app_dir} ({args.flow} request(s) an answer):")
    say(f"   (a) {args.tasks * 3:,} submissions, {args.clients} clients")
    a = one_scenario(
        args, f"{tag}-a", env, logdir, seed, rds, lambda s: scenario_a(args, seed, s, rds)
    )
    result["a"] = a
    say(
        f"   {a['submits_per_s']:.1f} submissions/s, submit p99 {a['submit_ms']['p99']:.0f} ms, "
        f"{a['submitted']:,}/{a['expected']:,} submitted, {a['tasks_accepted']:,} accepted, "
        f"scoring lag {a['scoring_lag_s']:.1f} s, errors {a['errors'] or 'none'}, "
        f"over-assigned tasks {a['over_assigned']}, answered twice {a['double_answers']}, "
        f"answers unscored {a['answers_pending']}, failed {a['answers_failed']}"
    )
    say(f"   (b) {args.pairs} sequential next+submit pairs")
    b = one_scenario(args, f"{tag}-b", env, logdir, seed, rds, lambda s: scenario_b(args, seed, s))
    result["b"] = b
    say(f"   {b['pairs_per_s']:.1f} pairs/s, errors {b['errors'] or 'none'}")


def main(argv: list[str], description: str) -> int:
    args = parse_args(argv, description)
    services_check(args)
    pg = Postgres.from_args(args)
    autovacuum = server_setting(pg, "autovacuum") == "on"
    if args.analyze_every is None:
        args.analyze_every = 0.0 if autovacuum or args.no_analyze else 15.0
    tmp = Path(tempfile.mkdtemp(prefix="sebenzai-bench-"))
    logdir = tmp / "logs"
    logdir.mkdir()
    (tmp / "prometheus").mkdir()  # app_env's PROMETHEUS_MULTIPROC_DIR
    secret = secrets.token_urlsafe(50)
    env = app_env(args, database=args.db, media_root=tmp / "media", secret_key=secret)
    seed_env = app_env(args, database=f"{args.db}_tpl", media_root=tmp / "media", secret_key=secret)
    runs: list[dict] = []
    machine: dict[str, str] = {}
    seed_s = 0.0
    try:
        machine = machine_info(args)
        machine["autovacuum"] = "on" if autovacuum else "off"
        machine["app"] = f"{args.app_dir} @ {app_revision(args.app_dir)}"
        say(f"== logs in {logdir}")
        say(f"== seeding template database {args.db}_tpl: migrate, {args.tasks:,} images, accounts")
        started = time.perf_counter()
        seed = template_seed(args, seed_env, tmp, logdir)
        seed_s = time.perf_counter() - started
        say(f"   done in {seed_s:.1f} s")
        for run in range(1, args.runs + 1):
            runs.append({"log_problems": {}})
            run_once(args, run, env, logdir, seed, runs[-1])
        results_write(args, runs, machine, seed_s)
        return 0
    except BenchError:
        if runs and len(runs[0]) > 1:  # what was measured before the failure is still worth seeing
            runs[-1]["log_problems"] = log_problems(logdir, len(runs))
            say("== partial results (the run did not finish):")
            results_write(args, [r for r in runs if len(r) > 1], machine, seed_s)
        raise
    finally:
        stacks_stop()
        with contextlib.suppress(psycopg2.Error):
            database_drop(pg, f"{args.db}_tpl")
        if runs and not os.environ.get("BENCH_KEEP_LOGS"):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            say(f"== logs kept in {logdir}")

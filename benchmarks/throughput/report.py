"""What a run prints and keeps: medians against Label Studio 1.23's published figures, where the
CPU went, each run's figures, the machine, and the JSON and table in ``benchmarks/out/``."""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import subprocess
from pathlib import Path

from benchmarks.harness.output import results_save
from benchmarks.harness.postgres import Postgres, server_setting
from benchmarks.harness.services import HOST
from benchmarks.throughput.stack import ROLES, redis_client

# Label Studio 1.23.2 on PostgreSQL with 4 gunicorn workers, the same workload, alternated with
# Sebenzai on this kind of 2-core machine (issue 17's runs): the range over its runs, (low, high).
# Its one-worker stream is one annotator's next + submit; the "10.4 pairs/s" quoted here before
# was three annotators' combined stream.
LS_SUBMITS_PER_S = (9.3, 19.6)
LS_SUBMIT_P99_MS = (597.0, 1718.0)
LS_PAIRS_PER_S = (3.4, 7.3)
BARE_DRF_REQ_PER_S = 270.0
SUBMITS_GOAL = 5.0  # × Label Studio's submissions/s, 8 clients
PAIRS_GOAL = 10.0  # × Label Studio's one-worker pairs/s
P99_GOAL_MS = 100.0
APP_ROLES = ("gunicorn", "postgres", "celery", "redis")


def machine_info(args: argparse.Namespace) -> dict[str, str]:
    import celery
    import django
    import gunicorn

    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    pg_version = server_setting(Postgres.from_args(args), "server_version").split()[0]
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


def med(values: list[float]) -> float:
    values = [v for v in values if v == v]  # drop NaN
    return statistics.median(values) if values else float("nan")


def fmt(value: float, digits: int = 1) -> str:
    return "n/a" if value != value else f"{value:,.{digits}f}"


def cpu_row(values: dict[str, float], digits: int) -> str:
    app = sum(values[r] for r in APP_ROLES)
    cells = [fmt(values[r], digits) for r in APP_ROLES]
    cells += [f"**{fmt(app, digits)}**", fmt(values["client"], digits)]
    cells += [fmt(values["other"], digits), fmt(sum(values.values()), digits)]
    return " | ".join(cells)


def ls_range(values: tuple[float, float], digits: int = 1) -> str:
    return f"{values[0]:,.{digits}f}–{values[1]:,.{digits}f}"


def p99_verdict(p99: float) -> str:
    if p99 != p99:
        return "n/a"
    return f"{'meets' if p99 <= P99_GOAL_MS else 'above'} ≤ {P99_GOAL_MS:g} ms"


def verdict(ours: float, theirs: tuple[float, float], goal: float) -> str:
    """Against Label Studio's fastest run (the ratio that counts) and its slowest."""
    if ours != ours:
        return "n/a"
    low, high = ours / theirs[1], ours / theirs[0]
    return f"{low:.1f}–{high:.1f}× ({'meets' if low >= goal else 'below'} {goal:g}×)"


def _summary(args: argparse.Namespace, runs: list[dict], machine: dict[str, str]) -> list[str]:
    """The heading and the medians against Label Studio."""
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
    k = len(runs)
    workers = f"{args.gunicorn_workers} {args.gunicorn_class}"
    if args.gunicorn_class == "gthread":
        workers += f" × {args.gunicorn_threads} threads"
    return [
        f"## Worker API throughput (median of {k} run{'s' if k > 1 else ''})",
        "",
        f"gunicorn {workers} workers, Celery worker -c {args.celery_concurrency} prefork, "
        f"PostgreSQL {machine['postgresql']}, Redis {machine['redis']}, all on {HOST}; "
        f"{args.clients} client threads with one persistent connection each; work/next/ "
        + ("without a project." if args.without_project else "names the project."),
        "",
        "| scenario | Sebenzai | Label Studio 1.23.2 (issue 17's runs) | ratio (vs its fastest–slowest) |",
        "| --- | ---: | ---: | ---: |",
        f"| (a) submissions/s — {args.tasks:,} tasks × 3 answers, {args.clients} clients | "
        f"**{fmt(subs)}** | {ls_range(LS_SUBMITS_PER_S)} | {verdict(subs, LS_SUBMITS_PER_S, SUBMITS_GOAL)} |",
        f"| (a) submit latency p50 / p95 / p99 (ms) | {fmt(p50)} / {fmt(p95)} / **{fmt(p99)}** | "
        f"– / – / {ls_range(LS_SUBMIT_P99_MS, 0)} | {p99_verdict(p99)} |",
        f"| (a) next-task latency p50 / p95 / p99 (ms) | {fmt(n50)} / {fmt(n95)} / {fmt(n99)} | – | – |",
        f"| (a) API requests/s (next + submit) | {fmt(reqs)} | bare DRF endpoint ≈ {BARE_DRF_REQ_PER_S:.0f} | "
        f"{reqs / BARE_DRF_REQ_PER_S:.2f}× |",
        f"| (b) next + submit pairs/s — 1 worker, {args.pairs} pairs | **{fmt(pairs)}** | "
        f"{ls_range(LS_PAIRS_PER_S)} | {verdict(pairs, LS_PAIRS_PER_S, PAIRS_GOAL)} |",
        f"| (b) next / submit latency p50 (ms) | {fmt(b_next)} / {fmt(b_submit)} | – | – |",
        f"| pipeline: tasks accepted after (a) | {accepted:,.0f} / {args.tasks:,} | – | – |",
        f"| pipeline: scoring lag, last submit → every answer scored (s) | {fmt(lag)} | – | – |",
    ]


def _cpu_cores(runs: list[dict]) -> dict[str, float]:
    """Median cores busy by role during (a)."""
    return {role: med([r["a"]["cpu_cores"][role] for r in runs if "a" in r]) for role in ROLES}


def _cpu(runs: list[dict], machine: dict[str, str]) -> list[str]:
    """Where the CPU went: cores busy in (a), CPU ms per submission in (a) and per pair in (b)
    (what a submission costs the machine while the crowd works: Celery's backlog after the last
    submit is not in it)."""
    a = [r["a"] for r in runs if "a" in r]
    b = [r["b"] for r in runs if "b" in r]
    cost = {
        role: med([x["cpu_cores"][role] * x["wall_s"] / max(x["submitted"], 1) * 1000 for x in a])
        for role in ROLES
    }
    b_cost = {
        role: med([x["cpu_cores"][role] * x["wall_s"] / max(x["pairs"], 1) * 1000 for x in b])
        for role in ROLES
    }
    return [
        "",
        "Where the CPU goes (medians):",
        "",
        "| | " + " | ".join(APP_ROLES) + " | **app** | client | other | machine |",
        "| --- |" + " ---: |" * (len(APP_ROLES) + 4),
        "| (a) cores busy | " + cpu_row(_cpu_cores(runs), 2) + f" of {machine['nproc']} |",
        "| (a) CPU ms per submission | " + cpu_row(cost, 1) + " |",
        "| (b) CPU ms per pair | " + cpu_row(b_cost, 1) + " |",
    ]


def _per_run(runs: list[dict]) -> list[str]:
    lines = [
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
    return lines


def _set_up(args: argparse.Namespace, machine: dict[str, str], seed_s: float) -> list[str]:
    """The machine, the versions, the seed's time, the app, the planner statistics."""
    if args.no_analyze:
        statistics_note = "none gathered (--no-analyze)."
    elif args.analyze_every:
        statistics_note = (
            f"VACUUM ANALYZE after seeding, then ANALYZE every {args.analyze_every:g} s during "
            "each scenario."
        )
    else:
        statistics_note = "VACUUM ANALYZE after seeding."
    return [
        "",
        f"Machine: {machine['nproc']} cores ({machine['cpu']}), {machine['memory']}; "
        f"Python {machine['python']}, Django {machine['django']}, PostgreSQL {machine['postgresql']}, "
        f"Redis {machine['redis']}, gunicorn {machine['gunicorn']}, Celery {machine['celery']}. "
        f"Template seed took {seed_s:.0f} s. App: {machine['app']}.",
        "",
        f"Planner statistics: server autovacuum {machine['autovacuum']}; {statistics_note}",
    ]


def _warnings(runs: list[dict]) -> list[str]:
    """Other load on the machine, and the error lines and samples the runs met."""
    lines = []
    other = _cpu_cores(runs)["other"]
    if other > 0.2:
        lines += [
            "",
            f"Warning: other processes on this machine kept {other:.2f} cores busy during (a); "
            "the figures understate what the app does on a quiet machine.",
        ]
    problems: dict[str, int] = {}
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
    return lines


def report(
    args: argparse.Namespace, runs: list[dict], machine: dict[str, str], seed_s: float
) -> str:
    lines = _summary(args, runs, machine) + _cpu(runs, machine) + _per_run(runs)
    lines += _set_up(args, machine, seed_s) + _warnings(runs)
    return "\n".join(lines)


def results_write(
    args: argparse.Namespace, runs: list[dict], machine: dict[str, str], seed_s: float
) -> None:
    """Print the tables, one set per variant and the variants side by side; keep them and every
    figure in ``benchmarks/out/``."""
    from benchmarks.throughput.variants import comparison, variants_of

    variants = variants_of(args)
    tables = []
    for variant in variants:
        own = [{**run[variant.name], "log_problems": run["log_problems"]} for run in runs
               if run.get(variant.name, {}).get("a")]  # fmt: skip
        if own:
            machine_now = {**machine, "app": f"{variant.app_dir} @ {app_revision(variant.app_dir)}"}
            tables.append(
                f"# {variant.name}\n\n" + report(variant.args(args), own, machine_now, seed_s)
            )
    if len(variants) > 1:
        tables.append("\n".join(comparison(variants, runs)))
    table = "\n\n".join(tables)
    print(table, flush=True)
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    results_save(
        "api_throughput", {"args": settings, "machine": machine, "runs": runs}, table=table
    )

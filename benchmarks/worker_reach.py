#!/usr/bin/env python
"""The worker page on a throttled phone (issue 16, item 5): Debian's chromium at 360×640 with
touch, its CPU slowed 4×, on Fast 3G (1.6 Mbit/s down, 750 kbit/s up, 150 ms) and Slow 3G
(400 kbit/s both ways, 400 ms), against the platform served as in production (DEBUG off,
collectstatic's hashed names, whitenoise, gunicorn; SQLite) and seeded with one project of each
kind of 1280×720 photo-like JPEGs (benchmarks/children/reach_seed.py).

For each tool and profile, in a fresh browser context signed in beforehand (the login is not
counted): bytes and time to the first usable task, cold (empty cache) and warm (the same
context loading the page again); Submit → next task usable, median of ``--tasks`` answers given
by finger; bytes per task over those answers; and one answer for each network drop (``--drops``
seconds, at the Submit tap and 200 ms after): time from the network's return until the next
task is usable and the answer stored (the page may show the next task while still offline: it
says how often), answers lost (given less stored in the server's database) and pages stuck (not
so within 60 s). The page's own retry delays are left as a user gets them. The parts are in
benchmarks/reach/.

    .venv/bin/python benchmarks/worker_reach.py [--runs 1] [--tasks 10] \
        [--profiles fast3g,slow3g] [--tools classification,bbox,polygon,moderation] \
        [--drops 2,10] [--dpr 2]

Targets (issue 16): Submit → next ≤ 150 ms median on Slow 3G; first task ≤ 2 s on Slow 3G when
warm; 0 answers lost and 0 stuck pages in every drop scenario.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout: benchmarks.*

from benchmarks.harness.venv import run_in_project_venv

run_in_project_venv(__file__)

from benchmarks.harness.output import results_save  # noqa: E402
from benchmarks.reach.page import PHONE, PROFILES  # noqa: E402

KINDS = ("classification", "bbox", "polygon", "moderation")


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="repeats; medians over them")
    parser.add_argument("--tasks", type=int, default=10, help="answers timed per tool")
    parser.add_argument("--profiles", default="fast3g,slow3g", help=f"of {', '.join(PROFILES)}")
    parser.add_argument("--tools", default=",".join(KINDS))
    parser.add_argument("--drops", default="2,10", help="offline seconds, one scenario pair each")
    parser.add_argument("--dpr", type=float, default=2.0, help="the phone's device pixel ratio")
    args = parser.parse_args()
    args.profiles, args.tools = args.profiles.split(","), args.tools.split(",")
    args.drops = tuple(int(s) for s in args.drops.split(",") if s)
    if set(args.profiles) - set(PROFILES) or set(args.tools) - set(KINDS):
        parser.error("unknown profile or tool")
    if args.runs < 1 or args.tasks < 1:
        parser.error("--runs and --tasks must be at least 1")
    return args


def _header(args: argparse.Namespace, chromium: str) -> list[str]:
    return [
        f"machine: {platform.machine()}, {os.cpu_count()} cores; chromium {chromium}; "
        f"runs: {args.runs} (medians; lost and stuck summed)",
        f"phone: {PHONE['width']}×{PHONE['height']} CSS px at {args.dpr}× with touch, "
        "CPU slowed 4× on 3G, service workers blocked (warm = HTTP cache); images 1280×720 JPEG "
        "(synthetic photo-like, ~130 kB; ~30 kB as the page's WebP); "
        f"{args.tasks} answers per tool; drops of {', '.join(map(str, args.drops))} s",
    ]


def report(args: argparse.Namespace, results: list[dict], chromium: str) -> str:
    from benchmarks.reach.report import comparison_table, profile_table, targets_table

    drops = [f"{s}s {when}" for s in args.drops for when in ("at", "after")]
    lines = [*_header(args, chromium)]
    for name in args.profiles:
        mine = [r for r in results if r["profile"] == name]
        lines += ["", f"{PROFILES[name].name}", "", *profile_table(mine, args.tools, drops)]
    lines += ["", "Against the issue's figures", "", *comparison_table(results, args.tools)]
    lines += ["", "Targets", "", *targets_table(results, args.tools)]
    return "\n".join(lines)


def main() -> int:
    from benchmarks.reach.run import benchmark_run

    args = _args()
    started = time.perf_counter()
    results, chromium = benchmark_run(args)
    table = report(args, results, chromium)
    print("\n" + table + f"\n\nwall time: {time.perf_counter() - started:.0f} s", flush=True)
    results_save("worker_reach", {"args": vars(args), "results": results}, table=table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

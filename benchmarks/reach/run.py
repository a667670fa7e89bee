"""The runs: one server for all of them, one worker account per run and profile (signed in
once, unthrottled, its cookies reused by every tool's fresh context), each tool in turn."""

from __future__ import annotations

import argparse
import math
import time

from benchmarks.harness import BenchError
from benchmarks.reach.page import PROFILES
from benchmarks.reach.scenarios import Worker, tool_run
from benchmarks.reach.server import PASSWORD, Served, reach_server


def _chromium() -> str:
    from tests.browser.helpers import CHROMIUM

    if CHROMIUM is None:
        raise BenchError("chromium is not installed (scripts/install-chromium installs it)")
    return CHROMIUM


def signed_in(browser, base: str, worker: str) -> dict:
    """The worker's cookies after the login form, in a context of its own."""
    from tests.browser.helpers import sign_in

    context = browser.new_context(base_url=base)
    try:
        sign_in(context.new_page(), worker, PASSWORD)
        return context.storage_state()
    finally:
        context.close()


def project_size(args: argparse.Namespace) -> int:
    """Tasks per project so that no worker runs out: each answers ``tasks`` + 2 per drop
    length, and a task takes 3 answers. Twelve more, so that to the end more than the
    PREFETCH_MIN_OPEN_TASKS (10) the page needs to hold the next task are open, as in a project
    of real size."""
    per_worker = args.tasks + 2 * len(args.drops) + 2
    workers = args.runs * len(args.profiles)
    return max(per_worker, math.ceil(workers * per_worker / 3)) + 12


def tools_run(browser, served: Served, args: argparse.Namespace, names: dict, seen: dict):
    """Every tool on each profile for one run (``names``: the worker for each profile); yields
    the results as they come."""
    for name in args.profiles:
        state = signed_in(browser, served.base, names[name])
        worker = Worker(state, lambda who=names[name]: served.answers_stored(who))
        for kind in args.tools:
            took = time.perf_counter()
            result = tool_run(
                browser, served.base, served.projects[kind], worker, kind=kind,
                profile=PROFILES[name], tasks=args.tasks, drops=args.drops, dpr=args.dpr,
            )  # fmt: skip
            seen["done"] += 1
            print(
                f"  [{seen['done']}/{seen['of']}] {PROFILES[name].name} {kind}: "
                f"{time.perf_counter() - took:.0f} s",
                flush=True,
            )
            yield {"profile": name, "kind": kind, **result}


def benchmark_run(args: argparse.Namespace) -> tuple[list[dict], str]:
    """All runs; the results and the browser's version."""
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    workers_needed = args.runs * len(args.profiles)
    seen = {"done": 0, "of": workers_needed * len(args.tools)}
    results: list[dict] = []
    print(f"building and seeding ({project_size(args)} tasks per tool)…", flush=True)
    with reach_server(tasks=project_size(args), workers=workers_needed) as served:
        names = iter(served.workers)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, headless=True)
            try:
                for run in range(args.runs):
                    worker = {name: next(names) for name in args.profiles}
                    for result in tools_run(browser, served, args, worker, seen):
                        results.append({"run": run, **result})
                version = browser.version
            finally:
                browser.close()
    return results, version

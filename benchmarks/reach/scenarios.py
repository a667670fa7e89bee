"""One tool on one profile, in one fresh context: the cold load, the warm load, ``tasks`` answers
(Submit → next usable, bytes per task), then one answer for each network drop.

A drop takes the link offline for its seconds either as the finger lifts off Submit ("at") or
``AFTER_MS`` later ("after"), then brings it back. Recovered: from the link's return until both
the next task is usable and the answer is stored (with prefetch the next task may show while the
link is still down: "usable offline"); stuck: not so within ``RECOVER_S`` (the page is then
reloaded, which sends what it kept); lost: answers given less answers the server stored by then.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from benchmarks.reach.answer import answer, tap_submit
from benchmarks.reach.page import Link, Profile, phone_context, readies, wait_ready

AFTER_MS = 200
RECOVER_S = 60.0
LOAD_S = 120.0  # a cold load on Slow 3G is seconds; this is "never"
THINK_S = 1.2  # from task usable to Submit at least: the server refuses answers under 0.8 s


@dataclass(frozen=True)
class Worker:
    """Whom the page works for: their signed-in cookies, and their answers the server holds."""

    state: dict
    stored: Callable[[], int]


def _load(page, link: Link, url: str) -> dict:
    """Time and bytes to the first usable task: the bytes the page had when it was usable, not
    those of the tasks it then prefetches (read within one 50 ms poll; a lease takes 150–400 ms)."""
    before = link.settle()
    page.goto(url, wait_until="commit", timeout=LOAD_S * 1000)
    first = wait_ready(page, 0, LOAD_S)
    usable_bytes = link.bytes - before
    link.settle()
    return {"ms": first["at"], "bytes": usable_bytes}


def _answer_at_pace(page, link: Link, kind: str, i: int) -> None:
    shown = time.monotonic()
    answer(page, link.cdp, kind, i)
    page.wait_for_timeout(max(0.0, THINK_S - (time.monotonic() - shown)) * 1000)


def _submit_to_next(page, link: Link, kind: str, i: int) -> float:
    seen = readies(page)
    _answer_at_pace(page, link, kind, i)
    tap_submit(page, link.cdp)
    usable = wait_ready(page, seen, RECOVER_S)
    return usable["at"] - usable["tap"]


def _drop(page, link: Link, worker: Worker, kind: str, seconds: int, when: str) -> dict:
    seen, stored = readies(page), worker.stored()
    _answer_at_pace(page, link, kind, seen)
    if when == "at":
        link.offline(True)
        tap_submit(page, link.cdp)
    else:
        tap_submit(page, link.cdp)
        page.wait_for_timeout(AFTER_MS)
        link.offline(True)
    page.wait_for_timeout(seconds * 1000)
    usable_offline = readies(page) > seen
    back = time.monotonic()
    link.offline(False)
    try:
        wait_ready(page, seen, RECOVER_S)
        _wait_stored(page, worker, stored + 1, back + RECOVER_S)
        recovered, stuck = (time.monotonic() - back) * 1000, False
    except PlaywrightTimeout:
        recovered, stuck = None, True
        page.reload(wait_until="commit")
        wait_ready(page, 0, LOAD_S)
        _wait_stored(page, worker, stored + 1, time.monotonic() + 10, must=False)
    lost = 1 - (worker.stored() - stored)
    return {
        "recovered_ms": recovered,
        "lost": lost,
        "stuck": stuck,
        "usable_offline": usable_offline,
    }


def _wait_stored(page, worker: Worker, count: int, deadline: float, *, must: bool = True) -> None:
    """Until the server holds ``count`` answers of the worker (the page sends behind the task
    it shows), polling through the page so that the browser's events keep flowing."""
    while worker.stored() < count:
        if time.monotonic() > deadline:
            if must:
                raise PlaywrightTimeout("the answer was not stored in time")
            return
        page.wait_for_timeout(50)


def tool_run(
    browser,
    base: str,
    project: str,
    worker: Worker,
    *,
    kind: str,
    profile: Profile,
    tasks: int,
    drops: tuple[int, ...],
    dpr: float,
) -> dict:
    """Every figure of one tool (``kind``, its project ``project``) on one profile."""
    context = phone_context(browser, base, state=worker.state, dpr=dpr)
    try:
        page = context.new_page()
        link = Link(page, profile)
        url = f"/label/?project={project}"
        cold, warm = _load(page, link, url), _load(page, link, url)
        before = link.settle()
        next_ms = [_submit_to_next(page, link, kind, i) for i in range(tasks)]
        task_bytes = (link.settle() - before) / tasks
        dropped = {
            f"{seconds}s {when}": _drop(page, link, worker, kind, seconds, when)
            for seconds in drops
            for when in ("at", "after")
        }
    finally:
        context.close()
    return {
        "cold": cold,
        "warm": warm,
        "next_ms": next_ms,
        "next_median_ms": statistics.median(next_ms),
        "task_bytes": task_bytes,
        "drops": dropped,
    }

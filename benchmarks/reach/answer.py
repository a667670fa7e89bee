"""A finger's answer for each tool, as touch input through the page's own DevTools session.

Not through the browser tests' touch helpers (tests/browser/worker_helpers.py): each opens a
session and detaches it, and chromium answers a detach by setting ``navigator.onLine`` back to
true (firing "online") while the emulated network is still down, which would end a drop early
in the page's eyes. Their ``image_to_screen`` is reused; that module imports the models, so Django
is set up here on the test settings first (nothing touches a database from this process).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache

Point = tuple[float, float]


@cache
def _to_screen() -> Callable:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from tests.browser.worker_helpers import image_to_screen

    return image_to_screen


def _touch(cdp, kind: str, at: Point | None = None) -> None:
    points = [{"x": at[0], "y": at[1]}] if at else []
    cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})


def tap_at(page, cdp, at: Point, pause_ms: int = 200) -> None:
    """Down, a short press, up (screen px), then a finger's pause: quicker taps read as double."""
    _touch(cdp, "touchStart", at)
    page.wait_for_timeout(60)
    _touch(cdp, "touchEnd")
    page.wait_for_timeout(pause_ms)


def tap(page, cdp, selector: str, pause_ms: int = 200) -> None:
    box = page.locator(selector).bounding_box()
    at = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tap_at(page, cdp, at, pause_ms)


def _drag(page, cdp, start: Point, end: Point, steps: int = 6) -> None:
    (x0, y0), (x1, y1) = start, end
    _touch(cdp, "touchStart", start)
    for i in range(1, steps + 1):
        _touch(cdp, "touchMove", (x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps))
    _touch(cdp, "touchEnd")
    # Chromium's gesture detector swallows a tap just after a drag (as stopping a fling).
    page.wait_for_timeout(400)


def _image_point(page, point: Point) -> Point:
    return tuple(_to_screen()(page, *point))  # type: ignore[return-value]


def _classification(page, cdp, i: int) -> None:
    tap(page, cdp, f"#tools button.choice >> nth={i % 2}")


def _moderation(page, cdp, i: int) -> None:
    tap(page, cdp, "#reveal")
    tap(page, cdp, "#tools button.choice >> nth=0")  # safe


def _bbox(page, cdp, i: int) -> None:
    _drag(page, cdp, _image_point(page, (300 + 10 * i, 200)), _image_point(page, (700, 500)))


def _polygon(page, cdp, i: int) -> None:
    corners = [(300, 200), (800, 220), (600, 560)]
    for point in [*corners, corners[0]]:  # the first point again closes it
        tap_at(page, cdp, _image_point(page, point))
    if page.locator("polygon.polygon").count() != 1:
        raise RuntimeError("the polygon did not close")


ANSWERS: dict[str, Callable] = {
    "classification": _classification,
    "bbox": _bbox,
    "polygon": _polygon,
    "moderation": _moderation,
}


def answer(page, cdp, kind: str, i: int) -> None:
    """Give the ``i``-th answer on the task shown (not yet submitted)."""
    ANSWERS[kind](page, cdp, i)


def tap_submit(page, cdp) -> None:
    """Returns as the finger lifts (when the page acts)."""
    tap(page, cdp, "#submit", pause_ms=0)

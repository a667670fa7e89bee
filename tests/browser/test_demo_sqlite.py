"""The demo as a newcomer meets it: `scripts/demo`'s server on SQLite, a worker signed in at
desktop and at phone size labelling two tasks of every kind, never meeting an error screen."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.browser.helpers import CHROMIUM
from tests.demo_server import demo_env, demo_server

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")

SIZES = {"desktop": ((1280, 800), False), "phone": ((360, 640), True)}
WORKER_FOR = {"desktop": "amara", "phone": "kofi"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    # A person takes longer than MIN_ANSWER_MS to look at an image; the test need not wait it.
    env = demo_env(tmp_path_factory.mktemp("demo-sqlite"), MIN_ANSWER_MS="0")
    with demo_server(env, images=12) as base:
        yield base, _projects(base)


def _projects(base: str) -> dict[str, str]:
    """The demo's project ids by kind, as its requester reads them from the API."""
    login = urllib.request.Request(  # noqa: S310 - loopback only
        base + "/api/v1/auth/token/",
        data=json.dumps({"username": "demo-requester", "password": "sebenzai-demo"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(login, timeout=30) as response:  # noqa: S310
        token = json.load(response)["token"]
    listing = urllib.request.Request(  # noqa: S310
        base + "/api/v1/projects/", headers={"Authorization": f"Token {token}"}
    )
    with urllib.request.urlopen(listing, timeout=30) as response:  # noqa: S310
        return {p["kind"]: p["id"] for p in json.load(response)["results"]}


def _answer(page, kind: str) -> None:
    """Give a plausible answer with the page's own controls, then submit."""
    if kind == "classification":
        page.locator("#tools button").first.click()
    elif kind == "moderation":
        page.click("#reveal")
        page.locator("#tools button.safe").click()
    else:
        box = page.locator("#stage").bounding_box()
        x, y = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3
        if kind == "bbox":
            page.mouse.move(x, y)
            page.mouse.down()
            page.mouse.move(x + 40, y + 30, steps=5)
            page.mouse.up()
        else:
            for dx, dy in ((0, 0), (50, 0), (25, 40), (0, 0)):
                page.mouse.click(x + dx, y + dy)
    page.click("#submit")


@pytest.mark.parametrize("size", sorted(SIZES))
def test_a_worker_labels_two_tasks_of_every_kind_on_the_demo(browser, demo, size):
    base, projects = demo
    viewport, touch = SIZES[size]
    context = browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]},
        has_touch=touch,
        is_mobile=touch,
        base_url=base,
    )
    errors: list[str] = []
    bad_responses: list[str] = []
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "response",
        lambda r: bad_responses.append(f"{r.status} {r.url}") if r.status >= 500 else None,
    )
    try:
        page.goto("/accounts/login/")
        page.fill("input[name=username]", WORKER_FOR[size])
        page.fill("input[name=password]", "sebenzai-demo")
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        for kind in ("classification", "moderation", "bbox", "polygon"):
            page.goto(f"/label/?project={projects[kind]}")
            for _ in range(2):
                page.wait_for_selector("#labeller[data-state=ready]")
                task = page.locator("#labeller").get_attribute("data-task")
                _answer(page, kind)
                page.wait_for_function(
                    """(task) => {
                        const el = document.getElementById('labeller');
                        const s = el.dataset.state;
                        return (s === 'ready' && el.dataset.task !== task) || s === 'empty'
                            || s === 'error';
                    }""",
                    arg=task,
                )
                state = page.locator("#labeller").get_attribute("data-state")
                assert state != "error", page.locator("#message").inner_text()
    finally:
        context.close()
    assert not errors, errors
    assert not bad_responses, bad_responses

"""The installable app on a phone: the worker page registers its service worker, which then
controls the pages without breaking labelling and keeps no API response."""

from __future__ import annotations

import pytest

from tests.browser.worker_helpers import open_label_page, project_with_images, sign_up

pytestmark = pytest.mark.django_db(transaction=True)


def _console_problems(page) -> list[str]:
    found: list[str] = []
    page.on(
        "console",
        lambda msg: found.append(msg.text) if msg.type in ("error", "warning") else None,
    )
    return found


def test_the_worker_page_installs_the_service_worker_and_still_labels(
    new_page, requester, live_server
):
    # given a worker on a phone with a task to label
    project = project_with_images(requester, "classification", images=2)
    page = new_page(viewport=(360, 640), touch=True)
    problems = _console_problems(page)
    sign_up(page, "nomsa")
    # when the labelling page has loaded
    open_label_page(page, project)
    # then a service worker scoped to every worker page is active
    scope = page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)")
    assert scope == live_server.url + "/"
    assert page.evaluate("navigator.serviceWorker.ready.then((r) => r.active.state)") in (
        "activating",
        "activated",
    )
    # and once it controls the page, the page still leases a task and takes an answer
    open_label_page(page, project)
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    page.locator("#tools button").first.click()
    page.click("#submit")
    page.wait_for_selector("#labeller[data-state=ready]")
    # and nothing the API answered (leases, images) is in any of its caches
    cached = page.evaluate(
        """async () => {
            const urls = [];
            for (const name of await caches.keys()) {
                for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
            }
            return urls;
        }"""
    )
    assert not [url for url in cached if "/api/" in url or "/image/" in url]
    assert problems == []

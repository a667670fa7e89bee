"""Browser fixtures: Debian's chromium driven by Playwright against pytest-django's live server.

Every test in this folder is marked ``browser`` and skipped with a reason when chromium or Playwright
is missing (``scripts/install-chromium`` installs it; ``scripts/test`` runs that on a fresh machine).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from tests.browser.helpers import CHROMIUM

# Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to run
# beside one unless told this thread is synchronous code, which it is. (Set for the whole run, as
# the database fixtures run outside any one test; the deploy-check test strips it from its child.)
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (scripts/install-chromium installs it)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server) -> Iterator[Callable]:
    """Open pages in fresh contexts (a phone viewport when asked); console errors fail the test."""
    contexts, errors = [], []

    def open_page(viewport: tuple[int, int] = (1280, 800), touch: bool = False, scale: float = 1):
        context = browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]},
            device_scale_factor=scale,
            has_touch=touch,
            is_mobile=touch,
            base_url=live_server.url,
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield open_page
    for context in contexts:
        # A labelling page gives its prefetched task back as it closes; not to a server whose
        # test database is being emptied.
        context.route("**/release/", lambda route: route.abort())
        context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


@pytest.fixture
def settled_new_page(new_page) -> Iterator[Callable]:
    """``new_page``, and at the end each page back online with its labelling requests done (and
    a moment for the header's figures and check feedback read after a task), so that no request
    is still in the server while the test database is emptied."""
    pages = []

    def open_page(**kwargs):
        pages.append(new_page(**kwargs))
        return pages[-1]

    yield open_page
    for page in pages:
        page.context.set_offline(False)
        page.unroute_all(behavior="ignoreErrors")
        page.wait_for_function(
            "() => !['loading', 'sending'].includes(document.getElementById('labeller')?.dataset.state)"
        )
        page.wait_for_timeout(300)

"""A new worker's first minutes, at 1280×800 and on a 360×640 touch screen: the task, its tools,
Submit and the message fit one screen; no page scrolls sideways; touch targets are thumb-sized;
a focused button does its own thing on Enter and Space; a failing server is retried and never
strands the worker; the site has an icon; staff find their dashboards."""

from __future__ import annotations

import json

import pytest

from accounts.models import Role
from annotations.models import Assignment, AssignmentState
from tests.browser.helpers import sign_in
from tests.browser.worker_helpers import (
    contrast_ratio,
    open_label_page,
    outside_viewport,
    project_with_images,
    sign_up,
    stored_answer,
    wait_until,
)
from tests.helpers import PASSWORD

DESK = {"viewport": (1280, 800)}
PHONE = {"viewport": (360, 640), "touch": True}
SIZES = pytest.mark.parametrize("size", [DESK, PHONE], ids=["desk", "phone"])
KINDS = ["bbox", "polygon", "classification", "moderation"]
SERVER_ERROR = json.dumps(
    {"error": {"code": "internal_error", "message": "Something went wrong.", "field": ""}}
)


@pytest.fixture
def new_page(settled_new_page):
    return settled_new_page  # these tests leave requests in flight: settle them first


@SIZES
@pytest.mark.parametrize("kind", KINDS)
def test_the_task_its_tools_submit_and_the_message_fit_one_screen(new_page, requester, kind, size):
    project = project_with_images(requester, kind, size=(1600, 1200))
    page = new_page(**size)
    sign_up(page, f"fit_{kind}")
    open_label_page(page, project)
    # when the worker submits before answering (Enter: a click would scroll the button into view)
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('message').textContent !== ''")
    # then the page has not scrolled, and the stage, every tool, Submit and the message are in view
    assert page.evaluate("window.scrollY") == 0
    assert outside_viewport(page, "#stage-wrap, #tools button, #submit, #skip, #message") == []
    assert page.locator("#stage-wrap").bounding_box()["height"] >= 150


@pytest.mark.parametrize("path", ["/", "/label/", "/history/", "/leaderboard/"])
def test_no_worker_page_scrolls_sideways_on_a_phone(new_page, requester, path):
    project = project_with_images(requester, "classification", images=2)
    page = new_page(**PHONE)
    sign_up(page, "wide_margins_worker")
    open_label_page(page, project)  # one answer, so History and the leaderboard have rows
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    stored_answer(project)
    page.goto(path)
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


@SIZES
def test_the_top_bar_links_and_buttons_are_thumb_sized(new_page, size):
    page = new_page(**size)
    sign_up(page, "thumbs")
    heights = page.eval_on_selector_all(
        ".topbar a, .topbar button", "els => els.map(e => [e.textContent.trim(), e.offsetHeight])"
    )
    assert len(heights) >= 6
    assert [h for h in heights if h[1] < 44] == []


def test_a_new_workers_phone_home_shows_start_labelling_without_scrolling(new_page):
    page = new_page(**PHONE)
    sign_up(page, "newcomer")
    assert outside_viewport(page, "a.start") == []


def test_unearned_badges_are_legible_and_still_look_unearned(new_page):
    page = new_page(**PHONE)
    sign_up(page, "newcomer")
    unearned = page.locator(".badge:not(.earned)")
    assert unearned.count() == 3  # nobody starts with a badge
    for text in unearned.first.locator("strong, .muted").all():
        assert contrast_ratio(text) >= 4.5
    # and they still look unearned: marked as such, unlike an earned badge
    assert unearned.first.locator(".locked").inner_text().strip() != ""


def test_enter_and_space_on_a_focused_label_choose_it_and_do_not_submit(new_page, requester):
    project = project_with_images(requester, "classification", images=2)
    page = new_page()
    sign_up(page, "keyboard_only")
    open_label_page(page, project)
    truck = page.get_by_role("button", name="truck")
    truck.focus()
    page.keyboard.press("Enter")
    assert truck.get_attribute("aria-pressed") == "true"
    taxi = page.get_by_role("button", name="taxi")
    taxi.focus()
    page.keyboard.press(" ")
    assert taxi.get_attribute("aria-pressed") == "true"
    page.wait_for_timeout(300)
    assert page.get_attribute("#labeller", "data-state") == "ready"
    assert not Assignment.objects.filter(state=AssignmentState.SUBMITTED).exists()
    # and Enter on the focused Submit sends the chosen label
    page.locator("#submit").focus()
    page.keyboard.press("Enter")
    assert stored_answer(project).payload == {"label": "taxi"}


def test_a_label_clicked_with_the_mouse_leaves_enter_to_submit(new_page, requester):
    project = project_with_images(requester, "classification")
    page = new_page()
    sign_up(page, "mouse_then_enter")
    open_label_page(page, project)
    page.get_by_role("button", name="truck").click()
    page.keyboard.press("Enter")
    assert stored_answer(project).payload == {"label": "truck"}


def test_enter_on_a_focused_skip_skips(new_page, requester):
    project = project_with_images(requester, "bbox", images=2)
    page = new_page()
    sign_up(page, "skipper")
    open_label_page(page, project)
    first = page.get_attribute("#labeller", "data-task")
    page.locator("#skip").focus()
    page.keyboard.press("Enter")
    wait_until(lambda: Assignment.objects.filter(state=AssignmentState.SKIPPED).exists())
    page.wait_for_function(
        "(t) => document.getElementById('labeller').dataset.task !== t", arg=first
    )
    assert "Draw at least one" not in page.locator("#message").inner_text()


@pytest.mark.parametrize("key", ["Enter", " "], ids=["enter", "space"])
def test_a_focused_reveal_reveals(new_page, requester, key):
    project = project_with_images(requester, "moderation")
    page = new_page()
    sign_up(page, "revealer")
    open_label_page(page, project)
    page.locator("#reveal").focus()
    page.keyboard.press(key)
    page.wait_for_function(
        "() => !document.getElementById('stage-image').classList.contains('blurred')"
    )
    assert page.locator("#veil").is_hidden()
    assert "Choose safe" not in page.locator("#message").inner_text()


def fail_first(page, times: int) -> list[int]:
    """Answer the first ``times`` calls of /work/next/ for a task to show with a 500; count every
    such call (not the page's quiet asking for the task after, to prefetch)."""
    calls: list[int] = []

    def handle(route):
        if "holding" in (route.request.post_data_json or {}):
            return route.continue_()
        calls.append(1)
        if len(calls) <= times:
            route.fulfill(status=500, content_type="application/json", body=SERVER_ERROR)
        else:
            route.continue_()

    page.route("**/api/v1/work/next/", handle)
    return calls


def test_a_server_error_on_next_is_retried_and_the_task_appears(new_page, requester):
    project = project_with_images(requester, "classification")
    page = new_page()
    sign_up(page, "patient")
    calls = fail_first(page, 2)
    page.goto(f"/label/?project={project.pk}")
    page.wait_for_selector("#labeller[data-state=ready]", timeout=15_000)
    assert len(calls) == 3
    assert page.locator("#tools button").count() == 3
    assert page.locator("#retry").is_hidden()


def test_a_server_that_keeps_failing_offers_try_again(new_page, requester):
    project = project_with_images(requester, "classification", images=2)
    page = new_page(**PHONE)
    sign_up(page, "stranded")
    open_label_page(page, project)
    first = page.get_attribute("#labeller", "data-task")
    # when the next task cannot be had, even after the page's own retries
    calls = fail_first(page, 1000)
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    stored_answer(project)
    retry = page.get_by_role("button", name="Try again")
    retry.wait_for(state="visible", timeout=15_000)
    # then the worker was told what the page was doing, and the old task is gone from the page
    assert len(calls) >= 3
    assert "Could not get a task" in page.locator("#message").inner_text()
    assert page.get_attribute("#stage-image", "href") in (None, "")
    assert outside_viewport(page, "#retry") == []
    # and once the server answers again, Try again brings the next task
    page.unroute("**/api/v1/work/next/")
    retry.tap()
    page.wait_for_function(
        "(t) => { const l = document.getElementById('labeller');"
        " return l.dataset.state === 'ready' && l.dataset.task !== t; }",
        arg=first,
    )
    assert retry.is_hidden()


def test_the_site_has_an_icon(new_page):
    page = new_page()
    sign_up(page, "iconic")
    href = page.get_attribute("link[rel~=icon]", "href")
    icon = page.request.get(href)
    assert icon.ok
    assert icon.headers["content-type"].startswith("image/")
    assert page.request.get("/favicon.ico").ok


def test_staff_see_a_link_to_the_staff_dashboards(new_page, make_user):
    make_user(Role.WORKER, "overseer", staff=True)
    page = new_page()
    sign_in(page, "overseer", PASSWORD)
    assert page.locator("main a[href='/staff/']").is_visible()
    assert page.locator(".topbar a[href='/staff/']").is_visible()
    page.locator("main a[href='/staff/']").click()
    page.wait_for_url("**/staff/")


def test_workers_do_not_see_the_staff_link(new_page):
    page = new_page()
    sign_up(page, "plainworker")
    assert page.locator("a[href='/staff/']").count() == 0

"""The labelling page when the network drops (issue 16, item 2): an answer is never lost or stored
twice, the page never ends on a blank image with Submit enabled, an answer given offline waits on
the phone (across a reload) and is sent when the connection returns, and the worker is told what
the page is doing. The network is dropped with Playwright's ``context.set_offline``; the page's
retry backoff is shortened through localStorage so that the tests stay quick."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError

from annotations.models import Annotation, Assignment
from tests.browser.worker_helpers import open_label_page, project_with_images, sign_up, wait_until

DESK = {"viewport": (1280, 800)}
PHONE = {"viewport": (360, 640), "touch": True}
SIZES = pytest.mark.parametrize("size", [DESK, PHONE], ids=["desk", "phone"])
MESSAGE = "() => document.getElementById('message').textContent"
NEXT_TASK_USABLE = """(t) => {
    const l = document.getElementById('labeller');
    return l.dataset.state === 'ready' && l.dataset.task && l.dataset.task !== t
        && !!document.getElementById('stage-image').getAttribute('href')
        && !document.getElementById('submit').disabled;
}"""


@pytest.fixture
def new_page(settled_new_page):
    return settled_new_page  # these tests leave requests in flight: settle them first


def labelling(new_page, requester, size, username: str, images: int = 2):
    project = project_with_images(requester, "classification", images=images)
    page = new_page(**size)
    sign_up(page, username)
    page.evaluate("localStorage.setItem('sebenzai.retryDelayMs', '100')")
    open_label_page(page, project)
    return project, page


def press_submit(page, size) -> None:
    page.keyboard.press("1")
    if size.get("touch"):
        page.locator("#submit").tap()
    else:
        page.click("#submit")


def wait_for_message(page, text: str, timeout: float = 10_000) -> None:
    page.wait_for_function(f"(s) => ({MESSAGE})().includes(s)", arg=text, timeout=timeout)
    assert page.locator("#message").is_visible()


def kept_answers(page) -> list:
    return json.loads(page.evaluate("localStorage.getItem('sebenzai.outbox') || '[]'"))


@SIZES
@pytest.mark.parametrize("reached", [False, True], ids=["before-server", "reply-lost"])
def test_an_answer_sent_as_the_network_drops_is_stored_once(new_page, requester, size, reached):
    # given a worker answering a task
    project, page = labelling(new_page, requester, size, "thandi")
    first = page.get_attribute("#labeller", "data-task")
    context = page.context

    def drop(route):
        if reached:  # the server stores the answer, and its reply is lost with the network
            route.fetch()
        context.set_offline(True)
        route.abort("internetdisconnected")

    page.route("**/submit/", drop, times=1)
    # when the network drops as Submit is pressed, for 2 s
    press_submit(page, size)
    wait_for_message(page, "Offline — your answer is saved on this phone")
    page.wait_for_timeout(2000)
    context.set_offline(False)
    # then the next task appears and the answer is stored exactly once
    page.wait_for_function(NEXT_TASK_USABLE, arg=first, timeout=15_000)
    assert Annotation.objects.filter(task__project=project).count() == 1
    assert kept_answers(page) == []


@pytest.mark.parametrize(
    ("during", "seconds", "size"),
    [("lease", 2, PHONE), ("image", 2, PHONE), ("image", 10, PHONE), ("lease", 2, DESK)],
    ids=["lease-2s-phone", "image-2s-phone", "image-10s-phone", "lease-2s-desk"],
)
def test_a_drop_while_the_next_task_loads_ends_on_a_usable_task(
    new_page, requester, during, seconds, size
):
    # given a worker whose answer has just been stored
    project, page = labelling(new_page, requester, size, "sipho")
    first = page.get_attribute("#labeller", "data-task")
    context = page.context

    def drop(route):
        context.set_offline(True)
        route.abort("internetdisconnected")

    if during == "lease":
        page.route("**/api/v1/work/next/", drop, times=1)
    else:
        page.route(lambda url: "/image/" in url, drop, times=1)
    # when the network drops while the next lease or its image loads
    press_submit(page, size)
    wait_for_message(page, "Offline")
    assert Annotation.objects.filter(task__project=project).count() == 1
    # then, while it is down, the worker is told, and there is no Submit on a blank stage
    page.wait_for_timeout(seconds * 1000)
    assert "Offline" in page.locator("#message").inner_text()
    assert page.locator("#message").is_visible()
    assert page.locator("#submit").is_disabled() or page.get_attribute("#stage-image", "href")
    # and once it is back, the next task is there, image loaded, tools present
    context.set_offline(False)
    page.wait_for_function(NEXT_TASK_USABLE, arg=first, timeout=15_000)
    assert page.locator("#tools button").count() == 3
    assert page.locator("#retry").is_hidden()
    assert Annotation.objects.filter(task__project=project).count() == 1


def test_an_answer_given_offline_waits_on_the_phone_across_a_reload(new_page, requester):
    # given a worker on a phone whose network is down
    project, page = labelling(new_page, requester, PHONE, "lindiwe")
    first = page.get_attribute("#labeller", "data-task")
    page.context.set_offline(True)
    # when she answers, and the page is reloaded while still offline
    press_submit(page, PHONE)
    wait_for_message(page, "Offline — your answer is saved on this phone")
    assert [a["payload"] for a in kept_answers(page)] == [{"label": "car"}]
    with pytest.raises(PlaywrightError):
        page.reload()
    assert not Annotation.objects.filter(task__project=project).exists()
    # then, back online, the answer is sent once and the next task follows
    page.context.set_offline(False)
    page.goto(f"/label/?project={project.pk}")
    page.wait_for_function(NEXT_TASK_USABLE, arg=first, timeout=15_000)
    answers = Annotation.objects.filter(task__project=project)
    assert [a.payload for a in answers] == [{"label": "car"}]
    assert str(answers[0].task_id) == first
    assert kept_answers(page) == []


def test_a_kept_answer_whose_lease_ran_out_is_dropped_with_a_message(new_page, requester):
    # given an answer kept on the phone for a lease that has since run out
    project, page = labelling(new_page, requester, PHONE, "zanele")
    assignment = Assignment.objects.get(task__project=project)
    past = (timezone.now() - timedelta(seconds=5)).isoformat()
    kept = {"assignment": str(assignment.pk), "payload": {"label": "car"}}
    kept |= {"duration_ms": 4000, "expires_at": past}
    page.evaluate("(a) => localStorage.setItem('sebenzai.outbox', JSON.stringify([a]))", kept)
    submits: list[str] = []
    page.on("request", lambda r: submits.append(r.url) if "/submit/" in r.url else None)
    # when the page is opened again
    page.reload()
    # then the worker is told, nothing is sent or stored, and a task follows
    wait_for_message(page, "the time for its task ran out")
    page.wait_for_selector("#labeller[data-state=ready]")
    assert submits == []
    assert not Annotation.objects.exists()
    assert kept_answers(page) == []


def test_the_worker_is_told_when_the_network_drops_and_returns(new_page, requester):
    # given a worker on a phone with a task to label
    _, page = labelling(new_page, requester, PHONE, "bheki")
    # when the network drops, then returns
    page.context.set_offline(True)
    wait_for_message(page, "Offline")
    page.context.set_offline(False)
    # then the message goes, and the task is still usable
    wait_until(lambda: "Offline" not in page.locator("#message").inner_text())
    assert page.locator("#submit").is_enabled()

"""Prefetch on the labelling page (issue 16, item 1): while a task is labelled the page holds the
next two (their leases and images), Submit shows one without asking the server, the answer is
sent behind it (kept on the phone if the network is down), and leaving gives the held tasks back."""

from __future__ import annotations

import json

import pytest

from annotations.models import Annotation, Assignment, AssignmentState, Task
from tests.browser.worker_helpers import open_label_page, project_with_images, sign_up, wait_until

PHONE = {"viewport": (360, 640), "touch": True}
IMAGES = 20  # well above PREFETCH_MIN_OPEN_TASKS (10): a project with work to spare
READY_AFTER = """(t) => {
    const l = document.getElementById('labeller');
    return l.dataset.state === 'ready' && l.dataset.task && l.dataset.task !== t;
}"""


@pytest.fixture
def new_page(settled_new_page):
    return settled_new_page


def held(worker_name: str) -> list[Assignment]:
    leases = Assignment.objects.filter(
        worker__username=worker_name, state=AssignmentState.LEASED
    ).order_by("created_at")
    return list(leases)


def labelling(new_page, requester, name: str, **size):
    project = project_with_images(requester, "classification", images=IMAGES)
    page = new_page(**(size or PHONE))
    sign_up(page, name)
    page.evaluate("localStorage.setItem('sebenzai.retryDelayMs', '100')")
    open_label_page(page, project)
    wait_until(lambda: len(held(name)) == 3, page=page)  # the task shown and the two after it
    # The page has the lease of one after once it asks for its image.
    asked_for = "(t) => performance.getEntriesByType('resource').some(e => e.name.includes(t))"
    for lease in held(name)[1:]:
        page.wait_for_function(asked_for, arg=f"{lease.task_id}/image/")
    return project, page


def answer(page) -> str:
    shown = page.get_attribute("#labeller", "data-task")
    page.keyboard.press("1")
    page.locator("#submit").tap()
    return shown


def test_submit_shows_the_task_already_held_without_asking_the_server(new_page, requester):
    # given a worker on a phone, the page holding the task after the one shown
    project, page = labelling(new_page, requester, "ayodele")
    shown, prefetched, _ = held("ayodele")
    assert page.get_attribute("#labeller", "data-task") == str(shown.task_id)
    asked: list[dict] = []
    page.on("request", lambda r: asked.append(r.post_data_json) if "/work/next/" in r.url else None)
    # when she answers
    first = answer(page)
    page.wait_for_function(READY_AFTER, arg=first)
    # then the held task shows: the page asked the server for no task to show, only (behind
    # it) for those after
    assert page.get_attribute("#labeller", "data-task") == str(prefetched.task_id)
    assert all("holding" in body for body in asked)
    wait_until(lambda: Annotation.objects.filter(task__project=project).count() == 1, page=page)
    # and behind it the answer is stored and two tasks are held again
    wait_until(lambda: len(held("ayodele")) == 3, page=page)
    assert held("ayodele")[0].pk == prefetched.pk


def test_answers_in_a_row_are_each_stored_once_and_never_four_tasks_held(new_page, requester):
    project, page = labelling(new_page, requester, "chiamaka")
    shown_tasks = []
    for _ in range(5):
        shown_tasks.append(answer(page))
        page.wait_for_function(READY_AFTER, arg=shown_tasks[-1])
        assert len(held("chiamaka")) <= 3
    wait_until(lambda: Annotation.objects.filter(task__project=project).count() == 5, page=page)
    stored = list(
        Annotation.objects.filter(task__project=project).values_list("task_id", flat=True)
    )
    assert sorted(map(str, stored)) == sorted(shown_tasks)
    assert all(t.slots_taken <= t.target_redundancy for t in Task.objects.filter(project=project))


def test_offline_after_submit_the_held_task_shows_and_the_answer_waits(new_page, requester):
    # given a worker whose page holds the next task
    project, page = labelling(new_page, requester, "musa")
    # when the network drops as she presses Submit
    page.context.set_offline(True)
    first = answer(page)
    # then the next task is there to label at once, and her answer waits on the phone
    page.wait_for_function(READY_AFTER, arg=first)
    kept = json.loads(page.evaluate("localStorage.getItem('sebenzai.outbox') || '[]'"))
    assert [a["payload"] for a in kept] == [{"label": "car"}]
    assert not Annotation.objects.filter(task__project=project).exists()
    page.wait_for_function(
        "() => document.getElementById('message').textContent.includes('saved on this phone')"
    )
    # and once the network returns it is stored, once
    page.wait_for_timeout(2000)
    page.context.set_offline(False)
    stored = lambda: Annotation.objects.filter(task__project=project).count() == 1  # noqa: E731
    wait_until(stored, timeout=15, page=page)
    wait_until(lambda: page.evaluate("localStorage.getItem('sebenzai.outbox')") is None, page=page)
    assert str(Annotation.objects.get(task__project=project).task_id) == first


def test_leaving_the_page_gives_the_held_task_back(new_page, requester):
    # given a worker whose page holds the next task
    _, page = labelling(new_page, requester, "kofi")
    shown, *prefetched = held("kofi")
    # when the page is hidden for good (it is left, closed or reloaded: the browser says
    # "pagehide"; fired here, as a navigation's beacon reaches the test server only most times)
    page.evaluate("window.dispatchEvent(new PageTransitionEvent('pagehide'))")
    # then the held tasks are free for others at once; the one he was shown stays his to finish
    gone = [a.pk for a in prefetched]
    wait_until(
        lambda: Assignment.objects.filter(pk__in=gone, state="expired").count() == 2, page=page
    )
    assert {t.slots_taken for t in Task.objects.filter(assignments__pk__in=gone)} == {0}
    assert [a.pk for a in held("kofi")] == [shown.pk]


def test_a_slow_link_gets_smaller_images(new_page, requester):
    # given a phone with a 2× screen on Slow 3G (the Network Information API says so)
    project = project_with_images(requester, "bbox", images=IMAGES, size=(1600, 1200))
    sizes = {}
    for name, slow in (("amaka", False), ("thabo", True)):
        page = new_page(**PHONE, scale=2)
        sign_up(page, name)
        if slow:
            cdp = page.context.new_cdp_session(page)
            cdp.send("Network.enable")
            conditions = {"latency": 400, "downloadThroughput": 50_000, "uploadThroughput": 50_000}
            cdp.send("Network.emulateNetworkConditions", {"offline": False, **conditions})
        images: list[str] = []
        page.on(
            "request", lambda r, images=images: images.append(r.url) if "/image/" in r.url else None
        )
        open_label_page(page, project)
        sizes[slow] = int(images[0].rsplit("=", 1)[1])
    # then the slow link asks for half the pixels across (CSS, not device, pixels)
    assert sizes[True] <= sizes[False] / 2 + 1

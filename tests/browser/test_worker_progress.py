"""Points and streak in the browser: a worker's answer is decided with two answers sent through
the API, and the labelling page's header, the home page and the leaderboard show the points."""

from __future__ import annotations

from accounts.models import WorkerProfile
from tests.browser.worker_helpers import (
    open_label_page,
    project_with_images,
    sign_up,
    stored_answer,
)
from tests.helpers import lease, submit


def test_points_and_streak_appear_once_the_task_is_decided(new_page, requester, worker_clients):
    # given a task that two other workers already answered "taxi" through the API
    project = project_with_images(requester, "classification")
    for client in worker_clients[:2]:
        work = lease(client, project)
        assert submit(client, work["assignment"], {"label": "taxi"}).status_code == 201
    page = new_page()
    sign_up(page, "naledi")
    WorkerProfile.objects.filter(user__username="naledi").update(daily_target=1)
    open_label_page(page, project)
    assert page.locator("#stat-points").inner_text() == "0"
    # when the worker answers the same: the third answer decides the task
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    assert stored_answer(project).payload == {"label": "taxi"}
    # then the header shows the points and a one-day streak, without a reload
    page.wait_for_function("() => document.getElementById('stat-points').textContent === '10'")
    assert page.locator("#stat-streak").inner_text() == "1"
    assert page.locator("#stat-today").inner_text() == "1/1"
    # and the home page, the history and the leaderboard agree
    page.goto("/")
    assert page.locator("[data-stat=points]").inner_text() == "10"
    assert page.locator("[data-stat=streak]").inner_text() == "1"
    page.goto("/history/")
    assert page.locator(".outcome").first.inner_text() == "accepted"
    for period in ("today", "week", "all"):
        page.goto(f"/leaderboard/?period={period}")
        me = page.locator("tr.me")
        assert me.locator("td").nth(1).inner_text() == "naledi"
        assert me.locator("td").nth(2).inner_text() == "10"

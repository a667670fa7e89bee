"""The labelling page when things go wrong: a lost network at submit keeps the answer and sends
it on retry; a double click stores one answer; an expired lease tells the worker and moves on;
the server's refusal of a bad shape is shown with its field."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from annotations.models import Annotation, Assignment
from tests.browser.worker_helpers import (
    mouse_click,
    mouse_drag,
    open_label_page,
    project_with_images,
    sign_up,
    stored_answer,
)


def test_a_lost_network_at_submit_keeps_the_answer_for_a_retry(new_page, requester):
    project = project_with_images(requester, "bbox")
    page = new_page()
    sign_up(page, "ayanda")
    open_label_page(page, project)
    mouse_drag(page, (50, 50), (150, 120))
    # when the submit cannot reach the server, even after the page's own retries
    page.route("**/submit/", lambda route: route.abort("internetdisconnected"))
    page.click("#submit")
    page.wait_for_function(
        "() => document.getElementById('message').textContent.includes('Not sent')", timeout=15_000
    )
    # then nothing is stored, the box is still drawn, and Submit works once the network is back
    assert not Annotation.objects.filter(task__project=project).exists()
    assert page.locator("rect.box").count() == 1
    page.unroute("**/submit/")
    page.click("#submit")
    assert stored_answer(project).payload["boxes"][0]["bbox"] == pytest.approx(
        [50, 50, 100, 70], abs=1
    )


def test_a_double_click_on_submit_stores_one_answer(new_page, requester):
    project = project_with_images(requester, "classification", images=2)
    page = new_page()
    sign_up(page, "bongani")
    open_label_page(page, project)
    page.keyboard.press("1")
    page.dblclick("#submit")
    page.wait_for_selector("#labeller[data-state=ready]")
    assert Annotation.objects.filter(task__project=project).count() == 1


def test_an_expired_lease_is_explained_and_a_new_task_follows(new_page, requester):
    project = project_with_images(requester, "classification", images=2)
    page = new_page()
    sign_up(page, "chipo")
    open_label_page(page, project)
    first = page.get_attribute("#labeller", "data-task")
    Assignment.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "(t) => document.getElementById('labeller').dataset.task !== t", arg=first
    )
    assert "time for this task ran out" in page.locator("#message").inner_text()
    assert not Annotation.objects.exists()


def test_a_refused_shape_is_shown_with_its_field(new_page, requester):
    project = project_with_images(requester, "polygon")
    page = new_page()
    sign_up(page, "dumisani")
    open_label_page(page, project)
    for point in [(100, 100), (300, 300), (300, 100), (100, 300)]:  # a bow-tie
        mouse_click(page, point)
    page.keyboard.press("Enter")
    page.click("#submit")
    page.wait_for_function(
        "() => document.getElementById('message').textContent.includes('Not accepted')"
    )
    assert "payload.polygons[0].points" in page.locator("#message").inner_text()
    assert page.locator("polygon.polygon").count() == 1  # kept, to be fixed

"""The labelling page in chromium: a worker signs up and labels one task of each kind with the
mouse and the keyboard; the stored answers hold the right coordinates in image pixels."""

from __future__ import annotations

import pytest

from tests.browser.worker_helpers import (
    csp_violations,
    mouse_click,
    mouse_drag,
    open_label_page,
    project_with_images,
    sign_up,
    stored_answer,
)


@pytest.fixture
def worker_page(new_page):
    page = new_page()
    violations = csp_violations(page)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_up(page, "amara")
    yield page
    assert not violations, violations
    assert not dialogs, dialogs  # a label such as <img onerror=alert(1)> never runs


def test_classification_by_mouse_and_by_keyboard(worker_page, requester):
    page = worker_page
    clicked = project_with_images(requester, "classification")
    keyed = project_with_images(requester, "classification", size=(320, 240))
    # when the worker clicks a label and the Submit button
    open_label_page(page, clicked)
    page.get_by_role("button", name="truck").click()
    page.click("#submit")
    assert stored_answer(clicked).payload == {"label": "truck"}
    # and on the next project presses 2 then Enter
    open_label_page(page, keyed)
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    assert stored_answer(keyed).payload == {"label": "taxi"}
    page.wait_for_selector("#labeller[data-state=empty]")


def test_moderation_starts_blurred_and_takes_a_verdict_after_reveal(worker_page, requester):
    page = worker_page
    project = project_with_images(
        requester, "moderation", labels=["violence", "<img src=x onerror=alert(1)>"]
    )
    open_label_page(page, project)
    image = page.locator("#stage-image")
    assert "blurred" in image.get_attribute("class")
    assert page.locator("#veil").is_visible()
    # a label with markup shows as text
    assert page.get_by_role("button", name="<img src=x onerror=alert(1)>").is_visible()
    page.click("#reveal")
    assert "blurred" not in (image.get_attribute("class") or "")
    page.keyboard.press("2")  # unsafe
    page.keyboard.press("3")  # violence
    page.keyboard.press("Enter")
    assert stored_answer(project).payload == {"verdict": "unsafe", "categories": ["violence"]}


def test_boxes_are_drawn_labelled_edited_and_stored_in_image_pixels(worker_page, requester):
    page = worker_page
    project = project_with_images(requester, "bbox")
    open_label_page(page, project)
    # when the worker draws a car box, then a taxi box (key 2 first)
    mouse_drag(page, (100, 80), (220, 160))
    page.keyboard.press("2")  # relabels the selected box: taxi
    page.keyboard.press("1")  # and back to car
    page.keyboard.press("Escape")
    page.keyboard.press("2")
    mouse_drag(page, (300, 200), (400, 300))
    assert page.locator("rect.box").count() == 2
    # and moves the second box by 20 px right, resizes its bottom-right corner by +10, +10
    mouse_drag(page, (350, 250), (370, 250))
    mouse_drag(page, (420, 300), (430, 310))
    # and draws a third box, deletes it, undoes the delete, deletes it again
    mouse_drag(page, (500, 20), (600, 100))
    page.keyboard.press("Delete")
    assert page.locator("rect.box").count() == 2
    page.keyboard.press("Control+z")
    assert page.locator("rect.box").count() == 3
    page.click("#delete")
    assert page.locator("rect.box").count() == 2
    page.keyboard.press("Enter")
    boxes = stored_answer(project).payload["boxes"]
    # then the stored boxes are in image pixels (within half a pixel of screen rounding)
    assert [b["label"] for b in boxes] == ["car", "taxi"]
    assert boxes[0]["bbox"] == pytest.approx([100, 80, 120, 80], abs=1)
    assert boxes[1]["bbox"] == pytest.approx([320, 200, 110, 110], abs=1)


def test_polygon_by_clicks_closed_on_its_first_point_with_a_dragged_vertex(worker_page, requester):
    page = worker_page
    project = project_with_images(requester, "polygon")
    open_label_page(page, project)
    for point in [(100, 100), (300, 100), (300, 300), (100, 300)]:
        mouse_click(page, point)
    # a submit with the polygon unfinished is refused in the page
    page.click("#submit")
    assert "Finish the polygon" in page.locator("#message").inner_text()
    mouse_click(page, (100, 100))  # the first point closes it
    assert page.locator("polygon.polygon").count() == 1
    mouse_drag(page, (300, 300), (350, 320))  # drag a vertex of the selected polygon
    # a second polygon (label 2 once nothing is selected) closed with Enter, then undone
    page.keyboard.press("Escape")
    page.keyboard.press("2")
    for point in [(400, 50), (500, 50), (450, 120)]:
        mouse_click(page, point)
    page.keyboard.press("Enter")
    assert page.locator("polygon.polygon").count() == 2
    page.keyboard.press("Control+z")  # reopens it as an unfinished outline
    assert page.locator("polygon.polygon").count() == 1
    assert page.locator("polyline.draft").count() == 1
    page.keyboard.press("Escape")  # drops the unfinished outline
    assert page.locator("circle.vertex").count() == 0
    page.click("#submit")
    polygons = stored_answer(project).payload["polygons"]
    assert len(polygons) == 1
    assert polygons[0]["label"] == "road"
    expected = [[100, 100], [300, 100], [350, 320], [100, 300]]
    for got, want in zip(polygons[0]["points"], expected, strict=True):
        assert got == pytest.approx(want, abs=1)

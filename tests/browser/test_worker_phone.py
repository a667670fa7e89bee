"""The labelling page on a 360×640 touch screen: a scaled image is fetched, a finger draws a
box, a pinch zooms, and the stored box is in the original image's pixels."""

from __future__ import annotations

import pytest

from tests.browser.worker_helpers import (
    artefact,
    csp_violations,
    open_label_page,
    project_with_images,
    sign_up,
    stored_answer,
    touch_drag,
    touch_pinch,
    touch_tap,
)


def test_a_finger_draws_a_box_on_a_phone_in_original_pixels(new_page, requester, tmp_path):
    # given a worker on a phone and a 1600×1200 image to label
    project = project_with_images(requester, "bbox", size=(1600, 1200))
    page = new_page(viewport=(360, 640), touch=True)
    violations = csp_violations(page)
    images: list[str] = []
    page.on("request", lambda r: images.append(r.url) if "/image/" in r.url else None)
    sign_up(page, "sipho")
    open_label_page(page, project)
    # then the page asked for a copy scaled to the screen, not the original
    assert len(images) == 1
    assert "?size=" in images[0]
    assert int(images[0].rsplit("=", 1)[1]) < 1600
    # and nothing sticks out sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # when the worker taps a label and drags a finger across the car
    touch_tap(page, "button.choice[data-label=taxi]")
    touch_drag(page, (400, 300), (1000, 900))
    assert page.locator("rect.box").count() == 1
    page.screenshot(path=artefact(tmp_path, "phone-bbox.png"))
    touch_tap(page, "#submit")
    # then the box is stored in the original image's pixels
    box = stored_answer(project).payload["boxes"][0]
    assert box["label"] == "taxi"
    assert box["bbox"] == pytest.approx([400, 300, 600, 600], abs=6)  # a screen px is ~4.7 image px
    assert not violations


def test_two_fingers_zoom_instead_of_drawing(new_page, requester):
    project = project_with_images(requester, "bbox", size=(1600, 1200))
    page = new_page(viewport=(360, 640), touch=True)
    sign_up(page, "lerato")
    open_label_page(page, project)
    before = page.get_attribute("#stage", "viewBox")
    box = page.locator("#stage").bounding_box()
    touch_pinch(page, (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2), 60, 200)
    after = page.get_attribute("#stage", "viewBox")
    assert float(after.split()[2]) < float(before.split()[2]) / 2  # zoomed in over 2×
    assert page.locator("rect.box").count() == 0
    # zoomed in past what the small copy holds, the page fetches a sharper one
    page.wait_for_function(
        """() => {
            const href = document.getElementById('stage-image').getAttribute('href');
            const size = new URL(href, location.href).searchParams.get('size');
            return size === null || Number(size) > 500;
        }"""
    )

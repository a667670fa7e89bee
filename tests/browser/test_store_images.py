"""Images on the object store in chromium: the labelling page and the staff review overlay ask
our API for a task's image, which answers 302 to a presigned URL of the store (another origin);
the browser follows it under the pages' Content-Security-Policy and shows the picture."""

from __future__ import annotations

import pytest

from tests.browser.helpers import sign_in
from tests.browser.test_staff_review import crowd_project, in_review
from tests.browser.worker_helpers import (
    csp_violations,
    open_label_page,
    project_with_images,
    sign_up,
)
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def _from_the_store(page, bucket) -> list[int]:
    statuses: list[int] = []
    page.on(
        "response",
        lambda r: statuses.append(r.status) if r.url.startswith(bucket.server.endpoint) else None,
    )
    return statuses


def test_the_labelling_page_shows_an_image_redirected_to_the_store(
    object_store, new_page, requester
):
    project = project_with_images(requester, "classification")
    page = new_page()
    violations = csp_violations(page)
    store_answers = _from_the_store(page, object_store)
    sign_up(page, "thandi")
    open_label_page(page, project)  # ready only once the image has loaded
    assert store_answers
    assert set(store_answers) == {200}
    assert violations == []


def test_the_review_overlay_shows_an_image_redirected_to_the_store(
    object_store, new_page, make_user, requester
):
    admin = make_user(name="admin", staff=True)
    project = crowd_project(requester, "bbox", images=10, seed=4)
    task = in_review(project)
    page = new_page((1280, 900))
    violations = csp_violations(page)
    store_answers = _from_the_store(page, object_store)
    sign_in(page, admin.username, PASSWORD)
    page.goto(f"/staff/review/{task.pk}/")
    page.wait_for_selector("svg.overlay rect.answer")
    for _ in range(50):  # the overlay's <image> loads without telling the page
        if store_answers:
            break
        page.wait_for_timeout(200)
    assert store_answers
    assert set(store_answers) == {200}
    assert violations == []

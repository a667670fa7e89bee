"""Staff pages on a phone: nothing scrolls sideways at 360 px."""

import pytest

from tests.browser.helpers import sign_in
from tests.browser.test_staff_review import crowd_project
from tests.helpers import PASSWORD

PAGES = ["/staff/", "/staff/projects/{id}/", "/staff/projects/{id}/review/", "/staff/projects/{id}/workers/"]  # fmt: skip


@pytest.fixture
def staff_page(new_page, make_user, requester):
    admin = make_user(name="admin", staff=True)
    project = crowd_project(requester, "bbox", images=8, seed=3)
    page = new_page((360, 640), touch=True)
    sign_in(page, admin.username, PASSWORD)
    return page, project


def test_no_staff_page_scrolls_sideways_on_a_phone(staff_page):
    page, project = staff_page
    wide = {}
    for path in PAGES:
        page.goto(path.format(id=project.pk))
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 360:
            wide[path] = width
    assert wide == {}

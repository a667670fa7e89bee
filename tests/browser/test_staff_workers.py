"""The workers view in chromium: skill with its interval, flags, and blocking from the page."""

from annotations.models import ProjectBlock, Task, TaskState
from tests.browser.helpers import sign_in
from tests.browser.test_staff_review import crowd_project, shoot
from tests.helpers import PASSWORD


def test_blocking_a_worker_from_the_workers_view(new_page, make_user, requester):
    admin = make_user(name="admin", staff=True)
    project = crowd_project(requester, "classification", images=12, seed=7)
    page = new_page((1280, 900))
    sign_in(page, admin.username, PASSWORD)
    page.goto(f"/staff/projects/{project.pk}/workers/")
    assert page.locator("#workers tbody tr").count() == 6
    shoot(page, "staff-workers.png")
    row = page.locator("#workers tbody tr").first  # least trustworthy first
    worker = int(row.get_attribute("data-worker"))

    page.on("dialog", lambda dialog: dialog.accept())
    row.locator("button.block").click()
    row.locator(".blocked").wait_for()

    assert ProjectBlock.objects.filter(project=project, worker_id=worker).exists()
    assert "re-scored" in row.locator(".blocked").inner_text()
    page.reload()
    assert page.locator(f"tr[data-worker='{worker}'] .blocked").inner_text() == "blocked"
    assert not Task.objects.filter(
        project=project, state=TaskState.REVIEW, annotations__worker_id=worker
    ).exists()

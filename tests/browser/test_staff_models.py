"""A model in the staff pages (issue 14, item 7), at desktop and phone sizes: the workers table
lists it beside the people, as a model that is never paid and cannot be blocked, with what it
accepted on its own and how its audits went; the dashboard gives people's answers per label."""

import pytest

from annotations.models import Task
from annotations.services.gold import gold_set
from predictions.services import PredictionItem, predictions_store
from tests.browser.helpers import sign_in
from tests.helpers import PASSWORD

SIZES = [pytest.param((1280, 800), False, id="desktop"), pytest.param((360, 640), True, id="phone")]


def model_project(make_project):
    """Ten gold tasks the model gets right and three it accepts on its own word."""
    project = make_project(
        images=13, acceptance_threshold=0.9, model_auto_accept=True, model_audit_share=0.0
    )
    tasks = list(Task.objects.filter(project=project).order_by("original_name"))
    gold_set(
        project=project, items=[{"task": t.pk, "answer": {"label": "car"}} for t in tasks[:10]]
    )
    items = [
        PredictionItem(str(t.pk), {"label": "car" if i < 10 else "taxi", "score": 0.97}, f"p[{i}]")
        for i, t in enumerate(tasks)
    ]
    predictions_store(project=project, model="taxi-net@2", items=items)
    return project


def staff_page(page, make_user, make_project, path: str):
    """``page`` signed in as staff, on the model project's page ``path``."""
    admin = make_user(name="admin", staff=True)
    project = model_project(make_project)
    sign_in(page, admin.username, PASSWORD)
    page.goto(f"/staff/projects/{project.pk}/{path}")
    return page


@pytest.mark.parametrize(("size", "touch"), SIZES)
def test_the_workers_table_shows_the_model_beside_the_people(
    new_page, make_user, make_project, size, touch
):
    page = staff_page(new_page(size, touch=touch), make_user, make_project, "workers/")
    row = page.locator("#workers tbody tr", has_text="taxi-net@2 (model)")
    assert row.count() == 1
    text = row.inner_text()
    assert "model, never paid" in text
    assert "3 accepted on its word" in text
    assert "audits: none yet" in text
    assert row.locator("button.block").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0]


@pytest.mark.parametrize(("size", "touch"), SIZES)
def test_the_dashboard_gives_peoples_answers_per_accepted_label(
    new_page, make_user, make_project, size, touch
):
    page = staff_page(new_page(size, touch=touch), make_user, make_project, "")
    panel = page.locator("section, .panel", has_text="people's answers per accepted label").last
    assert "0.00" in panel.inner_text()  # three labels accepted, no person's answer spent
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0]

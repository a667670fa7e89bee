"""The staff pages in chromium: the dashboard of a crowd-filled project draws its charts and
refreshes itself; a review item is settled by picking a worker's answer, another by dragging a
box edge; the accepted labels and the workers' points change accordingly. An empty or doubtful
fused result is not the primary choice and is accepted only after a confirmation; a decision in
force is shown with Replace and Reopen.

With SEBENZAI_SCREENSHOTS=<dir>, the dashboard and the review page are saved there as
staff-dashboard.png and staff-review.png (the README's pictures).
"""

from __future__ import annotations

import os
import random
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from annotations.models import Annotation, Project, ProjectStatus, Task, TaskState
from annotations.services.gold import gold_set
from annotations.services.intake import IncomingFile, tasks_create_from_files
from annotations.services.projects import project_create
from consensus.models import ConsensusResult, ReviewDecision
from devtools.demo import GENERATORS, LABELS
from tests.browser.helpers import sign_in
from tests.helpers import PASSWORD
from workers.models import PointsEntry, PointsReason

SHOTS = os.environ.get("SEBENZAI_SCREENSHOTS")


def crowd_project(owner, kind: str, images: int, seed: int = 1) -> Project:
    """A project of generated street pictures (with their truth) answered by a simulated crowd;
    one answer per task short of certainty sends many tasks to review."""
    data = {
        "name": f"Street {kind}",
        "kind": kind,
        "labels": LABELS[kind],
        "redundancy_min": 3,
        "redundancy_max": 3,
        "acceptance_threshold": 0.97,
        "gold_ratio": 0.15,
    }
    project = project_create(owner=owner, data=data)
    rng = random.Random(seed)
    pictures = [GENERATORS[kind](rng) for _ in range(images)]
    files = (
        IncomingFile(f"images[{i}]", f"{kind}-{i:02d}.png", lambda b=b: b)
        for i, (b, _) in enumerate(pictures)
    )
    tasks_create_from_files(project=project, files=files)
    for i, (_, truth) in enumerate(pictures):
        Task.objects.filter(project=project, original_name=f"{kind}-{i:02d}.png").update(
            metadata={"synthetic_truth": truth}
        )
    gold = Task.objects.filter(project=project).order_by("original_name")[:2]
    gold_set(
        project=project,
        items=[{"task": t.pk, "answer": t.metadata["synthetic_truth"]} for t in gold],
    )
    Project.objects.filter(pk=project.pk).update(status=ProjectStatus.ACTIVE)
    call_command("simulate_crowd", str(project.pk), workers=6, seed=seed, stdout=StringIO())
    return project


def shoot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name), full_page=True)


def in_review(project: Project) -> Task:
    task = (
        Task.objects.filter(project=project, state=TaskState.REVIEW).order_by("created_at").first()
    )
    assert task is not None, "the simulated crowd left nothing to review"
    return task


def test_dashboard_draws_charts_and_refreshes_itself(new_page, make_user, requester):
    admin = make_user(name="admin", staff=True)
    project = crowd_project(requester, "classification", images=16)
    page = new_page((1280, 900))
    sign_in(page, admin.username, PASSWORD)

    page.goto(f"/staff/projects/{project.pk}/")

    assert page.locator("svg.chart").count() == 6
    assert page.locator("svg.chart rect.bar").count() > 10
    assert page.locator("svg.chart polygon.area").count() >= 1
    assert page.locator("svg.chart rect.cell").count() == len(LABELS["classification"]) ** 2
    shoot(page, "staff-dashboard.png")
    first = page.locator("#updated").inner_text()
    page.wait_for_function(
        "(first) => document.getElementById('updated').textContent !== first",
        arg=first,
        timeout=9000,
    )
    assert page.locator("svg.chart").count() == 6


def test_settle_one_item_by_picking_an_answer_and_one_by_editing_a_box(
    new_page, make_user, requester
):
    admin = make_user(name="admin", staff=True)
    classes = crowd_project(requester, "classification", images=12, seed=2)
    boxes = crowd_project(requester, "bbox", images=10, seed=4)
    page = new_page((1280, 900))
    sign_in(page, admin.username, PASSWORD)

    # pick the dissenting worker's answer from the queue
    page.goto(f"/staff/projects/{classes.pk}/review/")
    task = in_review(classes)
    page.click(f"a[href='/staff/review/{task.pk}/']")
    page.wait_for_selector("#answers li")
    fused = task.consensus.label
    dissent = Annotation.objects.filter(task=task).exclude(payload=fused).first()
    page.click(f"button.pick[data-annotation='{dissent.pk}']")
    page.wait_for_selector(".status.done")

    task.refresh_from_db()
    assert (task.state, task.accepted_label) == (TaskState.ACCEPTED, dissent.payload)
    credit = PointsEntry.objects.get(annotation=dissent, reason=PointsReason.REVIEW_CREDIT)
    assert credit.points == classes.points_per_task

    # drag the right edge of the fused box, then save the edit
    task = in_review(boxes)
    page.goto(f"/staff/review/{task.pk}/")
    page.wait_for_selector("svg.overlay rect.answer")
    shoot(page, "staff-review.png")
    before = task.consensus.label["boxes"][0]["bbox"]
    page.click("button[data-action=edit-start]")
    edge = page.locator("line.edge-right").first.bounding_box()
    x, y = edge["x"] + edge["width"] / 2, edge["y"] + edge["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 25, y, steps=5)
    page.mouse.up()
    page.click("button[data-action=edit]")
    page.wait_for_selector(".status.done")

    task.refresh_from_db()
    after = task.accepted_label["boxes"][0]["bbox"]
    assert task.state == TaskState.ACCEPTED
    assert after[0] == pytest.approx(before[0], abs=0.1)
    assert after[2] > before[2] + 3  # wider by the drag
    decision = ReviewDecision.objects.get(task=task)
    assert (decision.action, decision.reviewer) == ("edit", admin)
    paid = PointsEntry.objects.filter(annotation__task=task, reason=PointsReason.REVIEW_CREDIT)
    assert paid.exists()  # the answers matching the edited box are paid now


def test_settle_a_polygon_by_dragging_a_vertex(new_page, make_user, requester):
    admin = make_user(name="admin", staff=True)
    project = crowd_project(requester, "polygon", images=10, seed=5)
    task = in_review(project)
    page = new_page((1280, 900))
    sign_in(page, admin.username, PASSWORD)
    page.goto(f"/staff/review/{task.pk}/")
    page.wait_for_selector("svg.overlay polygon.answer")

    page.click("button[data-action=edit-start]")
    vertex = page.locator("circle.vertex").first.bounding_box()
    x, y = vertex["x"] + vertex["width"] / 2, vertex["y"] + vertex["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 20, y - 20, steps=5)
    page.mouse.up()
    page.click("button[data-action=edit]")
    page.wait_for_selector(".status.done")

    task.refresh_from_db()
    fused = task.consensus.label["polygons"][0]["points"][0]
    moved = task.accepted_label["polygons"][0]["points"][0]
    assert task.state == TaskState.ACCEPTED
    assert moved[0] < fused[0] - 3
    assert moved[1] < fused[1] - 3


def test_an_empty_fused_result_is_accepted_only_when_confirmed_and_decisions_are_replaced_or_reopened(
    new_page, make_user, requester
):
    admin = make_user(name="admin", staff=True)
    boxes = crowd_project(requester, "bbox", images=10, seed=4)
    task = in_review(boxes)
    # the crowd's boxes fused to nothing, as in the report: empty, confidence 0
    ConsensusResult.objects.filter(task=task).update(label={"boxes": []}, confidence=0.0)
    page = new_page((1280, 900))
    sign_in(page, admin.username, PASSWORD)
    page.goto(f"/staff/review/{task.pk}/")
    page.wait_for_selector("#answers li")
    accept = page.locator("button[data-action=accept_fused]")

    # "Accept fused" is not the primary button, and the page says why
    assert "primary" not in (accept.get_attribute("class") or "")
    assert "primary" in page.locator("button[data-action=edit-start]").get_attribute("class")
    assert "empty" in page.locator("#fused-doubts").inner_text()
    assert page.locator("button[data-action=reopen]").is_hidden()  # no decision to undo yet
    # declining the confirmation stores nothing
    page.once("dialog", lambda dialog: dialog.dismiss())
    accept.click()
    page.wait_for_function("() => document.getElementById('status').textContent.startsWith('Not')")
    assert not ReviewDecision.objects.filter(task=task).exists()
    # confirming accepts it
    page.once("dialog", lambda dialog: dialog.accept())
    accept.click()
    page.wait_for_selector(".status.done")
    task.refresh_from_db()
    assert (task.state, task.accepted_label) == (TaskState.ACCEPTED, {"boxes": []})

    # the decision in force locks the page until Reopen (undo) or Replace
    assert accept.is_disabled()
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[data-action=reopen]")
    page.wait_for_function(
        "() => document.getElementById('status').textContent.startsWith('Reopened')"
    )
    task.refresh_from_db()
    assert (task.state, task.accepted_label) == (TaskState.REVIEW, None)
    page.locator("button.pick").first.click()
    page.wait_for_selector(".status.done")
    page.click("button[data-action=replace]")
    page.click("button[data-action=reject]")
    page.wait_for_function(
        "() => document.getElementById('status').textContent.includes('(reject)')"
    )
    task.refresh_from_db()
    assert task.state == TaskState.REJECTED
    actions = ReviewDecision.objects.filter(task=task).order_by("version")
    assert list(actions.values_list("action", flat=True)) == [
        "accept_fused",
        "reopen",
        "pick",
        "reject",
    ]

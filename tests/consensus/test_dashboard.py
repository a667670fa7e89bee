"""Dashboard figures from aggregate queries, and the staff pages that draw them."""

import random
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.test import Client

from accounts.models import Role
from annotations.models import Annotation, ScoreState, Task, TaskState
from consensus.dashboard import (
    answers_per_hour,
    confidence_histogram,
    dashboard_figures,
    gold_accuracy,
    label_agreement,
    points_cost,
    progress_over_time,
    scoring_failures,
    state_counts,
)
from consensus.models import ConsensusResult
from consensus.quality import workers_table
from consensus.review import review_queue
from frontend.staff.charts import bar_chart, heatmap
from tests.consensus.test_review import accepted_task, disputed_task
from tests.helpers import PASSWORD
from workers.models import PointsEntry

pytestmark = pytest.mark.django_db


def with_known_truth(project) -> None:
    """Give each uploaded image a known answer, as seed_demo's generated ones have: the simulator
    runs only where it knows the truth."""
    for task in project.tasks.all():
        label = random.Random(task.sha256).choice(project.label_names)
        task.metadata = {"synthetic_truth": {"label": label}}
        task.save(update_fields=["metadata"])


@pytest.fixture
def crowded(make_project, django_capture_on_commit_callbacks):
    """A classification project answered by a simulated crowd of good, sloppy and spammy workers
    (scoring runs once all have answered: the test's transaction holds the commit callbacks)."""
    project = make_project(images=12, acceptance_threshold=0.9)
    with_known_truth(project)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("simulate_crowd", str(project.pk), workers=8, seed=3, stdout=StringIO())
    return project


def test_figures_add_up_to_the_stored_rows(crowded):
    figures = dashboard_figures(project=crowded)

    tasks = Task.objects.filter(project=crowded, is_gold=False)
    assert sum(figures["states"].values()) == tasks.count() == 12
    assert figures["progress"]["points"][-1]["accepted"] == figures["states"]["accepted"]
    assert (
        sum(b["tasks"] for b in figures["confidence"])
        == tasks.filter(consensus__isnull=False).count()
    )
    assert sum(h["answers"] for h in figures["answers_per_hour"]) == Annotation.objects.count()
    paid = sum(PointsEntry.objects.values_list("points", flat=True))
    assert figures["cost"]["points"] == paid
    assert figures["cost"]["per_label"] == pytest.approx(paid / figures["states"]["accepted"])


def test_the_confusion_matrix_counts_answers_against_accepted_labels(
    make_project, worker_clients, django_capture_on_commit_callbacks
):
    task = accepted_task(make_project, worker_clients, django_capture_on_commit_callbacks)

    matrix = label_agreement(project=task.project)

    assert matrix["kind"] == "matrix"
    assert matrix["rows"]["car"] == {"car": 2, "taxi": 1, "truck": 0}
    assert matrix["rows"]["taxi"] == {"car": 0, "taxi": 0, "truck": 0}


def test_confidence_lands_in_its_tenth(
    make_project, worker_clients, django_capture_on_commit_callbacks
):
    task = disputed_task(make_project, worker_clients, django_capture_on_commit_callbacks)
    confidence = task.consensus.confidence
    bins = confidence_histogram(project=task.project)
    index = min(int(confidence * 10), 9)
    assert bins[index]["tasks"] == 1
    assert sum(b["tasks"] for b in bins) == 1
    assert progress_over_time(project=task.project)["points"][-1][TaskState.REVIEW] == 1
    assert points_cost(project=task.project) == {
        "points": 0,
        "accepted": 0,
        "per_label": None,
        "answers_per_label": None,
    }


def test_workers_table_flags_a_worker_who_answers_implausibly_fast(crowded):
    busiest = Annotation.objects.values("worker_id").annotate(n=Count("id")).order_by("-n")
    fast = busiest[0]["worker_id"]
    assert busiest[0]["n"] >= 5  # enough answers to judge
    Annotation.objects.filter(worker_id=fast).update(duration_ms=400)

    rows = {r["worker"]: r for r in workers_table(project=crowded)}

    assert "implausibly fast" in rows[fast]["flags"]
    assert rows[fast]["median_ms"] == 400
    assert all(
        0 <= r["skill"]["low"] <= r["skill"]["mean"] <= r["skill"]["high"] <= 1
        for r in rows.values()
    )
    assert (
        sum(r["answers"] for r in rows.values())
        == Annotation.objects.filter(task__is_gold=False).count()
    )


def _browser(user) -> Client:
    client = Client()
    client.login(username=user.username, password=PASSWORD)
    return client


def test_staff_pages_draw_charts_and_refresh_as_json(crowded, make_user):
    client = _browser(make_user(staff=True))
    page = client.get(f"/staff/projects/{crowded.pk}/")
    assert page.status_code == 200
    assert page.content.count(b'<svg class="chart') == 6
    live = client.get(f"/staff/projects/{crowded.pk}/live/").json()
    assert live["figures"]["states"]["accepted"] >= 1
    assert live["html"].count('<svg class="chart') == 6
    for url in [
        "/staff/",
        f"/staff/projects/{crowded.pk}/review/",
        f"/staff/projects/{crowded.pk}/workers/",
    ]:
        assert client.get(url).status_code == 200, url
    task = Task.objects.filter(project=crowded, is_gold=False).first()
    assert client.get(f"/staff/review/{task.pk}/").status_code == 200


@pytest.mark.parametrize("role", [Role.WORKER, Role.REQUESTER])
def test_staff_pages_are_not_found_for_workers_and_requesters(crowded, make_user, role):
    client = _browser(make_user(role))
    task = Task.objects.filter(project=crowded).first()
    urls = [
        "/staff/",
        f"/staff/projects/{crowded.pk}/",
        f"/staff/projects/{crowded.pk}/live/",
        f"/staff/projects/{crowded.pk}/review/",
        f"/staff/projects/{crowded.pk}/workers/",
        f"/staff/review/{task.pk}/",
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url


def test_an_anonymous_visitor_is_sent_to_sign_in(crowded):
    response = Client().get(f"/staff/projects/{crowded.pk}/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_django_admin_lists_review_decisions_and_results_read_only(crowded, django_user_model):
    django_user_model.objects.create_superuser("root", "", PASSWORD)
    client = Client()
    client.login(username="root", password=PASSWORD)
    for model in ["reviewdecision", "consensusresult", "workerskill"]:
        assert client.get(f"/admin/consensus/{model}/").status_code == 200, model
    assert client.get("/admin/consensus/reviewdecision/add/").status_code == 403
    assert (
        client.get("/admin/consensus/consensusresult/?q=car&task__state=review").status_code == 200
    )


def test_the_one_scan_figures_equal_the_figure_by_figure_queries(crowded):
    # given a project with answers, results and points; when both ways compute the dashboard
    figures = dashboard_figures(project=crowded)
    # then they agree on every figure
    assert figures["states"] == state_counts(project=crowded)
    assert figures["progress"] == progress_over_time(project=crowded)
    assert figures["confidence"] == confidence_histogram(project=crowded)
    assert figures["answers_per_hour"] == answers_per_hour(project=crowded)
    assert figures["agreement"] == label_agreement(project=crowded)
    assert figures["gold"] == gold_accuracy(project=crowded)
    assert figures["cost"] == points_cost(project=crowded)
    assert figures["score_failed"] == scoring_failures(project=crowded)
    assert figures["score_failed"] == {"answers": 0, "tasks": 0, "listed": []}


def test_failed_scoring_is_counted_in_full_and_listed_up_to_the_cap(crowded, monkeypatch):
    # given a project where every answer's scoring failed, and a list cap below its task count
    monkeypatch.setattr("consensus.dashboard.FAILED_LISTED", 5)
    answers = Annotation.objects.filter(task__project=crowded)
    answers.update(score_state=ScoreState.FAILED)
    # when the dashboard is computed
    failed = dashboard_figures(project=crowded)["score_failed"]
    # then every answer and task is counted, the first five tasks by id are listed
    tasks = sorted(str(pk) for pk in answers.values_list("task_id", flat=True).distinct())
    assert failed["answers"] == answers.count()
    assert failed["tasks"] == len(tasks) == 12
    assert [row["task"] for row in failed["listed"]] == tasks[:5]
    assert failed == scoring_failures(project=crowded)


def test_the_review_queue_puts_review_first_then_the_least_confident_open_tasks(make_project):
    project = make_project(images=4, acceptance_threshold=0.9)
    a, b, c, d = Task.objects.filter(project=project).order_by("created_at")
    for task, state, confidence in [
        (a, "open", 0.6),
        (b, "review", 0.8),
        (c, "open", 0.95),  # confident enough: not in the queue
        (d, "review", 0.4),
    ]:
        Task.objects.filter(pk=task.pk).update(state=state)
        ConsensusResult.objects.create(
            task=task,
            label={"label": "car"},
            confidence=confidence,
            method="m",
            decision="more",
            answers=3,
        )

    assert [t.pk for t in review_queue(project=project)] == [d.pk, b.pk, a.pk]


def test_chart_text_is_escaped():
    svg = bar_chart("<title>", [1, 2], ["<script>alert(1)</script>", "ok"])
    heat = heatmap("m", ["<img src=x>"], {"<img src=x>": {"<img src=x>": 3}})
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "<img" not in heat

"""Daily progress, streaks, levels and badges from real answers; leaderboards by period; the
history of one's own answers; and check-task feedback that waits as long as gold pay does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from accounts.models import WorkerProfile
from annotations.models import Task
from annotations.services.gold import gold_set
from tests.workers.helpers import answer, pay
from workers.history import answers_history, checks_feedback
from workers.models import PointsReason
from workers.selectors import leaderboard, leaderboard_rank, worker_summary

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday


def test_the_streak_counts_days_that_met_the_daily_target(worker_client, make_project):
    # given a daily target of 2 answers, met two days ago and yesterday, and begun today
    user = worker_client.user
    WorkerProfile.objects.filter(user=user).update(daily_target=2)
    project = make_project(images=8)
    for days_back, count in ((3, 1), (2, 2), (1, 2), (0, 1)):
        for _ in range(count):
            answer(worker_client, project, {"label": "car"}, at=NOON - timedelta(days=days_back))
    # then today's progress is 1 of 2, and the streak still stands at 2
    with time_machine.travel(NOON, tick=False):
        summary = worker_summary(user=user)
        assert (summary.answers_today, summary.daily_target, summary.streak) == (1, 2, 2)
        # when today's target is met, today joins the streak
        answer(worker_client, project, {"label": "car"})
        assert worker_summary(user=user).streak == 3
        assert worker_client.get("/api/v1/me/").json()["streak"] == 3
    # and a day without reaching the target ends it
    with time_machine.travel(NOON + timedelta(days=2), tick=False):
        assert worker_summary(user=user).streak == 0
        assert worker_summary(user=user).longest_streak == 3


def test_level_and_century_badge_follow_the_ledger_and_the_answers(worker_client, make_project):
    project = make_project(images=2)
    first = answer(worker_client, project, {"label": "car"})
    pay(first, 299)
    summary = worker_summary(user=worker_client.user)
    assert (summary.level.number, summary.level.next_at) == (2, 300)
    pay(answer(worker_client, project, {"label": "car"}), 1)
    assert worker_summary(user=worker_client.user).level.number == 3
    assert not any(b.earned for b in summary.badges)


def test_leaderboard_periods_count_points_by_when_they_became_visible(worker_clients, make_project):
    project = make_project(images=3)
    a, b, c = (client.user for client in worker_clients[:3])
    answers = {
        u: answer(client, project, {"label": "car"})
        for u, client in zip((a, b, c), worker_clients, strict=False)
    }
    pay(answers[a], 5, visible_at=NOON - timedelta(hours=1))  # today
    pay(answers[b], 8, visible_at=NOON - timedelta(days=2))  # Tuesday: this week
    pay(answers[c], 20, visible_at=NOON - timedelta(days=10))  # before this week
    with time_machine.travel(NOON, tick=False):
        board = {
            p: [(s.username, s.points) for s in leaderboard(period=p)]
            for p in ("today", "week", "all")
        }
    assert board["today"] == [(a.username, 5)]
    assert board["week"] == [(b.username, 8), (a.username, 5)]
    assert board["all"] == [(c.username, 20), (b.username, 8), (a.username, 5)]


def test_leaderboard_ties_share_a_rank_and_ones_own_rank_shows_outside_the_top(
    worker_clients, make_project
):
    project = make_project(images=1, redundancy_min=4, redundancy_max=4)
    users = [client.user for client in worker_clients[:4]]
    for client, points in zip(worker_clients, (9, 9, 4, 1), strict=False):
        pay(answer(client, project, {"label": "car"}), points)
    ranks = [(s.rank, s.points) for s in leaderboard(period="all")]
    assert ranks == [(1, 9), (1, 9), (3, 4), (4, 1)]
    assert leaderboard(period="all", limit=2)[-1].rank == 1
    mine = leaderboard_rank(user=users[3], period="all")
    assert (mine.rank, mine.points) == (4, 1)
    assert leaderboard_rank(user=worker_clients[4].user, period="all") is None


def test_history_shows_accepted_disagreed_and_pending_with_points(worker_client, make_project):
    project = make_project(images=3)
    agreed, disagreed, waiting = (
        answer(worker_client, project, {"label": "car"}) for _ in range(3)
    )
    Task.objects.filter(pk__in=[agreed.task_id, disagreed.task_id]).update(state="accepted")
    pay(agreed, 10)
    rows, more = answers_history(user=worker_client.user)
    outcomes = {row.answered_at: (row.outcome, row.points) for row in rows}
    assert outcomes[agreed.created_at] == ("accepted", 10)
    assert outcomes[disagreed.created_at] == ("disagreed", 0)
    assert outcomes[waiting.created_at] == ("pending", 0)
    assert more is False
    rows, more = answers_history(user=worker_client.user, limit=2)
    assert len(rows) == 2
    assert more is True


@pytest.fixture
def gold_project(make_project):
    project = make_project(images=2, gold_ratio=0.5)
    tasks = list(Task.objects.filter(project=project).order_by("created_at"))
    gold_set(project=project, items=[{"task": t.pk, "answer": {"label": "taxi"}} for t in tasks])
    return project


def test_check_feedback_and_outcome_wait_for_the_gold_pay_delay(
    worker_client, gold_project, gold_delay, django_capture_on_commit_callbacks
):
    # given one right and one wrong answer on check tasks, graded at once
    user = worker_client.user
    with django_capture_on_commit_callbacks(execute=True):
        right = answer(worker_client, gold_project, {"label": "taxi"})
    with django_capture_on_commit_callbacks(execute=True):
        wrong = answer(worker_client, gold_project, {"label": "truck"})
    # then nothing tells them apart from ordinary tasks yet
    assert checks_feedback(user=user, since=None) == []
    assert {row.outcome for row in answers_history(user=user)[0]} == {"pending"}
    assert worker_client.get("/api/v1/work/feedback/").json()["items"] == []
    # when the longest gold-pay delay has passed
    with time_machine.travel(wrong.created_at + gold_delay + timedelta(seconds=1), tick=False):
        items = worker_client.get("/api/v1/work/feedback/").json()["items"]
        outcomes = {r.answered_at: (r.outcome, r.points) for r in answers_history(user=user)[0]}
    # then the right one reads correct and the wrong one what was expected
    assert [(i["correct"], i.get("expected")) for i in items] == [(True, None), (False, "taxi")]
    assert outcomes[right.created_at] == ("accepted", 10)
    assert outcomes[wrong.created_at] == ("disagreed", 0)
    assert right.points.get().reason == PointsReason.GOLD_CORRECT


def test_feedback_since_returns_only_what_was_revealed_after_it(
    worker_client, gold_project, gold_delay, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = answer(worker_client, gold_project, {"label": "taxi"})
    later = first.created_at + gold_delay + timedelta(minutes=5)
    seen_at = (first.created_at + gold_delay + timedelta(minutes=1)).isoformat()
    with time_machine.travel(later, tick=False):
        response = worker_client.get("/api/v1/work/feedback/", {"since": seen_at})
    assert response.json()["items"] == []


@pytest.mark.parametrize("since", ["yesterday", "2026-13-40T00:00:00Z", "2026-11-26T10:00:00"])
def test_feedback_with_a_bad_since_is_a_400_naming_it(worker_client, since):
    response = worker_client.get("/api/v1/work/feedback/", {"since": since})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "since"


def test_feedback_is_for_workers_only(requester_client):
    assert requester_client.get("/api/v1/work/feedback/").status_code == 403

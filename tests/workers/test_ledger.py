"""The points ledger: retries never pay twice, and every total shown is the ledger's sum."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from annotations.models import Task
from consensus.services import consensus_score
from tests.helpers import lease, submit
from tests.workers.helpers import answer, pay
from workers.models import PointsEntry, PointsReason
from workers.selectors import leaderboard, ledger_totals, worker_summary
from workers.services import Award, points_award, points_total

pytestmark = pytest.mark.django_db


def test_an_award_retried_never_pays_twice(worker_client, project):
    # given one answer and its award
    annotation = answer(worker_client, project, {"label": "taxi"})
    award = Award(annotation.worker_id, annotation.pk, PointsReason.ACCEPTED, 10)
    points_award(awards=[award])
    # when the same award comes again (a redelivered scoring job), alone and in a batch
    points_award(awards=[award])
    points_award(
        awards=[award, Award(annotation.worker_id, annotation.pk, PointsReason.GOLD_CORRECT, 5)]
    )
    # then it was paid once; the other reason once
    assert PointsEntry.objects.filter(annotation=annotation).count() == 2
    assert points_total(user=worker_client.user) == 15


def test_scoring_a_decided_task_again_changes_no_balance(
    worker_clients, make_project, django_capture_on_commit_callbacks
):
    # given a task decided by three agreeing answers, which paid each worker
    project = make_project(images=1, redundancy_min=3, redundancy_max=3)
    for client in worker_clients[:3]:
        work = lease(client, project)
        with django_capture_on_commit_callbacks(execute=True):
            assert submit(client, work["assignment"], {"label": "taxi"}).status_code == 201
    task = Task.objects.get(project=project)
    before = ledger_totals()
    assert set(before.values()) == {project.points_per_task}
    # when scoring runs twice more
    consensus_score(task_id=task.pk)
    consensus_score(task_id=task.pk)
    # then the ledger is unchanged
    assert ledger_totals() == before
    assert PointsEntry.objects.count() == 3


def test_every_total_shown_equals_the_sum_of_visible_ledger_rows(worker_clients, make_project):
    # given three workers with visible credits, a debit, and a row not visible yet
    project = make_project(images=4)
    first = [answer(client, project, {"label": "car"}) for client in worker_clients[:3]]
    second = [answer(client, project, {"label": "car"}) for client in worker_clients[:3]]
    pay(first[0], 7)
    pay(second[0], 3)
    pay(first[1], 10)
    pay(first[1], -4, reason=PointsReason.REVIEW_DEBIT)
    pay(first[2], 5)
    pay(second[2], 100, visible_at=timezone.now() + timedelta(hours=2))
    # then each place that shows a total agrees with a recount of the ledger
    users = [client.user for client in worker_clients[:3]]
    expected = {users[0].pk: 10, users[1].pk: 6, users[2].pk: 5}
    assert ledger_totals() == expected
    for client, user in zip(worker_clients, users, strict=False):
        assert points_total(user=user) == expected[user.pk]
        assert worker_summary(user=user).points == expected[user.pk]
        assert client.get("/api/v1/me/").json()["points"] == expected[user.pk]
    assert {row.worker_id: row.points for row in leaderboard(period="all")} == expected

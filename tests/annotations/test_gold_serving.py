"""How gold is served cannot give it away: no more workers per gold task than any task can have,
no common order, and feedback that cannot be matched to the task it was on."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
import time_machine
from django.apps import apps as django_apps
from django.utils import timezone

from annotations.models import Task
from annotations.services.gold import gold_set
from tests.helpers import lease, submit

pytestmark = pytest.mark.django_db


def _gold_project(make_project, *, images: int, gold: int, **fields):
    project = make_project(images=images, gold_ratio=1.0, **fields)
    tasks = list(Task.objects.filter(project=project).order_by("created_at")[:gold])
    gold_set(project=project, items=[{"task": t.pk, "answer": {"label": "taxi"}} for t in tasks])
    return project, {str(t.pk) for t in tasks}


def test_a_gold_task_goes_to_no_more_workers_than_an_ordinary_task_can(
    make_project, make_user, make_client
):
    # given one gold task among ordinary ones, gold drawn first every time, redundancy_max 5
    project, gold = _gold_project(make_project, images=4, gold=1, redundancy_max=5)
    # when seven workers each ask for a task
    served = [lease(make_client(make_user()), project)["task"] for _ in range(7)]
    # then the gold task went to five of them, the rest got ordinary work
    assert sum(task in gold for task in served) == 5


def test_a_skipped_gold_lease_gives_its_slot_back(make_project, make_user, make_client):
    project, gold = _gold_project(make_project, images=2, gold=1, redundancy_max=3)
    skipper = make_client(make_user())
    work = lease(skipper, project)
    assert work["task"] in gold
    assert skipper.post(f"/api/v1/work/assignments/{work['assignment']}/skip/").status_code == 200
    served = [lease(make_client(make_user()), project)["task"] for _ in range(3)]
    assert sum(task in gold for task in served) == 3


def test_workers_meet_gold_tasks_in_orders_of_their_own(make_project, make_user, make_client):
    # given eight gold tasks (8! orders: the same order twice by chance is 1 in 40,320)
    project, gold = _gold_project(make_project, images=9, gold=8)
    orders = []
    for _ in range(2):
        client = make_client(make_user())
        seen = []
        for _ in range(8):
            work = lease(client, project)
            assert submit(client, work["assignment"], {"label": "car"}).status_code == 201
            seen.append(work["task"])
        assert set(seen) == gold
        orders.append(seen)
    assert orders[0] != orders[1]


def test_feedback_gives_the_hour_of_an_answer_never_its_moment(
    make_project, worker_client, settings, django_capture_on_commit_callbacks
):
    project, _ = _gold_project(make_project, images=1, gold=1)
    work = lease(worker_client, project)
    with django_capture_on_commit_callbacks(execute=True):
        assert submit(worker_client, work["assignment"], {"label": "car"}).status_code == 201
    delay = timedelta(seconds=settings.SEBENZAI["GOLD_PAY_DELAY_SECONDS"][1])
    with time_machine.travel(timezone.now() + delay + timedelta(minutes=1), tick=False):
        (item,) = worker_client.get("/api/v1/work/feedback/").json()["items"]
    assert item["answered_at"].endswith(":00:00+00:00")
    assert set(item) == {"answered_at", "project", "correct", "expected"}


def test_the_migration_recounts_gold_slots_held_by_leases_long_gone(make_project):
    # given a gold task whose counter still holds the slots of leases skipped before the fix
    project, gold = _gold_project(make_project, images=2, gold=1, redundancy_max=3)
    Task.objects.filter(pk__in=gold).update(slots_taken=7)
    recount = importlib.import_module("annotations.migrations.0007_gold_slots_recount")
    # when the migration runs
    recount.recount_gold_slots(django_apps, None)
    # then the counter holds nothing, and the task is served again
    assert Task.objects.get(pk__in=gold).slots_taken == 0

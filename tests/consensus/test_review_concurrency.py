"""Two admins decide the same task at the same moment, on a fresh task or to replace the
decision in force: one decision wins, the other is told."""

import threading

import pytest
from django.db import connection

from annotations.models import Annotation, Task
from consensus.models import ConsensusResult, ReviewDecision
from consensus.review import task_review_decide
from sebenzai.common.errors import Conflict
from tests.consensus.test_review import disputed_task
from workers.models import PointsEntry


@pytest.mark.django_db(transaction=True)
def test_concurrent_decisions_on_one_task_store_one_and_refuse_the_other(
    make_project, worker_clients, make_user, django_capture_on_commit_callbacks
):
    task = disputed_task(make_project, worker_clients, django_capture_on_commit_callbacks)
    admins = [make_user(staff=True), make_user(staff=True)]
    taxi = Annotation.objects.get(task=task, payload={"label": "taxi"})
    version = ConsensusResult.objects.get(task=task).version
    choices = [
        {"action": "pick", "annotation_id": taxi.pk},
        {"action": "accept_fused"},
    ]
    start, outcomes = threading.Barrier(2), []

    def settle(admin, choice):
        try:
            start.wait()
            task_review_decide(task_id=task.pk, reviewer=admin, version=version, **choice)
            outcomes.append("stored")
        except Conflict as refused:
            outcomes.append(refused.code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=settle, args=pair) for pair in zip(admins, choices, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["already_reviewed", "stored"]
    decision = ReviewDecision.objects.get(task=task)
    label = Task.objects.get(pk=task.pk).accepted_label
    assert label == decision.label
    # paid for the one decision only: the agreeing answers got one review credit each
    credits = PointsEntry.objects.filter(annotation__task=task).values_list(
        "annotation_id", flat=True
    )
    assert len(credits) == len(set(credits)) == (1 if decision.action == "pick" else 2)


@pytest.mark.django_db(transaction=True)
def test_concurrent_replacements_of_a_decision_store_one_and_refuse_the_other(
    make_project, worker_clients, make_user, django_capture_on_commit_callbacks
):
    task = disputed_task(make_project, worker_clients, django_capture_on_commit_callbacks)
    admins = [make_user(staff=True), make_user(staff=True)]
    taxi = Annotation.objects.get(task=task, payload={"label": "taxi"})
    version = ConsensusResult.objects.get(task=task).version
    first = task_review_decide(
        task_id=task.pk, reviewer=admins[0], action="pick", version=version, annotation_id=taxi.pk
    )
    start, outcomes = threading.Barrier(2), []

    def replace(admin, action):
        try:
            start.wait()
            task_review_decide(task_id=task.pk, reviewer=admin, action=action, version=version + 1)
            outcomes.append("stored")
        except Conflict as refused:
            outcomes.append(refused.code)
        finally:
            connection.close()

    pairs = zip(admins, ["accept_fused", "reopen"], strict=True)
    threads = [threading.Thread(target=replace, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["already_reviewed", "stored"]
    second = ReviewDecision.objects.get(task=task, version=version + 1)
    assert second.supersedes == first
    assert ReviewDecision.objects.filter(task=task).count() == 2
    # each decision paid its difference once: the taxi answer credited by the pick, and
    # debited once by whichever replacement won
    taxi_rows = PointsEntry.objects.filter(annotation=taxi).values_list(
        "review_decision", flat=True
    )
    assert sorted(taxi_rows) == sorted([first.pk, second.pk])

"""Pre-labelling (issue 14, item 5): the lease carries the model's proposal, on gold and other
tasks alike and only while every task has one; an answer that keeps it is marked, and counts
once with the model that made it."""

from __future__ import annotations

import pytest

from annotations.models import Annotation, Project, Task, TaskState
from annotations.services.projects import project_update
from consensus.models import ConsensusResult, WorkerSkill
from predictions.services import PredictionItem, predictions_store
from tests.consensus.test_model_votes import gold_and_open
from tests.helpers import lease, submit

pytestmark = pytest.mark.django_db

BOX = {"label": "car", "bbox": [1.123456, 2.5, 20.0, 30.0], "score": 0.9}
FAINT = {"label": "taxi", "bbox": [40.0, 10.0, 10.0, 10.0], "score": 0.2}


def predict(project, payloads: dict, model: str = "m@1") -> None:
    items = [
        PredictionItem(str(pk), payload, f"predictions[{i}]")
        for i, (pk, payload) in enumerate(payloads.items())
    ]
    predictions_store(project=project, model=model, items=items)


def box_project(make_project, **fields):
    project = make_project("bbox", images=2, **fields)
    return project, list(Task.objects.filter(project=project).order_by("original_name"))


def test_the_lease_carries_the_proposal_as_an_answer(make_project, worker_client):
    # given a pre-labelled box project whose every task a model predicted
    project, tasks = box_project(make_project, prelabel=True)
    predict(project, {t.pk: {"boxes": [BOX, FAINT]} for t in tasks})
    # then the worker's lease holds the model's sure boxes, as validated, without scores
    body = lease(worker_client, project)
    assert body["proposal"] == {"boxes": [{"label": "car", "bbox": [1.12, 2.5, 20.0, 30.0]}]}


def test_no_proposal_unless_the_project_asks(make_project, worker_client):
    project, tasks = box_project(make_project)
    predict(project, {t.pk: {"boxes": [BOX]} for t in tasks})
    assert lease(worker_client, project)["proposal"] is None


def test_no_task_shows_a_proposal_while_any_task_lacks_one(make_project, worker_clients):
    # given gold and ordinary tasks, the model having predicted only the ordinary ones
    project = make_project(images=4, prelabel=True)
    golds, ordinary = gold_and_open(project, 2)
    predict(project, {t.pk: {"label": "taxi", "score": 0.9} for t in ordinary})
    # then no lease shows a proposal, gold's or not: a missing one would single gold out
    assert [_leased(c, project, gold)["proposal"] for c, gold in _pairs(worker_clients[:4])] == [
        None
    ] * 4
    # and once gold is predicted too, gold and ordinary tasks alike show theirs
    predict(project, {t.pk: {"label": "car", "score": 0.9} for t in golds})
    for client, gold in _pairs(worker_clients[4:8]):
        body = _leased(client, project, gold)
        assert (body["task"] in {str(t.pk) for t in golds}) == gold
        assert body["proposal"] == {"label": "car" if gold else "taxi"}


def _pairs(clients) -> list:
    """Each client with whether it is to be served gold: half and half."""
    return [(c, i % 2 == 0) for i, c in enumerate(clients)]


def _leased(client, project, gold: bool) -> dict:
    """A lease of a gold task (or an ordinary one): the project serves only that kind now."""
    Project.objects.filter(pk=project.pk).update(gold_ratio=1.0 if gold else 0.0)
    return lease(client, project)


def test_an_unchanged_answer_kept_the_proposal_an_edited_one_did_not(make_project, worker_clients):
    project, tasks = box_project(make_project, prelabel=True)
    predict(project, {t.pk: {"boxes": [BOX]} for t in tasks})
    # when one worker sends the proposal back as the tool rounds it, another moves the box
    kept = lease(worker_clients[0], project)
    rounded = {"boxes": [{"label": "car", "bbox": [1.12, 2.5, 20.0, 30.0]}]}
    assert submit(worker_clients[0], kept["assignment"], rounded).status_code == 201
    moved = lease(worker_clients[1], project)
    edited = {"boxes": [{"label": "car", "bbox": [3.0, 2.5, 20.0, 30.0]}]}
    assert submit(worker_clients[1], moved["assignment"], edited).status_code == 201
    # then only the first answer is marked as having kept it
    marks = dict(Annotation.objects.values_list("assignment_id", "kept_proposal"))
    assert (marks[_uuid(kept)], marks[_uuid(moved)]) == (True, False)


def test_an_answer_equal_to_a_proposal_never_shown_is_independent(make_project, worker_client):
    project, tasks = box_project(make_project)  # prelabel off: nothing shown
    predict(project, {t.pk: {"boxes": [BOX]} for t in tasks})
    work = lease(worker_client, project)
    same = {"boxes": [{"label": "car", "bbox": [1.12, 2.5, 20.0, 30.0]}]}
    assert submit(worker_client, work["assignment"], same).status_code == 201
    assert Annotation.objects.get().kept_proposal is False


def test_answers_that_keep_the_proposal_count_once_with_the_model(
    make_project, requester_client, worker_clients, django_capture_on_commit_callbacks
):
    # given a pre-labelled project, a model right on 10 golds proposing "taxi" at 0.8 on the
    # open task (three agreeing people at the prior's 0.8 would make it 0.98 sure)
    project = make_project(images=11, acceptance_threshold=0.9, prelabel=True)
    golds, (task,) = gold_and_open(project, 10)
    labels = {t.pk: {"label": "car", "score": 0.9} for t in golds}
    with django_capture_on_commit_callbacks(execute=True):
        predict(project, labels | {task.pk: {"label": "taxi", "score": 0.8}})
    # when three workers keep the proposal
    project_update(project_id=project.pk, data={"redundancy_max": 3})
    Task.objects.filter(pk=task.pk).update(target_redundancy=3)
    for client in worker_clients[:3]:
        work = lease(client, project)
        with django_capture_on_commit_callbacks(execute=True):
            assert submit(client, work["assignment"], {"label": "taxi"}).status_code == 201
    # then they and the model are one ballot (0.8 sure: under the threshold, so to review):
    # one weight, marked as an echo; three people keeping a proposal are not three
    # confirmations of it
    result = ConsensusResult.objects.get(task=task)
    assert {c.get("echo") for c in result.contributors} == {True}
    assert len({c["weight"] for c in result.contributors}) == 1
    assert len(result.contributors) == 4
    task.refresh_from_db()
    assert task.state == TaskState.REVIEW
    assert result.confidence == pytest.approx(0.8, abs=0.01)
    # and keeping it taught nothing about the workers' skill
    workers = [a.worker_id for a in Annotation.objects.filter(task=task)]
    assert set(
        WorkerSkill.objects.filter(worker_id__in=workers).values_list("agreed", "disagreed")
    ) <= {(0, 0)}


def _uuid(body: dict):
    import uuid

    return uuid.UUID(body["assignment"])

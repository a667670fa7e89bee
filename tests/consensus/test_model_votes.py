"""A model votes as one more worker: graded on gold as soon as its predictions arrive, weighted
by its measured skill, never paid; a credible model lets one agreeing person decide a task, and
a useless one changes nothing."""

from __future__ import annotations

import json

import pytest

from annotations.models import Task, TaskState
from annotations.services.gold import gold_set
from consensus.dashboard import dashboard_figures
from consensus.models import ConsensusResult, WorkerSkill
from consensus.quality import workers_table
from predictions.models import ModelVersion, Prediction
from tests.helpers import lease, submit
from workers.models import PointsEntry

pytestmark = pytest.mark.django_db


def post_predictions(client, project, labels: dict, model="m@1", score=0.9, capture=None):
    body = {
        "model": model,
        "predictions": [
            {"task": str(task), "payload": {"label": label, "score": score}}
            for task, label in labels.items()
        ],
    }
    with capture(execute=True):
        response = client.post(
            f"/api/v1/projects/{project.pk}/predictions/",
            json.dumps(body),
            content_type="application/json",
        )
    assert response.status_code == 201, response.content


def gold_and_open(project, golds: int) -> tuple[list[Task], list[Task]]:
    tasks = list(Task.objects.filter(project=project).order_by("original_name"))
    gold_set(
        project=project, items=[{"task": t.pk, "answer": {"label": "car"}} for t in tasks[:golds]]
    )
    return tasks[:golds], tasks[golds:]


def targets(tasks: list[Task]) -> set[int]:
    """The answers the tasks now want, as a set."""
    rows = Task.objects.filter(pk__in=[t.pk for t in tasks])
    return set(rows.values_list("target_redundancy", flat=True))


def model_skill() -> WorkerSkill:
    return WorkerSkill.objects.get(worker=ModelVersion.objects.get().voter)


def answer(client, project, label, capture):
    work = lease(client, project)
    with capture(execute=True):
        assert submit(client, work["assignment"], {"label": label}).status_code == 201
    return work


def model_on_one_task(make_project, client, capture, gold_said="car"):
    """Ten gold tasks (car) the model says ``gold_said`` on, and one open task it says taxi on."""
    project = make_project(images=11, acceptance_threshold=0.9)
    golds, open_tasks = gold_and_open(project, 10)
    labels = {t.pk: gold_said for t in golds} | {t.pk: "taxi" for t in open_tasks}
    post_predictions(client, project, labels, capture=capture)
    return project


def test_a_models_gold_predictions_are_graded_on_arrival(
    make_project, requester_client, django_capture_on_commit_callbacks
):
    # given 10 gold tasks
    project = make_project(images=12)
    golds, _ = gold_and_open(project, 10)
    # when a model predicts them, right on 9
    labels = {t.pk: "car" if i < 9 else "truck" for i, t in enumerate(golds)}
    post_predictions(requester_client, project, labels, capture=django_capture_on_commit_callbacks)
    # then its skill has the record of a worker with 9 of 10 golds right, and nothing is paid
    skill = model_skill()
    assert (skill.gold_correct, skill.gold_total) == (9, 10)
    assert skill.accuracy > 0.75
    assert (
        sorted(Prediction.objects.filter(task__in=golds).values_list("gold_grade", flat=True))
        == [0.0] + [1.0] * 9
    )
    assert not PointsEntry.objects.exists()


def test_a_credible_model_lets_one_agreeing_person_decide_a_task(
    make_project, requester_client, worker_clients, django_capture_on_commit_callbacks
):
    # given a model right on all 10 golds, predicting "taxi" on the open tasks
    project = make_project(images=12, acceptance_threshold=0.9)
    golds, open_tasks = gold_and_open(project, 10)
    capture = django_capture_on_commit_callbacks
    post_predictions(requester_client, project, {t.pk: "car" for t in golds}, capture=capture)
    predicted = {t.pk: "taxi" for t in open_tasks}
    post_predictions(requester_client, project, predicted, model="m@1b", capture=capture)
    # (a second version has no record yet: it must not lower anything)
    assert targets(open_tasks) == {3}
    post_predictions(requester_client, project, predicted, model="m@1", capture=capture)
    # then the open tasks want one person now
    assert targets(open_tasks) == {1}
    # when one worker agrees with the model
    work = answer(worker_clients[0], project, "taxi", capture)
    # then the task is accepted on that one answer, the model's vote counted and never paid
    task = Task.objects.get(pk=work["task"])
    assert task.state == TaskState.ACCEPTED
    assert task.answers_count == 1
    contributors = ConsensusResult.objects.get(task=task).contributors
    assert [c.get("prediction") is not None for c in contributors] == [False, True]
    voter = ModelVersion.objects.get(name="m@1").voter_id
    assert not PointsEntry.objects.filter(worker_id=voter).exists()
    assert Prediction.objects.get(task=task, model__name="m@1").agreement == 1.0


def test_a_model_does_not_vouch_for_itself_on_tasks_its_vote_decided(
    make_project, requester_client, worker_clients, django_capture_on_commit_callbacks
):
    # given a credible model and a task it helps one agreeing person decide
    capture = django_capture_on_commit_callbacks
    project = model_on_one_task(make_project, requester_client, capture, gold_said="car")
    before = model_skill()
    work = answer(worker_clients[0], project, "taxi", capture)
    # then its agreement is kept, but its skill is what gold made it: no self-confirmation
    assert Task.objects.get(pk=work["task"]).state == TaskState.ACCEPTED
    assert Prediction.objects.get(task_id=work["task"]).agreement == 1.0
    after = model_skill()
    assert (after.alpha, after.beta, after.agreed) == (before.alpha, before.beta, 0)


def test_an_unsure_prediction_asks_for_two_people_and_weighs_no_more_than_its_score(
    make_project, requester_client, worker_clients, django_capture_on_commit_callbacks
):
    # given a credible model (right on 10 golds at 0.9) that scores two open tasks 0.6 and 0.9
    project = make_project(images=12, acceptance_threshold=0.9)
    golds, (unsure, sure) = gold_and_open(project, 10)
    capture = django_capture_on_commit_callbacks
    post_predictions(requester_client, project, {t.pk: "car" for t in golds}, capture=capture)
    post_predictions(requester_client, project, {sure.pk: "taxi"}, capture=capture)
    post_predictions(requester_client, project, {unsure.pk: "taxi"}, score=0.6, capture=capture)
    # then the sure one wants one person, the unsure one two
    assert (targets([sure]), targets([unsure])) == ({1}, {2})
    # and when people agree with both, the unsure vote weighed less in the fusion
    for client in worker_clients[:3]:
        answer(client, project, "taxi", capture)
    weights = {
        str(r.task_id): [c["weight"] for c in r.contributors if "prediction" in c]
        for r in ConsensusResult.objects.filter(task__in=[sure, unsure])
    }
    assert weights[str(unsure.pk)][0] < weights[str(sure.pk)][0]


def test_a_model_weighs_less_when_it_says_a_class_it_gets_wrong_on_gold(
    make_project, requester_client, worker_clients, django_capture_on_commit_callbacks
):
    # given a model right on 10 "car" golds and wrong on 2 "truck" golds it called "taxi"
    project = make_project(images=14, acceptance_threshold=0.9)
    tasks = list(Task.objects.filter(project=project).order_by("original_name"))
    golds = {t.pk: ("car" if i < 10 else "truck") for i, t in enumerate(tasks[:12])}
    gold_set(project=project, items=[{"task": k, "answer": {"label": v}} for k, v in golds.items()])
    capture = django_capture_on_commit_callbacks
    said = {k: ("car" if v == "car" else "taxi") for k, v in golds.items()}
    post_predictions(requester_client, project, said, capture=capture)
    assert ModelVersion.objects.get().class_record == {"car": [10, 10], "taxi": [0, 2]}
    # when it says car on one open task and taxi on the other, and people agree each time
    car, taxi = tasks[12:]
    post_predictions(requester_client, project, {car.pk: "car", taxi.pk: "taxi"}, model="m@1",
                     capture=capture)  # fmt: skip
    for client in worker_clients[:2]:
        work = lease(client, project)
        label = "car" if work["task"] == str(car.pk) else "taxi"
        with capture(execute=True):
            assert submit(client, work["assignment"], {"label": label}).status_code == 201
    # then its taxi vote weighed less than its car vote
    weight = {
        r.task_id: next(c["weight"] for c in r.contributors if "prediction" in c)
        for r in ConsensusResult.objects.filter(task__in=[car, taxi])
    }
    assert weight[taxi.pk] < weight[car.pk]


def test_a_person_who_disagrees_with_a_credible_model_brings_in_more_people(
    make_project, requester_client, worker_clients, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    project = model_on_one_task(make_project, requester_client, capture, gold_said="car")
    # when the one worker says otherwise
    work = answer(worker_clients[0], project, "truck", capture)
    # then the task stays open and asks for another person
    task = Task.objects.get(pk=work["task"])
    assert task.state == TaskState.OPEN
    assert task.target_redundancy == 2


def test_a_useless_model_changes_nothing(
    make_project, requester_client, worker_clients, django_capture_on_commit_callbacks
):
    # given a model wrong on every gold
    capture = django_capture_on_commit_callbacks
    project = model_on_one_task(make_project, requester_client, capture, gold_said="truck")
    # then the open task still wants three people, and its vote is not in the consensus
    (task,) = Task.objects.filter(project=project, is_gold=False)
    assert Task.objects.get(pk=task.pk).target_redundancy == 3
    for client in worker_clients[:3]:
        answer(client, project, "car", capture)
    task.refresh_from_db()
    assert task.state == TaskState.ACCEPTED
    assert task.answers_count == 3
    assert all("prediction" not in c for c in ConsensusResult.objects.get(task=task).contributors)


def test_the_dashboards_show_the_model_beside_the_people_and_answers_per_label(
    make_project, requester_client, worker_clients, django_capture_on_commit_callbacks
):
    # given a credible model and one task decided with one person's answer
    capture = django_capture_on_commit_callbacks
    project = model_on_one_task(make_project, requester_client, capture, gold_said="car")
    answer(worker_clients[0], project, "taxi", capture)
    # when staff look at the figures and the workers table
    figures = dashboard_figures(project=project)
    rows = {r["username"]: r for r in workers_table(project=project)}
    # then one person's answer per accepted label, and the model listed by name, as a model
    assert figures["cost"]["answers_per_label"] == 1.0
    model = rows["m@1 (model)"]
    assert model["model"] is True
    assert model["gold_answers"] == 10
    assert model["points"] == 0
    assert rows["w0"]["model"] is False

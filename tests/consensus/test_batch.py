"""Batch re-scoring: Dawid–Skene over a whole project, skills re-estimated, idempotent."""

import random

import pytest

from annotations.models import Task, TaskState
from consensus.algorithms.classification import log_odds_weights
from consensus.batch import project_rescore, projects_to_rescore
from consensus.models import ConsensusResult, ReviewAction, WorkerSkill
from consensus.review import task_review_decide
from consensus.tasks import rescore_active_task
from sebenzai.common.errors import Conflict
from tests.helpers import db_snapshot, lease, submit

pytestmark = pytest.mark.django_db
LABELS = ["car", "taxi", "truck"]


def _truth(task: Task) -> str:
    return LABELS[int(task.original_name.removeprefix("img").removesuffix(".png")) % 3]


@pytest.fixture
def answer(django_capture_on_commit_callbacks):
    """Submit through the API and run the scoring job the commit enqueues."""

    def send(client, assignment: str, payload: dict) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            assert submit(client, assignment, payload).status_code == 201

    return send


def _crowd_answers(project, clients, answer, spammer_index: int, seed: int = 1) -> None:
    """Every worker answers every task they are served: the truth, except the spammer."""
    rng = random.Random(seed)
    for index, client in enumerate(clients):
        while (work := lease(client, project)) is not None:
            truth = _truth(Task.objects.get(pk=work["task"]))
            label = rng.choice(LABELS) if index == spammer_index else truth
            answer(client, work["assignment"], {"label": label})


@pytest.fixture
def crowded(make_project, worker_clients, answer):
    project = make_project(images=30, redundancy_min=5, redundancy_max=6, acceptance_threshold=0.6)
    _crowd_answers(project, worker_clients[:5], answer, spammer_index=0)
    return project, worker_clients


def _weight(project, user) -> float:
    skill = WorkerSkill.objects.get(project=project, worker=user)
    return float(log_odds_weights([skill.accuracy], len(LABELS))[0])


def test_the_spammer_ends_with_weight_near_zero(crowded):
    project, clients = crowded
    report = project_rescore(project_id=project.pk)
    assert report.answers >= 150
    spammer, honest = _weight(project, clients[0].user), _weight(project, clients[1].user)
    assert spammer < 0.15 * honest


def test_rescoring_twice_changes_nothing_the_second_time(crowded):
    project, _ = crowded
    project_rescore(project_id=project.pk)
    before = db_snapshot()
    skills = sorted(WorkerSkill.objects.values_list("worker_id", "alpha", "beta"))
    versions = sorted(ConsensusResult.objects.values_list("task_id", "version", "confidence"))

    report = project_rescore(project_id=project.pk)

    assert (report.skills_updated, report.confidence_updated, report.sent_to_review) == (0, 0, 0)
    assert db_snapshot() == before
    assert sorted(WorkerSkill.objects.values_list("worker_id", "alpha", "beta")) == skills
    assert (
        sorted(ConsensusResult.objects.values_list("task_id", "version", "confidence")) == versions
    )


def test_an_accepted_label_the_whole_crowd_contradicts_goes_to_review(crowded, make_user):
    project, _ = crowded
    task = Task.objects.filter(project=project, state=TaskState.ACCEPTED).first()
    wrong = next(label for label in LABELS if label != _truth(task))
    Task.objects.filter(pk=task.pk).update(accepted_label={"label": wrong})
    seen = ConsensusResult.objects.get(task=task).version  # the review page, loaded before

    report = project_rescore(project_id=project.pk)

    assert report.sent_to_review == 1
    task.refresh_from_db()
    assert task.state == TaskState.REVIEW
    assert task.accepted_label == {"label": wrong}  # kept for the admin to see, not rewritten
    # a decision taken on the page as it was is refused as stale
    admin = make_user(name="late_admin", staff=True)
    with pytest.raises(Conflict):
        task_review_decide(
            task_id=task.pk, reviewer=admin, action=ReviewAction.REJECT, version=seen
        )


def test_a_task_an_admin_settled_is_left_alone(crowded):
    project, _ = crowded
    task = Task.objects.filter(project=project, state=TaskState.ACCEPTED).first()
    wrong = next(label for label in LABELS if label != _truth(task))
    Task.objects.filter(pk=task.pk).update(accepted_label={"label": wrong}, confidence=1.0)
    ConsensusResult.objects.filter(task=task).update(method="review:pick")

    project_rescore(project_id=project.pk)

    task.refresh_from_db()
    assert (task.state, task.accepted_label, task.confidence) == (
        TaskState.ACCEPTED,
        {"label": wrong},
        1.0,
    )


def test_accepted_confidence_becomes_the_posterior(crowded):
    project, _ = crowded
    project_rescore(project_id=project.pk)
    confidences = list(
        Task.objects.filter(project=project, state=TaskState.ACCEPTED).values_list(
            "confidence", flat=True
        )
    )
    assert confidences
    assert all(0.9 < c <= 1.0 for c in confidences)  # five honest-or-spam answers: near certain


def test_shape_skills_come_from_stored_agreement(make_project, worker_clients, answer):
    project = make_project(
        "bbox", images=2, redundancy_min=4, redundancy_max=4, acceptance_threshold=0.5
    )
    box = {"label": "car", "bbox": [4, 4, 20, 16]}
    far = {"label": "car", "bbox": [40, 30, 10, 10]}
    for index, client in enumerate(worker_clients[:4]):
        while (work := lease(client, project)) is not None:
            payload = {"boxes": [far if index == 3 else box]}
            answer(client, work["assignment"], payload)
    WorkerSkill.objects.update(alpha=4.0, beta=1.0)  # forget what online scoring learnt

    project_rescore(project_id=project.pk)

    good = WorkerSkill.objects.get(project=project, worker=worker_clients[0].user)
    bad = WorkerSkill.objects.get(project=project, worker=worker_clients[3].user)
    assert Task.objects.filter(project=project, state=TaskState.ACCEPTED).count() == 2
    assert good.accuracy > 0.8 > bad.accuracy


def test_the_beat_job_rescores_every_active_project(crowded, make_project):
    project, _ = crowded
    make_project(images=1)  # active, but nobody answered: nothing to re-score
    assert projects_to_rescore() == [str(project.pk)]
    assert rescore_active_task() == 1

"""Scoring a task through the service: decisions, skill, points, idempotency."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations.models import Annotation, ScoreState, Task, TaskState
from consensus import tasks
from consensus.models import ConsensusResult, Decision, WorkerSkill
from consensus.rows import rows_update
from consensus.services import consensus_score, score_attempt_begin, unscored_task_ids
from tests.helpers import lease, submit
from workers.models import PointsEntry

pytestmark = pytest.mark.django_db


def _answer(clients, project, labels, django_capture_on_commit_callbacks, execute=True):
    for client, label in zip(clients, labels, strict=False):
        work = lease(client, project)
        with django_capture_on_commit_callbacks(execute=execute):
            assert submit(client, work["assignment"], {"label": label}).status_code == 201


def test_scoring_twice_pays_once_and_moves_skill_once(
    make_project, worker_clients, django_capture_on_commit_callbacks
):
    project = make_project(images=1)
    _answer(worker_clients, project, ["car", "car", "car"], django_capture_on_commit_callbacks)
    task = Task.objects.get(project=project)
    skills_before = sorted(WorkerSkill.objects.values_list("alpha", "beta"))
    version = ConsensusResult.objects.get(task=task).version

    assert consensus_score(task_id=task.pk) is None  # already accepted: nothing more to decide

    assert PointsEntry.objects.count() == 3
    assert sorted(WorkerSkill.objects.values_list("alpha", "beta")) == skills_before
    assert ConsensusResult.objects.get(task=task).version == version
    assert Task.objects.get(pk=task.pk).state == TaskState.ACCEPTED


def test_the_dissenting_worker_loses_skill_and_earns_nothing(
    make_project, worker_clients, django_capture_on_commit_callbacks
):
    project = make_project(images=1)
    _answer(worker_clients, project, ["car", "car", "taxi"], django_capture_on_commit_callbacks)
    dissenter = worker_clients[2].user
    skill = WorkerSkill.objects.get(worker=dissenter, project=project)
    assert skill.accuracy < 0.8
    assert skill.disagreed == 1
    assert not PointsEntry.objects.filter(worker=dissenter).exists()
    assert Annotation.objects.get(worker=dissenter).agreement == 0.0


def test_a_lost_scoring_message_is_found_by_the_sweeper(
    make_project, worker_clients, django_capture_on_commit_callbacks
):
    project = make_project(images=1)
    _answer(worker_clients, project, ["car"] * 3, django_capture_on_commit_callbacks, execute=False)
    task = Task.objects.get(project=project)
    assert task.state == TaskState.OPEN
    assert unscored_task_ids(older_than_seconds=-1) == [str(task.pk)]

    consensus_score(task_id=task.pk)

    assert unscored_task_ids(older_than_seconds=-1) == []
    assert Task.objects.get(pk=task.pk).state == TaskState.ACCEPTED


def test_the_sweeper_never_resends_a_task_whose_scoring_job_may_still_be_running(
    make_project, worker_clients, django_capture_on_commit_callbacks, settings
):
    # given a task whose answers wait for scoring, and a job that has begun an attempt on it
    project = make_project(images=1)
    _answer(worker_clients, project, ["car"] * 3, django_capture_on_commit_callbacks, execute=False)
    task = Task.objects.get(project=project)
    assert score_attempt_begin(task_id=task.pk) is True
    began = Annotation.objects.filter(task=task).first().score_started_at
    lease = settings.CELERY_TASK_TIME_LIMIT + 30
    # then however old the answers are, the sweeper leaves it alone while the job may run
    with time_machine.travel(began + timedelta(seconds=lease - 1), tick=False):
        assert unscored_task_ids(older_than_seconds=0) == []
    # and once the attempt is past the hard time limit, the job is dead: the sweeper sends again
    with time_machine.travel(began + timedelta(seconds=lease + 1), tick=False):
        assert unscored_task_ids(older_than_seconds=0) == [str(task.pk)]


def test_a_poison_task_is_quarantined_after_its_attempt_budget(
    make_project, worker_clients, django_capture_on_commit_callbacks, settings
):
    settings.SEBENZAI = {**settings.SEBENZAI, "SCORE_MAX_ATTEMPTS": 2}
    project = make_project(images=1)
    _answer(worker_clients[:1], project, ["car"], django_capture_on_commit_callbacks, execute=False)
    task_id = Task.objects.get(project=project).pk
    assert score_attempt_begin(task_id=task_id) is True
    assert score_attempt_begin(task_id=task_id) is True
    assert score_attempt_begin(task_id=task_id) is False
    assert Annotation.objects.get().score_state == ScoreState.FAILED


def test_gold_answers_are_graded_and_count_strongly_in_skill(
    make_project, worker_clients, requester_client, django_capture_on_commit_callbacks
):
    project = make_project(images=1, gold_ratio=0.5)
    task = Task.objects.get(project=project)
    response = requester_client.post(
        f"/api/v1/projects/{project.pk}/gold/",
        {"gold": [{"task": str(task.pk), "answer": {"label": "truck"}}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    _answer(worker_clients[:2], project, ["truck", "car"], django_capture_on_commit_callbacks)
    right, wrong = (
        WorkerSkill.objects.get(worker=c.user, project=project) for c in worker_clients[:2]
    )
    assert (right.gold_correct, right.gold_total) == (1, 1)
    assert (wrong.gold_correct, wrong.gold_total) == (0, 1)
    assert wrong.accuracy < 0.7 < 0.8 < right.accuracy
    assert Task.objects.get(pk=task.pk).state == TaskState.OPEN  # gold stays available to everyone
    assert ConsensusResult.objects.count() == 0


def test_moderation_keeps_categories_most_unsafe_voters_chose(
    make_project, worker_clients, django_capture_on_commit_callbacks
):
    project = make_project("moderation", images=1)
    answers = [
        {"verdict": "unsafe", "categories": ["violence"]},
        {"verdict": "unsafe", "categories": ["violence", "nudity"]},
        {"verdict": "unsafe", "categories": ["violence"]},
    ]
    for client, payload in zip(worker_clients, answers, strict=False):
        work = lease(client, project)
        with django_capture_on_commit_callbacks(execute=True):
            assert submit(client, work["assignment"], payload).status_code == 201
    task = Task.objects.get(project=project)
    assert task.accepted_label == {"verdict": "unsafe", "categories": ["violence"]}
    assert ConsensusResult.objects.get(task=task).decision == Decision.ACCEPT


def test_a_failed_scoring_attempt_frees_its_lease_for_the_sweeper(
    make_project, worker_clients, django_capture_on_commit_callbacks, monkeypatch
):
    # given answers waiting, and a scoring job that fails (its retry may be lost with the broker)
    project = make_project(images=1)
    _answer(worker_clients, project, ["car"] * 3, django_capture_on_commit_callbacks, execute=False)
    task = Task.objects.get(project=project)

    def broken(**_kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(tasks, "consensus_score", broken)
    with pytest.raises(RuntimeError):
        tasks.consensus_score_task.run(str(task.pk))
    # then the sweeper may send it again at once instead of waiting out the time limit
    assert unscored_task_ids(older_than_seconds=0) == [str(task.pk)]


def test_one_statement_writes_each_row_its_own_values_null_included(
    make_project, worker_clients, django_capture_on_commit_callbacks
):
    # given three answers already scored
    project = make_project(images=1)
    _answer(worker_clients, project, ["car"] * 3, django_capture_on_commit_callbacks)
    answers = list(Annotation.objects.filter(task__project=project).order_by("created_at"))
    # when their agreements are rewritten in one statement, one of them to NULL
    for answer, value in zip(answers, [0.25, None, 1.0], strict=True):
        answer.agreement = value
    with CaptureQueriesContext(connection) as captured:
        rows_update(answers, ["agreement"])
    # then each row holds its own value
    assert len(captured) == 1
    stored = dict(
        Annotation.objects.filter(pk__in=[a.pk for a in answers]).values_list("pk", "agreement")
    )
    assert [stored[a.pk] for a in answers] == [0.25, None, 1.0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL setting")
@pytest.mark.django_db(transaction=True)  # SET LOCAL lasts until the commit this test must see
def test_scoring_commits_without_waiting_for_the_disk_and_nothing_else_does(
    make_project, worker_clients, django_capture_on_commit_callbacks
):
    project = make_project(images=1)
    _answer(worker_clients, project, ["car"] * 3, django_capture_on_commit_callbacks, execute=False)
    task = Task.objects.get(project=project)
    with CaptureQueriesContext(connection) as queries:
        consensus_score(task_id=task.pk)
    statements = [q["sql"] for q in queries.captured_queries]
    assert statements.count("SET LOCAL synchronous_commit TO OFF") == 1
    assert Task.objects.get(pk=task.pk).state == TaskState.ACCEPTED
    # SET LOCAL ends with the transaction: the connection is back to durable commits.
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"

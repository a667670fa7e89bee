"""Automatic suspension on gold (docs/reliability.md C8): a worker confidently wrong on gold is blocked
from the project once, their undecided tasks re-scored once, admin-settled tasks left alone."""

import pytest
from django.utils import timezone

from annotations.models import Annotation, Assignment, ProjectBlock, Task, TaskState
from consensus.algorithms.suspension import gold_failing, wilson_upper
from consensus.batch import project_rescore
from consensus.models import ConsensusResult
from consensus.quality import workers_table
from consensus.review import task_review_decide
from tests.helpers import lease, submit

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("correct", "total", "suspended"),
    [
        (2, 12, True),
        (0, 10, True),
        (0, 9, False),  # too few golds to judge, however bad
        (4, 10, False),  # 40 % raw, but ten golds cannot tell that from 50 %
        (6, 12, False),  # at the bar
        (12, 12, False),
    ],
)
def test_the_gold_rule_needs_n_golds_and_an_accuracy_confidently_below_the_bar(
    correct, total, suspended
):
    assert gold_failing(correct=correct, total=total, min_gold=10, threshold=0.5) is suspended


def test_the_wilson_bound_lies_above_the_raw_share_and_narrows_with_more_golds():
    assert 2 / 12 < wilson_upper(2, 12) < 0.5
    assert wilson_upper(20, 120) < wilson_upper(2, 12)
    assert wilson_upper(0, 0) == 1.0


def _version(task: Task) -> int:
    result = ConsensusResult.objects.filter(task=task).first()
    return result.version if result else 0


def _answer(client, project, payload, capture) -> Task:
    work = lease(client, project)
    with capture(execute=True):
        assert submit(client, work["assignment"], payload).status_code == 201
    return Task.objects.get(pk=work["task"])


def _gold_record(worker, golds: list[Task], right: int) -> None:
    """Graded gold answers, written as scoring would have left them: ``right`` correct."""
    for n, task in enumerate(golds):
        lease_ = Assignment.objects.create(
            task=task, worker=worker, state="submitted", expires_at=timezone.now()
        )
        grade = 1.0 if n < right else 0.0
        Annotation.objects.create(
            assignment=lease_,
            task=task,
            worker=worker,
            payload={"label": "car" if grade else "truck"},
            gold_grade=grade,
            score_state="scored",
        )


@pytest.fixture
def crowd(make_project, worker_clients, make_user, django_capture_on_commit_callbacks):
    """Worker 0 (the spammer) answered a task an admin then settled, and one still open; then
    2 of 12 golds right. Worker 3 got 7 of 12 right, worker 4 none of 9."""
    capture = django_capture_on_commit_callbacks
    project = make_project(
        images=14, redundancy_min=3, redundancy_max=3, acceptance_threshold=0.999
    )
    spammer, first, second = worker_clients[:3]
    settled = _answer(spammer, project, {"label": "truck"}, capture)
    for client in (first, second):
        assert _answer(client, project, {"label": "car"}, capture) == settled
    task_review_decide(
        task_id=settled.pk,
        reviewer=make_user(staff=True),
        action="accept_fused",
        version=_version(settled),
    )
    still_open = _answer(spammer, project, {"label": "taxi"}, capture)
    assert _answer(first, project, {"label": "car"}, capture) == still_open
    golds = list(Task.objects.filter(project=project).exclude(pk__in=[settled.pk, still_open.pk]))
    Task.objects.filter(pk__in=[g.pk for g in golds]).update(
        is_gold=True, gold_answer={"label": "car"}
    )
    _gold_record(spammer.user, golds, right=2)
    _gold_record(worker_clients[3].user, golds, right=7)
    _gold_record(worker_clients[4].user, golds[:9], right=0)
    return project, settled, still_open


def test_the_batch_suspends_the_worker_failing_gold_and_rescores_their_open_task(
    crowd, worker_clients, django_capture_on_commit_callbacks
):
    # given a spammer with 2 of 12 golds right, on one settled and one open task
    project, settled, still_open = crowd
    spammer = worker_clients[0].user
    versions = {t.pk: _version(t) for t in (settled, still_open)}

    # when the periodic re-score runs
    with django_capture_on_commit_callbacks(execute=True):
        report = project_rescore(project_id=project.pk)

    # then the spammer alone is blocked, with the rule as the reason and no admin
    assert report.suspended == 1
    block = ProjectBlock.objects.get(project=project)
    assert (block.worker, block.blocked_by, block.reason) == (
        spammer,
        None,
        "auto: gold accuracy 2/12",
    )
    # their slot on the open task is freed and the task re-scored once, without them
    reopened = Task.objects.get(pk=still_open.pk)
    assert (reopened.state, reopened.answers_count, reopened.slots_taken) == (TaskState.OPEN, 1, 1)
    result = ConsensusResult.objects.get(task=still_open)
    assert (result.version, result.answers) == (versions[still_open.pk] + 1, 1)
    # the task an admin settled keeps its label, its answers and its consensus version
    kept = Task.objects.get(pk=settled.pk)
    assert (kept.state, kept.answers_count, kept.accepted_label) == (
        TaskState.ACCEPTED,
        3,
        {"label": "car"},
    )
    assert ConsensusResult.objects.get(task=settled).version == versions[settled.pk]
    assert lease(worker_clients[0], project) is None


def test_a_second_run_blocks_no_one_and_rescores_nothing(crowd, django_capture_on_commit_callbacks):
    project, _, still_open = crowd
    with django_capture_on_commit_callbacks(execute=True):
        project_rescore(project_id=project.pk)
    version = _version(still_open)
    state = list(Task.objects.order_by("pk").values_list("state", "answers_count", "slots_taken"))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        report = project_rescore(project_id=project.pk)

    assert report.suspended == 0
    assert callbacks == []  # no re-scoring enqueued
    assert ProjectBlock.objects.count() == 1
    assert _version(still_open) == version
    assert (
        list(Task.objects.order_by("pk").values_list("state", "answers_count", "slots_taken"))
        == state
    )


def test_workers_above_the_bar_or_with_too_few_golds_are_untouched(
    crowd, worker_clients, django_capture_on_commit_callbacks
):
    project, _, _ = crowd
    with django_capture_on_commit_callbacks(execute=True):
        project_rescore(project_id=project.pk)
    blocked = set(ProjectBlock.objects.values_list("worker_id", flat=True))
    assert blocked == {worker_clients[0].user.pk}
    assert worker_clients[3].user.pk not in blocked  # 7 of 12
    assert worker_clients[4].user.pk not in blocked  # 0 of 9: fewer than 10 golds


def test_the_gold_grade_that_fails_the_rule_suspends_at_once(
    make_project, worker_clients, settings, django_capture_on_commit_callbacks
):
    # given a rule of three golds, and a worker who answered the one ordinary task
    settings.SEBENZAI = {**settings.SEBENZAI, "SUSPEND_MIN_GOLD": 3}
    project = make_project(images=4, redundancy_min=3, redundancy_max=3)
    spammer, capture = worker_clients[0], django_capture_on_commit_callbacks
    ordinary = _answer(spammer, project, {"label": "taxi"}, capture)
    Task.objects.filter(project=project).exclude(pk=ordinary.pk).update(
        is_gold=True, gold_answer={"label": "car"}
    )

    # when they answer the golds wrong, one after another (gold comes once ordinary work is done)
    for n in range(3):
        assert not ProjectBlock.objects.exists(), n
        _answer(spammer, project, {"label": "truck"}, capture)

    # then the third grade blocks them, with no batch run, and frees their slot
    block = ProjectBlock.objects.get(project=project, worker=spammer.user)
    assert (block.blocked_by, block.reason) == (None, "auto: gold accuracy 0/3")
    assert Task.objects.get(pk=ordinary.pk).answers_count == 0
    assert lease(spammer, project) is None


def test_the_staff_workers_table_shows_the_suspension_reason(
    crowd, worker_clients, django_capture_on_commit_callbacks
):
    project, _, _ = crowd
    with django_capture_on_commit_callbacks(execute=True):
        project_rescore(project_id=project.pk)
    rows = {r["worker"]: r for r in workers_table(project=project)}
    spammer = rows[worker_clients[0].user.pk]
    assert (spammer["blocked"], spammer["block_reason"]) == (True, "auto: gold accuracy 2/12")
    assert rows[worker_clients[1].user.pk]["block_reason"] is None

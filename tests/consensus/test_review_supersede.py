"""Review decisions are a history: a newer decision supersedes the one in force, a reopen undoes
it, and the workers' agreement, skill and points move by the difference, once."""

import pytest
from django.db import IntegrityError, transaction

from annotations.models import Annotation, Task, TaskState
from consensus.models import REVIEWED_METHOD_PREFIX, ConsensusResult, ReviewDecision, WorkerSkill
from consensus.review import decision_in_force, review_queue, task_review_decide
from sebenzai.common.errors import Conflict, DomainError
from tests.consensus.test_review import balance, version_of
from workers.models import PointsEntry, PointsReason
from workers.services import Award, points_award

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(make_user):
    return make_user(staff=True)


def decide(task, admin, action, **choice) -> ReviewDecision:
    return task_review_decide(
        task_id=task.pk, reviewer=admin, action=action, version=version_of(task), **choice
    )


def taxi_of(task) -> Annotation:
    return Annotation.objects.get(task=task, payload={"label": "taxi"})


def standing(task) -> dict:
    """Per worker of the task: the answer's agreement, the balance and the skill row."""
    skills = {s.worker_id: s for s in WorkerSkill.objects.filter(project=task.project)}
    rows = {}
    for a in Annotation.objects.filter(task=task).select_related("worker"):
        skill = skills[a.worker_id]
        rows[a.worker_id] = {
            "agreement": a.agreement,
            "points": balance(a.worker),
            "alpha": round(skill.alpha, 9),  # an observation added then taken back: float noise
            "beta": round(skill.beta, 9),
            "agreed": skill.agreed,
            "disagreed": skill.disagreed,
        }
    return rows


def test_a_second_decision_supersedes_the_first_paying_and_grading_the_difference_once(
    disputed, worker_clients, admin, make_user
):
    car_worker, taxi_worker = worker_clients[0].user, worker_clients[2].user
    first = decide(disputed, admin, "accept_fused")
    assert [balance(c.user) for c in worker_clients[:3]] == [10, 10, 0]

    second = decide(disputed, make_user(staff=True), "pick", annotation_id=taxi_of(disputed).pk)

    task = Task.objects.get(pk=disputed.pk)
    assert (task.state, task.accepted_label) == (TaskState.ACCEPTED, {"label": "taxi"})
    assert [balance(c.user) for c in worker_clients[:3]] == [0, 0, 10]
    rows = PointsEntry.objects.filter(worker=car_worker).order_by("pk")
    assert list(rows.values_list("reason", "points", "review_decision")) == [
        (PointsReason.REVIEW_CREDIT, 10, first.pk),
        (PointsReason.REVIEW_DEBIT, -10, second.pk),
    ]
    # skill counts each answer once: the first decision's observation was taken back
    car, taxi = (WorkerSkill.objects.get(worker=w) for w in (car_worker, taxi_worker))
    assert (car.agreed, car.disagreed, taxi.agreed, taxi.disagreed) == (0, 1, 1, 0)
    assert (car.alpha, car.beta) == pytest.approx((4.0, 1.25))  # the prior 4, 1 and one miss
    assert (taxi.alpha, taxi.beta) == pytest.approx((4.25, 1.0))
    assert second.supersedes == first
    assert decision_in_force(task=task) == second
    assert version_of(task) == first.version + 2


def test_a_task_a_model_had_accepted_is_no_longer_the_models_once_an_admin_decides(disputed, admin):
    # given a task the model accepted and the batch re-score sent back to review
    Task.objects.filter(pk=disputed.pk).update(accepted_by_model=True)
    # when an admin decides it, then the decision is a person's
    decide(disputed, admin, "accept_fused")
    assert Task.objects.get(pk=disputed.pk).accepted_by_model is False


def test_a_retried_decision_is_refused_and_pays_nothing_more(disputed, worker_clients, admin):
    version = version_of(disputed)
    decide(disputed, admin, "pick", annotation_id=taxi_of(disputed).pk)
    rows = PointsEntry.objects.count()

    with pytest.raises(Conflict) as repeat:
        task_review_decide(
            task_id=disputed.pk,
            reviewer=admin,
            action="pick",
            version=version,
            annotation_id=taxi_of(disputed).pk,
        )

    assert repeat.value.code == "already_reviewed"
    assert PointsEntry.objects.count() == rows
    assert ReviewDecision.objects.count() == 1


def test_the_ledger_pays_a_review_adjustment_once_per_decision(disputed, worker_clients):
    taxi = taxi_of(disputed)

    def credit(decision: int | None, reason=PointsReason.REVIEW_CREDIT) -> Award:
        return Award(taxi.worker_id, taxi.pk, reason, 10, review_decision=decision)

    points_award(awards=[credit(1), credit(1)])
    points_award(awards=[credit(1), credit(2)])
    points_award(awards=[credit(None, PointsReason.ACCEPTED), credit(None, PointsReason.ACCEPTED)])

    paid = PointsEntry.objects.filter(annotation=taxi)
    assert sorted(paid.values_list("reason", "review_decision")) == [
        (PointsReason.ACCEPTED, None),
        (PointsReason.REVIEW_CREDIT, 1),
        (PointsReason.REVIEW_CREDIT, 2),
    ]


def test_decide_then_reopen_gives_back_skills_points_and_agreement_as_before(
    disputed, worker_clients, admin
):
    before = standing(disputed)
    method = ConsensusResult.objects.get(task=disputed).method
    picked = decide(disputed, admin, "pick", annotation_id=taxi_of(disputed).pk)
    assert standing(disputed) != before

    reopened = decide(disputed, admin, "reopen")

    assert standing(disputed) == before
    task = Task.objects.get(pk=disputed.pk)
    assert (task.state, task.accepted_label, task.decided_at) == (TaskState.REVIEW, None, None)
    result = ConsensusResult.objects.get(task=task)
    assert task.confidence == result.confidence
    # the crowd's method again: batch re-scoring no longer takes the task as an admin's
    assert result.method == method
    assert not result.method.startswith(REVIEWED_METHOD_PREFIX)
    assert (reopened.supersedes, reopened.label) == (picked, None)
    assert decision_in_force(task=task) == reopened
    assert task in review_queue(project=task.project)


def test_reopening_an_overridden_crowd_label_restores_what_the_consensus_paid(
    accepted, worker_clients, admin
):
    before = standing(accepted)
    assert [row["agreement"] for row in before.values()] == [1.0, 1.0, 0.0]
    decide(accepted, admin, "pick", annotation_id=taxi_of(accepted).pk)
    assert [balance(c.user) for c in worker_clients[:3]] == [0, 0, 10]

    decide(accepted, admin, "reopen")

    assert standing(accepted) == before
    assert [balance(c.user) for c in worker_clients[:3]] == [10, 10, 0]
    task = Task.objects.get(pk=accepted.pk)
    assert (task.state, task.accepted_label) == (TaskState.REVIEW, None)


def test_rejecting_after_an_accept_gives_back_what_the_crowd_left(disputed, admin):
    before = standing(disputed)
    decide(disputed, admin, "accept_fused")

    decide(disputed, admin, "reject")

    assert standing(disputed) == before
    task = Task.objects.get(pk=disputed.pk)
    assert (task.state, task.accepted_label) == (TaskState.REJECTED, None)


def test_a_decision_after_a_reopen_is_paid_and_graded_once(disputed, worker_clients, admin):
    decide(disputed, admin, "pick", annotation_id=taxi_of(disputed).pk)
    decide(disputed, admin, "reopen")

    decide(disputed, admin, "accept_fused")

    assert [balance(c.user) for c in worker_clients[:3]] == [10, 10, 0]
    skills = [WorkerSkill.objects.get(worker=c.user) for c in worker_clients[:3]]
    assert [(s.agreed, s.disagreed) for s in skills] == [(1, 0), (1, 0), (0, 1)]
    assert ReviewDecision.objects.filter(task=disputed).count() == 3


def test_reopening_needs_an_admin_decision_in_force(disputed, admin):
    with pytest.raises(DomainError) as never_decided:
        decide(disputed, admin, "reopen")
    decide(disputed, admin, "accept_fused")
    decide(disputed, admin, "reopen")
    with pytest.raises(DomainError) as reopened_already:
        decide(disputed, admin, "reopen")

    assert never_decided.value.code == reopened_already.value.code == "nothing_to_reopen"
    assert ReviewDecision.objects.filter(task=disputed).count() == 2


def test_the_database_keeps_one_decision_per_task_and_consensus_version(disputed, admin):
    fields = {"task": disputed, "reviewer": admin, "action": "reject", "replaced_state": "review"}
    first = ReviewDecision.objects.create(**fields, version=5)
    ReviewDecision.objects.create(**fields, version=6, supersedes=first)

    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewDecision.objects.create(**fields, version=6)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewDecision.objects.create(**fields, version=7, supersedes=first)  # superseded once

"""Settling a task by review: the label, the workers' agreement and skill, and points move once."""

import pytest
from django.db.models import Sum

from annotations.models import Annotation, Task, TaskState
from consensus.models import ConsensusResult, ReviewDecision, WorkerSkill
from consensus.review import task_review_decide
from sebenzai.common.errors import Conflict, DomainError
from tests.helpers import lease, submit
from workers.models import PointsEntry, PointsReason

pytestmark = pytest.mark.django_db


def answer(clients, project, payloads, capture):
    """Each client leases and answers; returns the task the last one answered."""
    for client, payload in zip(clients, payloads, strict=False):
        work = lease(client, project)
        with capture(execute=True):
            assert submit(client, work["assignment"], payload).status_code == 201
    return Task.objects.get(pk=work["task"])


def balance(user) -> int:
    return PointsEntry.objects.filter(worker=user).aggregate(t=Sum("points"))["t"] or 0


def version_of(task) -> int:
    return ConsensusResult.objects.get(task=task).version


def disputed_task(make_project, worker_clients, django_capture_on_commit_callbacks) -> Task:
    """A classification task in review: car, car, taxi with a threshold the crowd cannot reach."""
    project = make_project(images=1, redundancy_min=3, redundancy_max=3, acceptance_threshold=0.999)
    labels = [{"label": "car"}, {"label": "car"}, {"label": "taxi"}]
    task = answer(worker_clients, project, labels, django_capture_on_commit_callbacks)
    assert task.state == TaskState.REVIEW
    return task


def accepted_task(make_project, worker_clients, django_capture_on_commit_callbacks) -> Task:
    """A task the crowd accepted as car, paying the two car workers 10 points each."""
    project = make_project(images=1, acceptance_threshold=0.5)
    labels = [{"label": "car"}, {"label": "car"}, {"label": "taxi"}]
    task = answer(worker_clients, project, labels, django_capture_on_commit_callbacks)
    assert task.state == TaskState.ACCEPTED
    return task


def test_picking_a_workers_answer_accepts_it_and_pays_only_that_worker(
    disputed, worker_clients, make_user
):
    admin = make_user(staff=True)
    taxi = Annotation.objects.get(task=disputed, payload={"label": "taxi"})

    task_review_decide(
        task_id=disputed.pk,
        reviewer=admin,
        action="pick",
        version=version_of(disputed),
        annotation_id=taxi.pk,
    )

    task = Task.objects.get(pk=disputed.pk)
    assert (task.state, task.accepted_label) == (TaskState.ACCEPTED, {"label": "taxi"})
    assert balance(worker_clients[2].user) == 10
    assert balance(worker_clients[0].user) == balance(worker_clients[1].user) == 0
    agreements = dict(Annotation.objects.values_list("worker_id", "agreement"))
    assert agreements[worker_clients[2].user.pk] == 1.0
    assert agreements[worker_clients[0].user.pk] == 0.0
    decision = ReviewDecision.objects.get(task=task)
    assert decision.replaced_state == TaskState.REVIEW
    assert decision.reviewer == admin
    assert decision.picked_annotation == taxi


def test_overriding_an_accepted_label_debits_and_credits_once_and_moves_skill(
    accepted, worker_clients, make_user
):
    admin = make_user(staff=True)
    car_worker, taxi_worker = worker_clients[0].user, worker_clients[2].user
    assert (balance(car_worker), balance(taxi_worker)) == (10, 0)
    skill_before = WorkerSkill.objects.get(worker=taxi_worker, project=accepted.project)
    taxi = Annotation.objects.get(task=accepted, worker=taxi_worker)
    version = version_of(accepted)

    task_review_decide(
        task_id=accepted.pk, reviewer=admin, action="pick", version=version, annotation_id=taxi.pk
    )
    with pytest.raises(Conflict) as repeat:
        task_review_decide(
            task_id=accepted.pk,
            reviewer=admin,
            action="pick",
            version=version,
            annotation_id=taxi.pk,
        )

    assert repeat.value.code == "already_reviewed"
    assert (balance(car_worker), balance(taxi_worker)) == (0, 10)
    reasons = sorted(PointsEntry.objects.filter(worker=car_worker).values_list("reason", "points"))
    assert reasons == [(PointsReason.ACCEPTED, 10), (PointsReason.REVIEW_DEBIT, -10)]
    skill = WorkerSkill.objects.get(worker=taxi_worker, project=accepted.project)
    assert (skill.agreed, skill.disagreed) == (1, 0)
    assert skill.accuracy > skill_before.accuracy
    assert ReviewDecision.objects.get().replaced_label == {"label": "car"}


def test_a_decision_on_a_stale_page_is_refused_and_changes_nothing(disputed, make_user):
    admin = make_user(staff=True)
    stale = version_of(disputed) - 1

    with pytest.raises(Conflict) as refused:
        task_review_decide(
            task_id=disputed.pk, reviewer=admin, action="accept_fused", version=stale
        )

    assert refused.value.status_code == 409
    assert refused.value.code == "task_changed"
    assert Task.objects.get(pk=disputed.pk).state == TaskState.REVIEW
    assert not ReviewDecision.objects.exists()
    assert not PointsEntry.objects.exists()


def test_accepting_the_fused_result_pays_the_majority(disputed, worker_clients, make_user):
    admin = make_user(staff=True)

    task_review_decide(
        task_id=disputed.pk, reviewer=admin, action="accept_fused", version=version_of(disputed)
    )

    assert Task.objects.get(pk=disputed.pk).accepted_label == {"label": "car"}
    assert [balance(c.user) for c in worker_clients[:3]] == [10, 10, 0]
    result = ConsensusResult.objects.get(task=disputed)
    assert result.version == ReviewDecision.objects.get().version + 1
    assert result.method == "review_accept_fused"  # batch re-scoring leaves it alone


def test_rejecting_leaves_points_and_agreement_alone(accepted, worker_clients, make_user):
    admin = make_user(staff=True)
    before = [balance(c.user) for c in worker_clients[:3]]

    task_review_decide(
        task_id=accepted.pk, reviewer=admin, action="reject", version=version_of(accepted)
    )

    task = Task.objects.get(pk=accepted.pk)
    assert (task.state, task.accepted_label) == (TaskState.REJECTED, None)
    assert [balance(c.user) for c in worker_clients[:3]] == before


def test_an_edited_label_is_validated_like_an_answer(disputed, make_user):
    admin = make_user(staff=True)

    with pytest.raises(DomainError) as refused:
        task_review_decide(
            task_id=disputed.pk,
            reviewer=admin,
            action="edit",
            version=version_of(disputed),
            label={"label": "bicycle"},
        )

    assert refused.value.field.startswith("label")
    assert Task.objects.get(pk=disputed.pk).state == TaskState.REVIEW


def test_picking_an_answer_of_another_task_is_refused(disputed, make_user, make_project):
    admin = make_user(staff=True)

    with pytest.raises(DomainError) as refused:
        task_review_decide(
            task_id=disputed.pk,
            reviewer=admin,
            action="pick",
            version=version_of(disputed),
            annotation_id="00000000-0000-0000-0000-000000000000",
        )

    assert refused.value.field == "annotation"


def test_editing_boxes_grades_each_answer_by_its_f1(
    make_project, worker_clients, make_user, django_capture_on_commit_callbacks
):
    project = make_project(
        "bbox", images=1, redundancy_min=2, redundancy_max=2, acceptance_threshold=0.999
    )
    near = {"boxes": [{"label": "car", "bbox": [10, 10, 20, 20]}]}
    far = {"boxes": [{"label": "car", "bbox": [40, 5, 10, 10]}]}
    task = answer(worker_clients, project, [near, far], django_capture_on_commit_callbacks)
    assert task.state == TaskState.REVIEW
    admin = make_user(staff=True)
    edited = {"boxes": [{"label": "car", "bbox": [11, 10, 20, 20]}]}

    task_review_decide(
        task_id=task.pk, reviewer=admin, action="edit", version=version_of(task), label=edited
    )

    task.refresh_from_db()
    assert task.accepted_label == edited
    assert balance(worker_clients[0].user) == 10
    assert balance(worker_clients[1].user) == 0

"""Many workers asking for work at once, on PostgreSQL's row locks."""

from collections import Counter

import pytest
from django.conf import settings

from annotations.models import Assignment, AssignmentState
from annotations.services.assignments import task_lease_next
from tests.helpers import at_once

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.USING_POSTGRES, reason="row locks need PostgreSQL"),
]


def _ask_in_parallel(calls) -> list[Exception]:
    outcomes = at_once([lambda w=w, p=p: task_lease_next(worker=w, project=p) for w, p in calls])
    return [o for o in outcomes if isinstance(o, Exception)]


def test_32_workers_at_once_never_overfill_a_task_nor_get_one_twice(make_project, make_user):
    project = make_project(images=20, redundancy_min=3)
    workers = [make_user() for _ in range(32)]

    errors = _ask_in_parallel([(w, project) for w in workers])

    assert errors == []
    live = Assignment.objects.filter(state__in=[AssignmentState.LEASED, AssignmentState.SUBMITTED])
    per_task = Counter(live.values_list("task_id", flat=True))
    assert max(per_task.values()) <= 3
    assert live.count() == 32
    pairs = list(live.values_list("task_id", "worker_id"))
    assert len(pairs) == len(set(pairs))


def test_30_workers_asking_three_times_at_once_fill_exactly_the_open_slots(make_project, make_user):
    project = make_project(images=20, redundancy_min=3)
    workers = [make_user() for _ in range(30)]

    for _ in range(3):
        errors = _ask_in_parallel([(w, project) for w in workers])
        assert errors == []
        # Each worker submits nothing but gives the lease back, so the next round leases again.
        Assignment.objects.filter(state=AssignmentState.LEASED).update(
            state=AssignmentState.SUBMITTED
        )

    per_task = Counter(Assignment.objects.values_list("task_id", flat=True))
    assert Assignment.objects.count() == 60
    assert max(per_task.values()) == 3
    assert len(set(Assignment.objects.values_list("task_id", "worker_id"))) == 60


def test_one_worker_asking_eight_times_at_once_holds_one_lease(make_project, make_user):
    project = make_project(images=20, redundancy_min=3)
    worker = make_user()

    errors = _ask_in_parallel([(worker, project)] * 8)

    # Each call may lease or find the live lease; none may leave two tasks held by one worker.
    assert all(type(e).__name__ in ("Conflict", "IntegrityError") for e in errors), errors
    leased = Assignment.objects.filter(worker=worker, state=AssignmentState.LEASED)
    assert leased.count() == 1


def test_workers_prefetching_at_once_never_overfill_nor_hold_more_than_asked(
    make_project, make_user, settings
):
    settings.SEBENZAI = {**settings.SEBENZAI, "PREFETCH_MIN_OPEN_TASKS": 3}
    project = make_project(images=12, redundancy_min=2)
    workers = [make_user() for _ in range(16)]
    shown = {w.pk: task_lease_next(worker=w, project=project) for w in workers}

    # Each asks for a task beyond the one shown, three times at once (a page and its retries):
    # the first leases one, the others are given that same one.
    calls = [w for w in workers for _ in range(3)]
    outcomes = at_once(
        [
            lambda w=w: task_lease_next(worker=w, project=project, holding=[shown[w.pk].pk])
            for w in calls
        ]
    )

    assert all(type(o).__name__ in ("Assignment", "NoneType") for o in outcomes), outcomes
    held = Assignment.objects.filter(state=AssignmentState.LEASED)
    per_task = Counter(held.values_list("task_id", flat=True))
    assert max(per_task.values()) <= 2
    assert max(Counter(held.values_list("worker_id", flat=True)).values()) <= 2
    # 24 slots: 16 shown, and the prefetches stop while fewer than 3 tasks are open to a worker.
    assert held.count() <= 24
    assert all(t.slots_taken <= t.target_redundancy for t in project.tasks.all())


def test_the_same_answer_submitted_twice_at_once_is_stored_once(make_project, make_user):
    from annotations.models import Annotation, Task
    from annotations.services.submissions import annotation_submit

    project = make_project(images=1, redundancy_min=3)
    worker = make_user()
    assignment = task_lease_next(worker=worker, project=project)

    def send():
        annotation_submit(
            assignment_id=assignment.pk, worker=worker, payload={"label": "car"}, duration_ms=900
        )
        return "stored"

    outcomes = [o if o == "stored" else type(o).__name__ for o in at_once([send] * 4)]

    assert outcomes.count("stored") == 1
    assert set(outcomes) - {"stored"} <= {"Conflict"}
    assert Annotation.objects.filter(assignment=assignment).count() == 1
    assert Task.objects.get(project=project).answers_count == 1

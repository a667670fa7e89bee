"""Submit with ``next``: the answer and the next lease in one round trip. The lease follows the
same rules as POST work/next/ (one per task per worker, the prefetch cap, redundancy), and a bad
``next`` refuses the request before the answer is stored."""

import pytest

from annotations.models import Annotation, Assignment, AssignmentState, ProjectStatus, Task
from tests.helpers import db_snapshot, lease

pytestmark = pytest.mark.django_db

CAR = {"label": "car"}


def _submit(client, assignment: str, **body):
    return client.post(
        f"/api/v1/work/assignments/{assignment}/submit/", {"payload": CAR, **body}, format="json"
    )


def test_the_answer_comes_back_with_the_next_lease_of_the_same_project(make_project, worker_client):
    make_project(images=3, name="other project")
    project = make_project(images=3)
    first = lease(worker_client, project)
    response = _submit(worker_client, first["assignment"], next={})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "submitted"
    following = body["next"]
    assert following["project"] == str(project.pk)
    assert following["task"] != first["task"]
    assert set(following) == set(first)  # the same fields as work/next/ gives
    assert Annotation.objects.filter(assignment_id=first["assignment"]).exists()
    # That lease is the worker's one live lease: work/next/ hands back the same.
    assert lease(worker_client, project) == following


def test_without_next_the_answer_is_as_before(project, worker_client):
    first = lease(worker_client, project)
    body = _submit(worker_client, first["assignment"]).json()
    assert "next" not in body
    assert Assignment.objects.filter(state=AssignmentState.LEASED).count() == 0


def test_next_is_null_when_the_worker_has_answered_every_task(project, worker_client):
    for _ in range(project.tasks.count() - 1):
        assert (
            _submit(worker_client, lease(worker_client, project)["assignment"]).status_code == 201
        )
    last = lease(worker_client, project)
    body = _submit(worker_client, last["assignment"], next={}).json()
    assert body["next"] is None
    assert Annotation.objects.count() == project.tasks.count()


def test_next_respects_the_prefetch_cap(make_project, worker_client, settings):
    settings.SEBENZAI = {**settings.SEBENZAI, "PREFETCH_MIN_OPEN_TASKS": 2}
    project = make_project(images=8)
    shown = lease(worker_client, project)
    ahead = [lease(worker_client, project, holding=[shown["assignment"]])]
    ahead.append(
        lease(worker_client, project, holding=[shown["assignment"], ahead[0]["assignment"]])
    )
    held = [a["assignment"] for a in ahead]
    # Answering the one shown frees a place: one more comes beyond the two held, not three.
    body = _submit(worker_client, shown["assignment"], next={"holding": held}).json()
    assert body["next"]["assignment"] not in held
    assert Assignment.objects.filter(state=AssignmentState.LEASED).count() == 3
    # Each lease counts in its task's redundancy, as any lease does.
    assert sum(Task.objects.values_list("slots_taken", flat=True)) == 4


@pytest.mark.parametrize(
    ("next_body", "field"),
    [
        ({"project": "not-a-uuid"}, "next.project"),
        ({"project": "00000000-0000-0000-0000-000000000000"}, "next.project"),
        ({"holding": "abc"}, "next.holding"),
        ({"colour": "red"}, "next.colour"),
        ("please", "next"),
    ],
)
def test_a_bad_next_refuses_the_request_and_stores_nothing(
    project, worker_client, next_body, field
):
    first = lease(worker_client, project)
    before = db_snapshot()
    response = _submit(worker_client, first["assignment"], next=next_body)
    assert response.status_code in (400, 404), response.content
    assert response.json()["error"]["field"] == field
    assert db_snapshot() == before
    # The lease is still there to answer.
    assert _submit(worker_client, first["assignment"]).status_code == 201


def test_next_in_a_project_that_was_paused_gives_nothing(make_project, worker_client):
    project = make_project(images=3)
    first = lease(worker_client, project)
    project.status = ProjectStatus.PAUSED
    project.save(update_fields=["status"])
    body = _submit(worker_client, first["assignment"], next={}).json()
    assert body == {**body, "state": "submitted", "next": None}


def test_a_lease_refused_after_the_answer_comes_back_beside_the_stored_answer(
    project, worker_client, monkeypatch
):
    from annotations.services import submissions
    from sebenzai.common.errors import SlowDown

    def cooling_down(**_):
        raise SlowDown(code="too_many_skips", field="assignment", message="Take a break.")

    first = lease(worker_client, project)
    monkeypatch.setattr(submissions, "task_lease_next", cooling_down)
    response = _submit(worker_client, first["assignment"], next={})
    assert response.status_code == 201
    body = response.json()
    assert body["next"] is None
    assert body["next_error"]["code"] == "too_many_skips"
    assert Annotation.objects.filter(assignment_id=first["assignment"]).exists()

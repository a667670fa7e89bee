"""Who may be served a task: blocked workers get none of the project's, moderators have a daily cap."""

import pytest

from annotations.models import ProjectBlock
from tests.helpers import lease, submit


def test_blocked_worker_gets_no_task_of_that_project(make_project, worker_clients, make_user):
    project = make_project(images=2)
    blocked, other = worker_clients[0], worker_clients[1]
    admin = make_user(staff=True, name="admin")
    ProjectBlock.objects.create(project=project, worker=blocked.user, blocked_by=admin)
    assert lease(blocked, project) is None
    assert lease(blocked) is None
    assert lease(other, project) is not None


@pytest.mark.parametrize(("cap", "served"), [(2, 2), (None, 4)])
def test_moderation_cap_counts_todays_leases(make_project, worker_client, cap, served):
    project = make_project("moderation", images=4, moderation_daily_cap=cap)
    taken = 0
    while (item := lease(worker_client, project)) is not None:
        taken += 1
        payload = {"verdict": "safe", "categories": []}
        assert submit(worker_client, item["assignment"], payload).status_code == 201
    assert taken == served


def test_moderation_cap_is_validated(requester_client, project):
    response = requester_client.patch(
        f"/api/v1/projects/{project.pk}/", {"moderation_daily_cap": 0}, format="json"
    )
    assert response.status_code == 400
    assert "moderation_daily_cap" in response.content.decode()

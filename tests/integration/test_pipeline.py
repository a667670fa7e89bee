"""Upload → lease → submit through the API, scored by a real Celery worker process on Redis."""

import pytest

from annotations.models import Task, TaskState
from consensus.models import ConsensusResult
from sebenzai.celery import app as celery_app
from tests.helpers import lease, submit
from tests.integration.helpers import needs_services, wait_for
from workers.models import PointsEntry

pytestmark = [pytest.mark.integration, needs_services]


def test_a_real_celery_worker_accepts_the_task_the_crowd_agreed_on(
    celery_worker_process, make_project, worker_clients
):
    project = make_project(images=1)
    task = Task.objects.get(project=project)

    for client in worker_clients[:3]:
        work = lease(client, project)
        assert submit(client, work["assignment"], {"label": "taxi"}).status_code == 201

    def accepted():
        task.refresh_from_db()
        return task.state == TaskState.ACCEPTED

    assert wait_for(accepted), "the worker did not accept the task in time"
    assert task.accepted_label == {"label": "taxi"}
    assert ConsensusResult.objects.get(task=task).answers == 3
    assert PointsEntry.objects.filter(annotation__task=task).count() == 3


def test_a_redelivered_scoring_job_pays_nothing_twice(
    celery_worker_process, make_project, worker_clients
):
    project = make_project(images=2)
    first, second = (lease(c, project) for c in worker_clients[:2])
    assert first["task"] == second["task"]  # nearest completion first
    answer_all = [lease(worker_clients[2], project)] + [first, second]
    for client, work in zip([worker_clients[2], *worker_clients[:2]], answer_all, strict=True):
        assert submit(client, work["assignment"], {"label": "car"}).status_code == 201
    task_id = first["task"]
    assert wait_for(lambda: Task.objects.get(pk=task_id).state == TaskState.ACCEPTED)
    version = ConsensusResult.objects.get(task_id=task_id).version

    # The same message twice more (a redelivery after a crash), then a marker task behind them:
    # one worker process consumes in order, so once the marker is decided the repeats have run.
    celery_app.tasks["consensus.score"].delay(task_id)
    celery_app.tasks["consensus.score"].delay(task_id)
    for client in worker_clients[3:6]:
        work = lease(client, project)
        assert work["task"] != task_id
        assert submit(client, work["assignment"], {"label": "taxi"}).status_code == 201
    assert wait_for(lambda: Task.objects.get(pk=work["task"]).state == TaskState.ACCEPTED)

    assert PointsEntry.objects.filter(annotation__task_id=task_id).count() == 3
    assert ConsensusResult.objects.get(task_id=task_id).version == version

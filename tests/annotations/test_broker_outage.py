"""A broker outage at submit time loses nothing (docs/reliability.md P5, P8)."""

import pytest
from kombu.exceptions import OperationalError

from annotations.models import Annotation, ScoreState, Task, TaskState
from consensus.tasks import sweep_unscored_task
from sebenzai.celery import app as celery_app
from tests.helpers import lease, submit

pytestmark = pytest.mark.django_db


def test_an_answer_is_kept_when_the_broker_is_down_and_the_sweeper_scores_it_later(
    make_project, worker_clients, django_capture_on_commit_callbacks, monkeypatch, settings
):
    project = make_project(images=1)
    score = celery_app.tasks["consensus.score"]

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(score, "delay", broker_down)
    for client in worker_clients[:3]:
        work = lease(client, project)
        with django_capture_on_commit_callbacks(execute=True):
            response = submit(client, work["assignment"], {"label": "car"})
        assert response.status_code == 201
    assert Annotation.objects.filter(score_state=ScoreState.PENDING).count() == 3
    assert Task.objects.get(project=project).state == TaskState.OPEN

    monkeypatch.undo()
    settings.SEBENZAI = {**settings.SEBENZAI, "SCORE_SWEEP_AFTER_SECONDS": -1}
    assert sweep_unscored_task() == 1

    assert Task.objects.get(project=project).state == TaskState.ACCEPTED
    assert not Annotation.objects.filter(score_state=ScoreState.PENDING).exists()


def test_nothing_is_enqueued_for_a_submission_that_rolls_back(
    make_project, worker_client, django_capture_on_commit_callbacks
):
    project = make_project(images=1)
    work = lease(worker_client, project)
    with django_capture_on_commit_callbacks() as callbacks:
        response = submit(worker_client, work["assignment"], {"label": "not-a-label"})
    assert response.status_code == 400
    assert callbacks == []
    assert not Annotation.objects.exists()

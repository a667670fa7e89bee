"""Faults on the real parts: a Celery worker child killed with SIGKILL mid-stream, and the broker
stopped while answers arrive. After recovery every answer is scored exactly once and every
worker's points equal the sum of their ledger rows (docs/reliability.md P1–P8)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections import Counter

import pytest
from django.db.models import Sum

from annotations.models import Annotation, ScoreState, Task, TaskState
from consensus.models import WorkerSkill
from consensus.services import unscored_task_ids
from sebenzai.celery import app as celery_app
from tests.helpers import lease, submit
from tests.integration.helpers import needs_services, wait_for
from workers.models import PointsEntry
from workers.services import points_total

pytestmark = [pytest.mark.integration, needs_services]


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(line) for line in out.split()]


def _answer_everything(project, clients) -> int:
    """Each client answers every task it is served ("car", so every task is accepted)."""
    sent = 0
    for client in clients:
        while (work := lease(client, project)) is not None:
            assert submit(client, work["assignment"], {"label": "car"}).status_code == 201
            sent += 1
    return sent


def _sweep() -> None:
    """The database-side sweeper, as the beat job runs it, without its one-minute grace and as if
    a killed job's lease on its attempt had run out (it does at the Celery hard time limit)."""
    for task_id in unscored_task_ids(older_than_seconds=0, lease_seconds=0):
        celery_app.tasks["consensus.score"].delay(task_id)


def _all_scored(project) -> bool:
    _sweep()
    pending = Annotation.objects.filter(task__project=project, score_state=ScoreState.PENDING)
    return not pending.exists()


def _assert_scored_exactly_once(project, answers: int) -> None:
    rows = Annotation.objects.filter(task__project=project)
    assert rows.count() == answers
    assert Counter(rows.values_list("score_state", flat=True)) == {ScoreState.SCORED: answers}
    assert set(Task.objects.filter(project=project).values_list("state", flat=True)) == {
        TaskState.ACCEPTED
    }
    # one award per answer, however many times its job ran
    assert PointsEntry.objects.filter(annotation__task__project=project).count() == answers
    for skill in WorkerSkill.objects.filter(project=project):
        mine = rows.filter(worker_id=skill.worker_id).count()
        assert skill.agreed + skill.disagreed == mine  # skill moved once per answer
        ledger = PointsEntry.objects.filter(worker_id=skill.worker_id).aggregate(s=Sum("points"))
        assert points_total(user=skill.worker) == ledger["s"]


def test_a_worker_child_killed_again_and_again_loses_and_doubles_nothing(
    celery_worker_process, make_project, worker_clients
):
    project = make_project(images=24)
    killed: list[int] = []
    stop = threading.Event()

    def killer() -> None:
        while not stop.is_set() and len(killed) < 6:
            time.sleep(0.4)
            for child in _children(celery_worker_process.pid):
                os.kill(child, signal.SIGKILL)  # the pool replaces it; the message is redelivered
                killed.append(child)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    answers = _answer_everything(project, worker_clients[:3])
    stop.set()
    thread.join()

    assert killed, "no worker child was killed: the test proved nothing"
    assert wait_for(lambda: _all_scored(project), timeout=90, interval=1.0)
    _assert_scored_exactly_once(project, answers)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def private_redis():
    """A Redis of this test's own, which it may stop and start without disturbing anyone."""
    port = _free_port()
    command = ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"]

    def start() -> subprocess.Popen:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    return process
            time.sleep(0.05)
        raise RuntimeError("the private redis-server did not start")

    state = {"process": start()}
    yield port, state, start
    state["process"].terminate()
    state["process"].wait(timeout=10)


def test_answers_sent_while_the_broker_is_down_are_scored_once_it_is_back(
    private_redis, celery_worker_on, make_project, worker_clients
):
    port, state, start = private_redis
    celery_worker_on(f"redis://127.0.0.1:{port}/0")
    project = make_project(images=4)

    state["process"].terminate()  # the broker goes away while answers arrive
    state["process"].wait(timeout=10)
    answers = _answer_everything(project, worker_clients[:3])
    stranded = Annotation.objects.filter(task__project=project, score_state=ScoreState.PENDING)
    assert stranded.count() == answers  # every answer kept, none scored yet

    state["process"] = start()
    assert wait_for(lambda: _all_scored(project), timeout=90, interval=1.0)
    _assert_scored_exactly_once(project, answers)


def test_a_whole_worker_killed_mid_stream_is_replaced_and_the_sweeper_finishes_its_work(
    celery_worker_on, make_project, worker_clients
):
    """The host dies (SIGKILL of the worker and its children): the messages it held stay
    unacknowledged in Redis until the visibility timeout, so the database-side sweeper is what
    gets their answers scored by the replacement worker, each exactly once."""
    from django.conf import settings

    first = celery_worker_on(settings.REDIS_URL)
    project = make_project(images=12)
    killer = threading.Timer(0.5, lambda: _kill_tree(first.pid))
    killer.start()
    answers = _answer_everything(project, worker_clients[:3])
    killer.join()
    assert first.wait(timeout=10) == -signal.SIGKILL

    celery_worker_on(settings.REDIS_URL)  # the replacement, on a queue of its own
    assert wait_for(lambda: _all_scored(project), timeout=90, interval=1.0)
    _assert_scored_exactly_once(project, answers)


def _kill_tree(pid: int) -> None:
    for child in _children(pid):
        os.kill(child, signal.SIGKILL)
    os.kill(pid, signal.SIGKILL)


def test_a_worker_stopped_with_sigterm_mid_stream_hands_back_its_work_without_the_sweeper(
    celery_worker_on, make_project, worker_clients
):
    """A deploy stops the worker with SIGTERM (docker compose, then SIGKILL after its
    stop_grace_period): a warm shutdown finishes the job in hand and gives the reserved,
    unacknowledged messages back to Redis at once, so the next worker scores every answer exactly
    once with no help from the database-side sweeper."""
    from django.conf import settings

    first = celery_worker_on(settings.REDIS_URL)
    project = make_project(images=12)
    stopper = threading.Timer(0.5, lambda: os.kill(first.pid, signal.SIGTERM))
    stopper.start()
    answers = _answer_everything(project, worker_clients[:3])
    stopper.join()
    assert first.wait(timeout=60) == 0  # a warm shutdown, not a crash

    celery_worker_on(settings.REDIS_URL, first.queue)  # the new release; no sweep from here on
    pending = Annotation.objects.filter(task__project=project, score_state=ScoreState.PENDING)
    assert wait_for(lambda: not pending.exists(), timeout=60, interval=0.5)
    _assert_scored_exactly_once(project, answers)

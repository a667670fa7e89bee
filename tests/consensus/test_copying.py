"""Copying between accounts (docs/reliability.md C9): two accounts that give the same answers where the
rest of the crowd does not are flagged, naming each other; honest workers who agree because the
answer is plain are not."""

import random

import numpy as np
import pytest
from django.test import Client
from django.utils import timezone

from annotations.models import Annotation, Assignment, Task
from consensus.algorithms.copying import class_codes, copying_pairs, shape_codes
from consensus.batch import project_rescore
from consensus.copying import copying_inputs
from consensus.models import CopyingSignal
from consensus.quality import workers_table
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db
LABELS = ["car", "taxi", "truck"]


def _crowd(tasks: int, honest: int, error: float, seed: int = 0, copiers: bool = True):
    """Arrays of a simulated crowd: every worker answers every task, honest ones right but for
    ``error``; workers 100 and 101 (if ``copiers``) give one shared answer, wrong as often."""
    rng = random.Random(seed)
    rows = []
    for t in range(tasks):
        truth = rng.randrange(3)
        for w in range(honest):
            rows.append((t, w, truth if rng.random() > error else rng.randrange(3)))
        if copiers:
            copied = truth if rng.random() > 0.3 else (truth + rng.randrange(1, 3)) % 3
            rows += [(t, 100, copied), (t, 101, copied)]
    return (np.array(c) for c in zip(*rows, strict=True))


def test_a_copying_pair_is_found_and_no_honest_pair_is():
    task, worker, code = _crowd(tasks=60, honest=4, error=0.15)

    pairs = copying_pairs(task, worker, code)

    assert [(p.worker_a, p.worker_b) for p in pairs] == [(100, 101)]
    assert pairs[0].shared == 60
    assert pairs[0].twins == pairs[0].unusual >= 5


def test_honest_workers_who_always_agree_on_plain_answers_are_not_flagged():
    # every honest worker gives the right answer on every task: they agree on all of them
    task, worker, code = _crowd(tasks=60, honest=5, error=0.0, copiers=False)
    assert copying_pairs(task, worker, code) == []


def test_honest_workers_wrong_now_and_then_are_not_flagged_even_with_one_other_answer():
    # three answers a task: when the third errs, the two right answers both look unusual
    task, worker, code = _crowd(tasks=400, honest=3, error=0.2, seed=4, copiers=False)
    assert copying_pairs(task, worker, code) == []


def test_two_spammers_who_always_say_the_same_label_are_not_taken_for_copiers():
    task, worker, code = _crowd(tasks=60, honest=3, error=0.1, copiers=False)
    spam = [(t, w, 0) for t in range(60) for w in (200, 201)]
    extra = np.array(spam).T
    task, worker, code = (
        np.concatenate([a, b]) for a, b in zip((task, worker, code), extra, strict=True)
    )

    assert copying_pairs(task, worker, code) == []


def test_boxes_within_a_pixel_share_a_code_and_farther_ones_do_not():
    task = np.array([0, 0, 0, 0, 1, 1])
    car = ("car", 4)
    signature = [(car, car), (car, car), (car, car), (), (car,), ()]
    coords = [
        np.array([10, 10, 20, 20, 50, 50, 5, 5.0]),
        np.array([10.8, 9.4, 20, 20, 50, 50.9, 5, 5]),  # the same within a pixel
        np.array([13, 10, 20, 20, 50, 50, 5, 5.0]),  # three pixels off
        np.array([]),
        np.array([10, 10, 20, 20.0]),
        np.array([]),
    ]

    codes = shape_codes(task, signature, coords)

    assert codes[0] == codes[1] != codes[2]
    assert codes[3] == codes[5] == 0  # empty answers
    assert codes[4] not in (codes[0], codes[2])  # another image


def test_class_codes_are_equal_exactly_for_equal_answers():
    assert class_codes(["a", "b", "a"]).tolist() == [0, 1, 0]


def _answer(task: Task, user, payload: dict) -> None:
    lease = Assignment.objects.create(
        task=task, worker=user, state="submitted", expires_at=timezone.now()
    )
    Annotation.objects.create(
        assignment=lease, task=task, worker=user, payload=payload, score_state="scored"
    )


@pytest.fixture
def copied(make_project, make_user):
    """20 tasks; three honest workers give the plain answer on all; the copier answers as the
    source does, wrong (and differently wrong) on six of them."""
    project = make_project(images=20, redundancy_min=5, redundancy_max=5)
    honest = [make_user(name=f"honest{i}") for i in range(3)]
    source, copier = make_user(name="source"), make_user(name="copier")
    for n, task in enumerate(Task.objects.filter(project=project).order_by("created_at")):
        for user in honest:
            _answer(task, user, {"label": "car"})
        label = LABELS[1 + n % 2] if n < 6 else "car"
        _answer(task, source, {"label": label})
        _answer(task, copier, {"label": label})
    return project, honest, source, copier


def test_the_workers_table_flags_both_copiers_naming_each_other(copied):
    project, honest, source, copier = copied

    report = project_rescore(project_id=project.pk)

    assert report.copying_pairs == 1
    rows = {r["username"]: r for r in workers_table(project=project)}
    assert rows["source"]["flags"] == ["copying with copier (6 of 6 unusual answers identical)"]
    assert rows["copier"]["copying"][0]["username"] == "source"
    assert rows["copier"]["copying"][0]["shared"] == 20
    for user in honest:  # they agree with each other on all 20 tasks
        assert rows[user.username]["flags"] == []
        assert rows[user.username]["copying"] == []


def test_the_batch_stores_the_pair_once_and_drops_it_when_the_evidence_goes(copied):
    project, _, source, copier = copied
    project_rescore(project_id=project.pk)
    stored = list(CopyingSignal.objects.values_list("pk", "worker_id", "partner_id", "twins"))
    assert [s[1:] for s in stored] == [(min(source.pk, copier.pk), max(source.pk, copier.pk), 6)]

    project_rescore(project_id=project.pk)
    assert list(CopyingSignal.objects.values_list("pk", "worker_id", "partner_id", "twins")) == (
        stored
    )

    Annotation.objects.filter(worker=copier).delete()
    project_rescore(project_id=project.pk)
    assert not CopyingSignal.objects.exists()


def test_the_staff_workers_page_shows_the_copying_flag(copied, make_user):
    project, *_ = copied
    project_rescore(project_id=project.pk)
    client = Client()
    client.login(username=make_user(staff=True).username, password=PASSWORD)

    page = client.get(f"/staff/projects/{project.pk}/workers/")

    assert page.status_code == 200
    assert b"copying with copier (6 of 6" in page.content
    assert b"copying with source (6 of 6" in page.content


def test_copied_boxes_are_read_as_one_answer(make_project, make_user):
    project = make_project("bbox", images=1)
    task = Task.objects.get(project=project)
    box = {"label": "car", "bbox": [4, 4, 20, 16]}
    other = {"label": "taxi", "bbox": [30, 20, 10, 10]}
    near = {"label": "car", "bbox": [4.6, 3.5, 20, 16.4]}
    payloads = [
        {"boxes": [box, other]},
        {"boxes": [other, near]},  # the same shapes, listed the other way round
        {"boxes": [{"label": "car", "bbox": [8, 4, 20, 16]}, other]},
    ]
    for payload in payloads:
        _answer(task, make_user(), payload)

    _, _, codes = copying_inputs(project=project)

    assert codes[0] == codes[1] != codes[2]

"""A project worked through the real services, as a requester, a model and a crowd would.

The requester creates the project (redundancy 3 to 5, acceptance 0.9, gold ratio 0.1, like the
demo's), uploads the images (devtools/demo.py's synthetic street scenes, whose truth comes with
them), records each image's truth where devtools' simulator reads it, and marks the first tenth
as gold (at least MODEL_MIN_GOLD images, so a model that predicts them can become credible). The
model, if any, posts a prediction for every task, gold included, through predictions_store;
Celery is eager, so grading it on gold and lowering targets happen inside that call. The crowd
is devtools/simulation.py's (good 92 %, sloppy 70 %, spammers; one draw of profiles per seed,
so every variant of a run has the same people): in turns, each worker leases the next task
(task_lease_next) and answers it (annotation_submit, unpaced), and each answer that completes
a task is scored inline, until nobody gets a task or the budget of answers is spent.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model

from accounts.models import Role, WorkerProfile
from annotations.models import Project, ProjectStatus, Task
from annotations.services.assignments import task_lease_next
from annotations.services.gold import gold_set
from annotations.services.intake import IncomingFile, tasks_create_from_files
from annotations.services.projects import project_create, project_update
from annotations.services.submissions import annotation_submit
from devtools.demo import GENERATORS, LABELS, distinct_images
from devtools.simulation import SimWorker, crowd_create, simulated_answer
from predictions.services import PredictionItem, predictions_store
from sebenzai.common.errors import Conflict

from .model import prediction_make

CROWD = 20  # workers per project: enough that every task can get redundancy_max answers
GOLD_SHARE = 0.1
PROJECT = {"redundancy_min": 3, "redundancy_max": 5, "acceptance_threshold": 0.9, "gold_ratio": 0.1}


@dataclass(frozen=True)
class Images:
    """One run's pictures of one kind, with their truths, uploaded to each of its projects."""

    kind: str
    files: list[bytes]
    truths: list[dict]

    @property
    def gold(self) -> int:
        return gold_count(len(self.files))


def gold_count(images: int) -> int:
    """A tenth of the images, and at least enough for a model to be graded credible."""
    return max(round(GOLD_SHARE * images), settings.SEBENZAI["MODEL_MIN_GOLD"])


@dataclass
class Scenario:
    project: Project
    truth: dict[object, dict]  # task id: its true answer
    crowd: list[SimWorker]
    predictions: dict[object, dict] = field(default_factory=dict)  # task id: the model's payload


def images_make(*, kind: str, count: int, seed: int) -> Images:
    pictures = distinct_images(GENERATORS[kind], random.Random(seed), count)  # noqa: S311
    if len(pictures) < count:
        raise RuntimeError(f"only {len(pictures)} distinct {kind} images for {count}")
    return Images(kind, [content for content, _ in pictures], [truth for _, truth in pictures])


def _requester(name: str):
    user = get_user_model().objects.create_user(username=name)
    WorkerProfile.objects.create(user=user, role=Role.REQUESTER)
    return user


def scenario_build(*, images: Images, name: str, order: str, seed: int) -> Scenario:
    """An active project holding ``images`` (gold set), with its crowd made but not yet working."""
    data = {"name": name, "kind": images.kind, "labels": LABELS[images.kind], "task_order": order}
    project = project_create(owner=_requester(f"req-{name}"), data={**data, **PROJECT})
    files = (
        IncomingFile(f"images[{i}]", f"{images.kind}-{i:04d}.png", lambda b=b: b)
        for i, b in enumerate(images.files)
    )
    tasks_create_from_files(project=project, files=files)
    tasks = {t.original_name: t for t in project.tasks.all()}
    truth = {}
    for i, answer in enumerate(images.truths):
        task = tasks[f"{images.kind}-{i:04d}.png"]
        task.metadata = {"synthetic_truth": answer}  # where devtools' simulator reads it
        truth[task.pk] = answer
    Task.objects.bulk_update(tasks.values(), ["metadata"], batch_size=500)
    gold = [
        {"task": tasks[f"{images.kind}-{i:04d}.png"].pk, "answer": images.truths[i]}
        for i in range(images.gold)
    ]
    gold_set(project=project, items=gold)
    project = project_update(project_id=project.pk, data={"status": ProjectStatus.ACTIVE})
    crowd = crowd_create(project=project, size=CROWD, seed=seed)
    return Scenario(project, truth, crowd)


def predictions_post(scenario: Scenario, *, quality: str, seed: int) -> None:
    """The model's predictions for every task, gold included, in one request."""
    project = scenario.project
    rng = random.Random(seed)  # noqa: S311
    tasks = project.tasks.order_by("original_name")
    items = []
    for i, task in enumerate(tasks):
        payload = prediction_make(
            kind=project.kind,
            quality=quality,
            truth=scenario.truth[task.pk],
            labels=project.label_names,
            size=(task.width, task.height),
            rng=rng,
        )
        scenario.predictions[task.pk] = payload
        items.append(PredictionItem(str(task.pk), payload, f"predictions[{i}]"))
    predictions_store(project=project, model=f"sim-{quality}@1", items=items)


def crowd_work(scenario: Scenario, *, seed: int, budget: int | None = None) -> Counter:
    """The crowd in turns until nobody gets a task, or ``budget`` answers (gold included: it is
    people's time too) are given. Returns the answers given on gold and on other tasks."""
    rng = random.Random(seed)  # noqa: S311
    given: Counter = Counter()
    active = list(scenario.crowd)
    while active:
        for member in list(active):
            if budget is not None and given.total() >= budget:
                return given
            lease = task_lease_next(worker=member.user, project=scenario.project, rng=rng)
            if lease is None:
                active.remove(member)
                continue
            try:
                annotation_submit(
                    assignment_id=lease.pk,
                    worker=member.user,
                    payload=simulated_answer(lease.task, member.profile, rng),
                    duration_ms=rng.randint(2000, 20000),
                    paced=False,
                )
            except Conflict:  # suspended by the gold rule while holding the lease
                active.remove(member)
                continue
            given["gold" if lease.task.is_gold else "task"] += 1
    return given

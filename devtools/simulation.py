"""A simulated crowd that answers through the same services as real workers.

Worker types: good (right 92 % of the time, tight shapes), sloppy (70 %, loose shapes, misses
objects), spammers (random answers). The truth is the task's gold answer, else the synthetic
truth its demo image was generated with. A project with tasks that have neither (uploaded
images) is refused: answers invented there would be accepted and exported as if people had
given them. Simulated accounts are marked, and kept off the public leaderboard.
"""

from __future__ import annotations

import random
import secrets
from collections import Counter
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser

from accounts.models import Role
from accounts.services import user_create
from annotations.models import Project, Task
from annotations.services.assignments import task_lease_next
from annotations.services.submissions import annotation_submit

PROFILES = {"good": 0.92, "sloppy": 0.70, "spammer": None}
MIX = (("good", 0.6), ("sloppy", 0.25), ("spammer", 0.15))


@dataclass
class SimWorker:
    user: AbstractBaseUser
    profile: str


def truth_for(task: Task) -> dict:
    """The known answer of a gold or demo task. Callers check ``tasks_without_truth`` first."""
    if task.gold_answer is not None:
        return task.gold_answer
    return task.metadata["synthetic_truth"]


def tasks_without_truth(*, project: Project) -> int:
    """How many of the project's tasks the simulator has no known answer for."""
    tasks = project.tasks.filter(gold_answer__isnull=True)
    return tasks.exclude(metadata__has_key="synthetic_truth").count()


def _random_answer(task: Task, rng: random.Random) -> dict:
    labels, kind = task.project.label_names, task.project.kind
    if kind == "classification":
        return {"label": rng.choice(labels)}
    if kind == "moderation":
        unsafe = rng.random() < 0.5 and bool(labels)
        return (
            {"verdict": "unsafe", "categories": [rng.choice(labels)]}
            if unsafe
            else {"verdict": "safe", "categories": []}
        )
    x, y = rng.uniform(0, task.width * 0.6), rng.uniform(0, task.height * 0.6)
    w, h = rng.uniform(10, task.width * 0.3), rng.uniform(10, task.height * 0.3)
    if kind == "bbox":
        return {"boxes": [{"label": rng.choice(labels), "bbox": [x, y, w, h]}]}
    return {
        "polygons": [
            {"label": rng.choice(labels), "points": [[x, y], [x + w, y], [x + w / 2, y + h]]}
        ]
    }


def _jitter(value: float, spread: float, rng: random.Random, limit: float) -> float:
    return min(max(value + rng.gauss(0, spread), 0.0), limit)


def _noisy_shapes(task: Task, truth: dict, accuracy: float, rng: random.Random) -> dict:
    spread = 1.5 if accuracy > 0.9 else 5.0
    labels = task.project.label_names
    if "boxes" in truth:
        boxes = []
        for item in truth["boxes"]:
            if rng.random() > accuracy + (1 - accuracy) / 2:
                continue  # missed the object
            x, y, w, h = item["bbox"]
            x1, y1 = (
                _jitter(x, spread, rng, task.width - 2),
                _jitter(y, spread, rng, task.height - 2),
            )
            w = max(_jitter(x + w, spread, rng, task.width) - x1, 1.0)
            h = max(_jitter(y + h, spread, rng, task.height) - y1, 1.0)
            label = item["label"] if rng.random() < accuracy else rng.choice(labels)
            boxes.append({"label": label, "bbox": [x1, y1, w, h]})
        return {"boxes": boxes}
    polygons = []
    for item in truth["polygons"]:
        # Scale about the centroid: jitter that keeps the polygon simple.
        cx = sum(p[0] for p in item["points"]) / len(item["points"])
        cy = sum(p[1] for p in item["points"]) / len(item["points"])
        s = 1 + rng.gauss(0, spread / 100)
        points = [
            [
                min(max(cx + (px - cx) * s, 0), task.width),
                min(max(cy + (py - cy) * s, 0), task.height),
            ]
            for px, py in item["points"]
        ]
        label = item["label"] if rng.random() < accuracy else rng.choice(labels)
        polygons.append({"label": label, "points": points})
    return {"polygons": polygons}


def simulated_answer(task: Task, profile: str, rng: random.Random) -> dict:
    accuracy = PROFILES[profile]
    if accuracy is None:
        return _random_answer(task, rng)
    truth = truth_for(task)
    if task.project.kind in ("bbox", "polygon"):
        return _noisy_shapes(task, truth, accuracy, rng)
    return truth if rng.random() < accuracy else _random_answer(task, rng)


def crowd_create(*, project: Project, size: int, seed: int = 0) -> list[SimWorker]:
    """Make ``size`` new worker accounts with the standard mix of profiles."""
    rng = random.Random(seed)  # noqa: S311
    crowd = []
    for index in range(size):
        profile = rng.choices([p for p, _ in MIX], weights=[w for _, w in MIX])[0]
        name = f"sim-{str(project.pk)[:8]}-{profile}-{index}-{secrets.token_hex(2)}"
        user = user_create(
            username=name, password=secrets.token_urlsafe(16), role=Role.WORKER, simulated=True
        )
        crowd.append(SimWorker(user, profile))
    return crowd


def crowd_run(
    *, project: Project, crowd: list[SimWorker], seed: int = 0, max_answers: int = 100_000
) -> Counter:
    """Let the crowd work, in turns, until nobody gets a task. Returns answers per profile."""
    rng = random.Random(seed)  # noqa: S311
    answered: Counter = Counter()
    active = list(crowd)
    while active and sum(answered.values()) < max_answers:
        for member in list(active):
            assignment = task_lease_next(worker=member.user, project=project, rng=rng)
            if assignment is None:
                active.remove(member)
                continue
            payload = simulated_answer(assignment.task, member.profile, rng)
            annotation_submit(
                assignment_id=assignment.pk,
                worker=member.user,
                payload=payload,
                duration_ms=rng.randint(2000, 20000),
                paced=False,  # simulated people answer at machine speed; the limit is for real ones
            )
            answered[member.profile] += 1
    return answered

"""Scoring one task with and without a model's vote, on the same answers.

Two projects hold the same images and gold; each ordinary task gets the same three answers
from devtools' crowd (its first three workers, skills at the prior), inserted directly so that
nothing is scored yet, and a target of three. The second project then gets a model's
predictions through predictions_store ("sure": the truth scored 0.95, so it is credible in
every run; the cost of a vote does not depend on its quality). Every task already has its three
answers, so no target is lowered and the two projects differ only by the model's vote. Then,
image by image and alternating which project goes first, ``consensus_score`` (the scoring
job's body: lock, load answers, skills and the model's votes, fuse, decide, write) is timed.
"""

from __future__ import annotations

import random
import time

from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations.models import Annotation, Assignment, AssignmentState, Task
from annotations.payloads import payload_validate
from annotations.services.submissions import rules_for
from consensus.services import consensus_score
from devtools.simulation import simulated_answer

from .scenario import Images, Scenario, predictions_post, scenario_build

ANSWERS = 3


def _answers_seed(scenario: Scenario, payloads: dict[str, list[dict]], seed: int) -> None:
    """Three submitted answers per ordinary task, by the crowd's first three workers."""
    tasks = list(
        Task.objects.filter(project=scenario.project, is_gold=False).select_related("project")
    )
    people = scenario.crowd[:ANSWERS]
    rows = []
    for task in tasks:
        if task.original_name not in payloads:
            rng = random.Random(f"{seed}:{task.original_name}")  # noqa: S311
            payloads[task.original_name] = [
                payload_validate(simulated_answer(task, m.profile, rng), rules_for(task))
                for m in people
            ]
        rows += [
            (task, m.user, p) for m, p in zip(people, payloads[task.original_name], strict=True)
        ]
    leases = Assignment.objects.bulk_create(
        Assignment(task=t, worker=u, state=AssignmentState.SUBMITTED, expires_at=t.created_at)
        for t, u, _ in rows
    )
    Annotation.objects.bulk_create(
        Annotation(assignment=a, task=t, worker=u, payload=p)
        for a, (t, u, p) in zip(leases, rows, strict=True)
    )
    Task.objects.filter(pk__in=[t.pk for t in tasks]).update(
        slots_taken=ANSWERS, answers_count=ANSWERS, target_redundancy=ANSWERS
    )


def _timed(task_id: object) -> tuple[float, str]:
    start = time.perf_counter()
    decision = consensus_score(task_id=task_id)
    return (time.perf_counter() - start) * 1000, str(decision)


def _counted(task_id: object) -> tuple[float, str]:
    with CaptureQueriesContext(connection) as captured:
        decision = consensus_score(task_id=task_id)
    return len(captured), str(decision)


def _projects(images: Images, name: str, seed: int) -> dict[str, dict[str, object]]:
    """Per variant, the ordinary tasks' ids by image name."""
    payloads: dict[str, list[dict]] = {}
    tasks = {}
    for variant in ("without", "with"):
        scenario = scenario_build(
            images=images, name=f"{name}-{variant}", order="nearest_completion", seed=seed
        )
        _answers_seed(scenario, payloads, seed)
        if variant == "with":
            predictions_post(scenario, quality="sure", seed=seed)
        rows = Task.objects.filter(project=scenario.project, is_gold=False)
        tasks[variant] = dict(rows.values_list("original_name", "pk"))
    return tasks


def scoring_times(*, images: Images, name: str, seed: int) -> dict[str, list]:
    """Per image, in pairs: milliseconds without and with the model's vote (on every tenth
    image, SQL statements instead), and the decisions. A pair whose decisions differ times two
    different amounts of work (an acceptance writes agreements, skills and points; asking for
    one more answer writes a counter), so the caller compares the pairs decided alike."""
    tasks = _projects(images, name, seed)
    out: dict[str, list] = {"times": [], "queries": []}
    for i, image in enumerate(sorted(tasks["without"])):
        measure = _counted if i % 10 == 0 else _timed  # counting wraps every query: not timed
        first = ("without", "with") if i % 2 else ("with", "without")  # neither always warm
        pair = {variant: measure(tasks[variant][image]) for variant in first}
        figures = (pair["without"][0], pair["with"][0], pair["without"][1] == pair["with"][1])
        out["queries" if i % 10 == 0 else "times"].append(figures)
    return out

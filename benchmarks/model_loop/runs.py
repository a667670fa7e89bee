"""One measurement per job, each on projects of its own, so jobs can run side by side in
forked processes on the one database (every project, crowd and requester is new).

- ``loop``: the whole project worked to the end with no model, a useless one or a good one, in
  today's order (nearest completion);
- ``doubt``: the good model, the crowd stopped after a budget of answers (30 % of the images),
  in today's order or the model's doubt first;
- ``latency``: scoring timed with and without the model's vote (run alone, not side by side).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context

from django.db import connections

from consensus.model_votes import model_credible
from consensus.models import ConsensusResult, WorkerSkill
from predictions.models import ModelVersion

from .figures import corrections, project_figures
from .latency import scoring_times
from .scenario import Images, Scenario, crowd_work, predictions_post, scenario_build

BUDGET_SHARE = 0.3
TODAY = "nearest_completion"


@dataclass(frozen=True)
class Job:
    what: str  # "loop", "doubt" or "latency"
    variant: str  # the model's quality, or the task order
    images: Images
    seed: int

    @property
    def name(self) -> str:
        return f"{self.what}-{self.images.kind}-{self.variant}-s{self.seed}"


def _model_state(scenario: Scenario) -> dict | None:
    version = ModelVersion.objects.filter(project=scenario.project).first()
    if version is None:
        return None
    skill = WorkerSkill.objects.get(worker_id=version.voter_id, project=scenario.project)
    return {"skill": skill.accuracy, "gold": skill.gold_total, "credible": model_credible(skill)}


def _loop(job: Job) -> dict:
    scenario = scenario_build(images=job.images, name=job.name, order=TODAY, seed=job.seed)
    if job.variant != "none":
        predictions_post(scenario, quality=job.variant, seed=job.seed)
    crowd_work(scenario, seed=job.seed)
    return {**project_figures(scenario), "model": _model_state(scenario)}


def _doubt(job: Job) -> dict:
    scenario = scenario_build(images=job.images, name=job.name, order=job.variant, seed=job.seed)
    predictions_post(scenario, quality="good", seed=job.seed)
    budget = round(BUDGET_SHARE * len(job.images.files))
    given = crowd_work(scenario, seed=job.seed, budget=budget)
    return {
        "budget": budget,
        "gold_answers": given["gold"],
        **corrections(scenario),
        "model": _model_state(scenario),
    }


def _latency(job: Job) -> dict:
    measured = scoring_times(images=job.images, name=job.name, seed=job.seed)
    alike = [(a, b) for a, b, same in measured["times"] if same]
    counted = [(a, b) for a, b, same in measured["queries"] if same]
    results = ConsensusResult.objects.filter(task__project__name=f"{job.name}-with")
    voted = sum(
        any("prediction" in c for c in contributors)
        for contributors in results.values_list("contributors", flat=True)
    )
    return {
        "timed": len(measured["times"]),
        "alike": len(alike),
        "without_ms": statistics.median(a for a, _ in alike),
        "with_ms": statistics.median(b for _, b in alike),
        "ratio": statistics.median(b / a for a, b in alike),
        "without_queries": statistics.median(a for a, _ in counted),
        "with_queries": statistics.median(b for _, b in counted),
        "all_without_ms": statistics.median(a for a, _, _ in measured["times"]),
        "all_with_ms": statistics.median(b for _, b, _ in measured["times"]),
        "model_voted": voted,
    }


RUNNERS: dict[str, Callable[[Job], dict]] = {"loop": _loop, "doubt": _doubt, "latency": _latency}


def job_run(job: Job) -> dict:
    return {"what": job.what, "kind": job.images.kind, "variant": job.variant, "seed": job.seed,
            **RUNNERS[job.what](job)}  # fmt: skip


def jobs_run(jobs: list[Job], *, processes: int, done: Callable[[dict], None]) -> list[dict]:
    """Every job's figures, in the order given; ``done`` hears of each as it ends. Jobs run in
    ``processes`` forked children (each with its own database connection), or here with 1."""
    if processes <= 1:
        results = []
        for job in jobs:
            results.append(job_run(job))
            done(results[-1])
        return results
    connections.close_all()  # a child must not share the parent's socket
    with ProcessPoolExecutor(processes, mp_context=get_context("fork")) as pool:
        futures = [pool.submit(job_run, job) for job in jobs]
        for future in as_completed(futures):
            done(future.result())
        return [f.result() for f in futures]

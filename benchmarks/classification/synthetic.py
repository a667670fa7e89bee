"""The scale run's seeded synthetic crowd: skewed classes, good, sloppy and spamming workers."""

from __future__ import annotations

import numpy as np

from benchmarks.harness.crowd import distinct_workers


def worker_confusions(rng: np.random.Generator, n_workers: int, k: int) -> np.ndarray:
    """50 % good (diagonal 0.65-0.9), 30 % sloppy (0.3-0.55, errors mostly to neighbouring
    classes), 20 % spammers (half answer uniformly, half are stuck on one class 90 % of the time)."""
    kind = rng.choice(3, size=n_workers, p=[0.5, 0.3, 0.2])
    eye = np.eye(k)
    errors = rng.dirichlet(np.ones(k - 1), size=(n_workers, k))  # spread of each row's errors
    off = np.zeros((n_workers, k, k))
    mask = ~eye.astype(bool)
    off[:, mask] = errors.reshape(n_workers, -1)
    neighbours = (np.abs(np.subtract.outer(np.arange(k), np.arange(k))) == 1).astype(float)
    neighbours /= neighbours.sum(axis=1, keepdims=True)
    off = np.where((kind == 1)[:, None, None], 0.8 * neighbours + 0.2 * off, off)
    diag = np.where(kind == 0, rng.uniform(0.65, 0.9, n_workers), rng.uniform(0.3, 0.55, n_workers))
    conf = diag[:, None, None] * eye + (1 - diag)[:, None, None] * off
    stuck = np.eye(k)[rng.integers(0, k, n_workers)][:, None, :] * 0.9 + 0.1 / k
    spam = np.where((rng.random(n_workers) < 0.5)[:, None, None], 1.0 / k, stuck)
    return np.where((kind == 2)[:, None, None], spam, conf)


def synthetic(
    seed: int = 2026,
    n_tasks: int = 100_000,
    per_task: int = 10,
    n_workers: int = 2_000,
    k: int = 5,
) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    prior = 1.0 / np.arange(2, k + 2)  # skewed classes: 0.29, 0.19, 0.15, ... for k = 5
    truth = rng.choice(k, size=n_tasks, p=prior / prior.sum())
    conf = worker_confusions(rng, n_workers, k)
    activity = rng.lognormal(0.0, 1.0, n_workers)
    workers = distinct_workers(rng, n_tasks, per_task, activity / activity.sum()).ravel()
    tasks = np.repeat(np.arange(n_tasks), per_task)
    cdf = np.cumsum(conf[workers, truth[tasks]], axis=1)
    labels = (rng.random(tasks.size)[:, None] > cdf[:, :-1]).sum(axis=1)
    order = rng.permutation(tasks.size)  # answers arrive interleaved, not task by task
    return {"task": tasks[order], "worker": workers[order], "label": labels[order], "truth": truth}

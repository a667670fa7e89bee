"""Simulated crowds shared by the classification benchmarks."""

from __future__ import annotations

import numpy as np


def distinct_workers(
    rng: np.random.Generator, n_tasks: int, per_task: int, p: np.ndarray
) -> np.ndarray:
    """(n_tasks, per_task) workers drawn by activity p, redrawn until distinct within a task."""
    picks = rng.choice(p.size, size=(n_tasks, per_task), p=p)
    while True:
        picks.sort(axis=1)
        dup = np.zeros_like(picks, dtype=bool)
        dup[:, 1:] = picks[:, 1:] == picks[:, :-1]
        if not dup.any():
            return picks
        picks[dup] = rng.choice(p.size, size=int(dup.sum()), p=p)

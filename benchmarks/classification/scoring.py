"""Expected accuracy of posteriors against a truth."""

from __future__ import annotations

import numpy as np


def accuracy_on(truth: np.ndarray, post: np.ndarray, tasks: np.ndarray) -> float:
    """Expected accuracy % on the tasks selected by the boolean mask ``tasks``: a tie between the
    top classes is broken uniformly at random (DS posteriors and one-hot outputs practically never
    tie; vote shares do). ``truth`` is a class index, or negative where no answer chose it."""
    scores = post[tasks]
    top = scores >= scores.max(axis=1, keepdims=True) - 1e-12
    known = truth[tasks]
    hit = np.where(known >= 0, top[np.arange(known.size), np.maximum(known, 0)], False)
    return float(100 * np.mean(hit / top.sum(axis=1)))

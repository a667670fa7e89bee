"""What gold does to the tasks that are not gold.

A seeded sample of ``fraction`` of the scored tasks gets its truth as clamped gold; accuracy is
measured on the other scored tasks, with the gold and without it (the same tasks both times). One
sample is one draw: on bluebirds (108 tasks) a single task flipping moves accuracy by a point, so
the table gives the spread over ``seeds`` samples, not one difference.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from .scoring import accuracy_on

Fit = Callable[[np.ndarray | None], np.ndarray]  # gold (n_tasks,) or None -> posteriors


def gold_sample(truth: np.ndarray, scored: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """(n_tasks,) gold classes, -1 where not gold: round(fraction x candidates) scored tasks with a
    class that some worker chose, drawn with ``seed``."""
    candidates = np.flatnonzero(scored & (truth >= 0))
    size = max(1, round(fraction * candidates.size))
    chosen = np.random.default_rng(seed).choice(candidates, size, replace=False)
    gold = np.full(truth.size, -1)
    gold[chosen] = truth[chosen]
    return gold


def gold_differences(
    fit: Fit, truth: np.ndarray, scored: np.ndarray, *, seeds: int, fraction: float
) -> tuple[int, np.ndarray, np.ndarray]:
    """Number of gold tasks and, per seed, the accuracy % with gold on the other tasks and the
    difference with gold minus without, in points."""
    without = fit(None)
    accuracies, differences, size = [], [], 0
    for seed in range(seeds):
        gold = gold_sample(truth, scored, fraction, seed)
        rest = scored & (gold < 0)
        size = int(np.sum(gold >= 0))
        accuracies.append(accuracy_on(truth, fit(gold), rest))
        differences.append(accuracies[-1] - accuracy_on(truth, without, rest))
    return size, np.array(accuracies), np.array(differences)


def gold_table(rows: Mapping[tuple[str, str], tuple[int, np.ndarray, np.ndarray]]) -> str:
    """rows: (method, data set) -> (gold tasks, accuracies with gold, differences)."""
    lines = [
        "| method | data set | gold tasks | accuracy with gold | difference: mean | median "
        "| worst | best | samples worse |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for (method, name), (size, acc, diff) in rows.items():
        lines.append(
            f"| {method} | {name} | {size} | {acc.mean():.2f} | {diff.mean():+.2f} "
            f"| {np.median(diff):+.2f} "
            f"| {diff.min():+.2f} | {diff.max():+.2f} | {np.sum(diff < -1e-9)} of {diff.size} |"
        )
    return "\n".join(lines)

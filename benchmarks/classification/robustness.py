"""Accuracy on seeded subsamples of the answers.

On the full data two methods often differ by one to a few tasks, which says little about data the
platform has not seen. Refitting on ``seeds`` random subsets of ``fraction`` of the answers (every
method on the same subsets) and averaging gives a steadier comparison, in a sparser regime where
the prior matters more.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from .scoring import accuracy_on

FitSubset = Callable[[np.ndarray], np.ndarray]  # (n_answers,) kept mask -> posteriors


def subsample_accuracies(
    fit: FitSubset,
    n_answers: int,
    truth: np.ndarray,
    scored: np.ndarray,
    *,
    seeds: int,
    fraction: float,
) -> np.ndarray:
    """Accuracy % on the scored tasks, per seed, fitting on a ``fraction`` of the answers."""
    out = []
    for seed in range(seeds):
        kept = np.random.default_rng(1000 + seed).random(n_answers) < fraction
        out.append(accuracy_on(truth, fit(kept), scored))
    return np.array(out)


def robustness_table(rows: Mapping[str, Mapping[str, np.ndarray]], names: list[str]) -> str:
    """rows: method -> data set -> per-seed accuracies; mean (and lowest) per cell."""
    lines = [
        "| method | " + " | ".join(names) + " | mean |",
        "|" + " --- |" * (len(names) + 2),
    ]
    for method, by_set in rows.items():
        means = [float(by_set[n].mean()) for n in names]
        cells = [f"{by_set[n].mean():.2f} ({by_set[n].min():.2f})" for n in names]
        lines.append(f"| {method} | " + " | ".join(cells) + f" | {np.mean(means):.2f} |")
    return "\n".join(lines)

"""The hybrid's shrinkage strength m: fixed values against the one estimated from the answers.

For each m, and for m estimated (the default), the accuracy on the full data and the held-out
log-likelihood per answer: each of 5 seeded folds of 10 % of the answers is left out, the rest
fitted, and the left-out answers scored by sum_c P(task's class c) pi_w[c, answer]. Neither uses
the truth to choose anything; the accuracy column only shows what each choice would have given.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from consensus.algorithms.dawid_skene import dawid_skene

from .scoring import accuracy_on

GRID = (1.0, 2.0, 3.0, 5.0, 8.0, 12.0, 20.0)


def held_out_log_likelihood(enc: Any, n: tuple[int, int, int], m: float | None) -> float:
    """Mean log-probability of left-out answers (5 folds of 10 %, seed 0)."""
    rng = np.random.default_rng(0)
    scores = []
    for _ in range(5):
        hold = rng.random(enc.task.size) < 0.1
        kept = ~hold
        fit = dawid_skene(
            enc.task[kept], enc.worker[kept], enc.label[kept], *n, shrinkage_answers=m
        )
        p = np.einsum(
            "nc,nc->n",
            fit.posteriors[enc.task[hold]],
            fit.confusion[enc.worker[hold], :, enc.label[hold]],
        )
        scores.append(np.mean(np.log(p)))
    return float(np.mean(scores))


def shrinkage_scan(sets: list[Any], grid: tuple[float, ...] = GRID) -> str:
    """A table of accuracy % / held-out log-likelihood per answer, per data set and m."""
    choices: list[float | None] = [*grid, None]
    lines = [
        "| data set | " + " | ".join(f"m={m:g}" for m in grid) + " | estimated m |",
        "|" + " --- |" * (len(choices) + 1),
    ]
    for ds in sets:
        enc = ds.encoded
        n = (len(enc.tasks), len(enc.workers), len(enc.classes))
        cells = []
        for m in choices:
            fit = dawid_skene(enc.task, enc.worker, enc.label, *n, shrinkage_answers=m)
            cell = f"{accuracy_on(ds.truth, fit.posteriors, ds.scored):.2f} / "
            cell += f"{held_out_log_likelihood(enc, n, m):.4f}"
            cells.append(cell if m is not None else f"{fit.shrinkage:.2f}: {cell}")
        lines.append(f"| {ds.name} | " + " | ".join(cells) + " |")
    return "accuracy % / held-out log-likelihood per answer\n\n" + "\n".join(lines)

"""The --gold and --robustness reports: our methods only (crowd-kit is not refitted per sample)."""

from __future__ import annotations

from typing import Any

import numpy as np

from consensus.algorithms.dawid_skene import DEFAULT_METHOD, dawid_skene

from .gold import gold_differences, gold_table
from .robustness import robustness_table, subsample_accuracies

OURS_COMPARED = {  # name -> dawid_skene keyword arguments
    f"ours {DEFAULT_METHOD} (default, m estimated)": {},
    "ours hybrid, m = 5 (default before)": {"shrinkage_answers": 5.0},
    "ours full": {"method": "full"},
}


def fit_subset(
    ds: Any, kwargs: dict, kept: np.ndarray | None, gold: np.ndarray | None
) -> np.ndarray:
    enc = ds.encoded
    n = (len(enc.tasks), len(enc.workers), len(enc.classes))
    rows = slice(None) if kept is None else kept
    fit = dawid_skene(enc.task[rows], enc.worker[rows], enc.label[rows], *n, gold=gold, **kwargs)
    return fit.posteriors


def gold_report(sets: list[Any], seeds: int) -> str:
    rows = {
        (method, ds.name): gold_differences(
            lambda gold, ds=ds, kw=kwargs: fit_subset(ds, kw, None, gold),
            ds.truth,
            ds.scored,
            seeds=seeds,
            fraction=0.1,
        )
        for method, kwargs in OURS_COMPARED.items()
        for ds in sets
    }
    return (
        "Accuracy with gold minus without, on the tasks that are not gold (points)\n\n"
        + gold_table(rows)
    )


def robustness_report(sets: list[Any], seeds: int) -> str:
    rows = {
        method: {
            ds.name: subsample_accuracies(
                lambda kept, ds=ds, kw=kwargs: fit_subset(ds, kw, kept, None),
                ds.encoded.task.size,
                ds.truth,
                ds.scored,
                seeds=seeds,
                fraction=0.6,
            )
            for ds in sets
        }
        for method, kwargs in OURS_COMPARED.items()
    }
    title = f"Mean accuracy % (lowest) over {seeds} subsamples of 60 % of the answers\n\n"
    return title + robustness_table(rows, [ds.name for ds in sets])

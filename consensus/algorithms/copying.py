"""Copying between accounts (docs/reliability.md C9), from the answers alone.

Two honest workers agree often, because the answer is plain to see: that says nothing. Copying
shows where the crowd is no help: two accounts that copy each other are wrong together, and
wrong in the same way. So, for each pair of workers, over the tasks they share on which at least
one other worker answered too:

- an *unusual* task is one where at least one of the two gave an answer no other worker gave;
- a *twin* task is an unusual one where the two gave the identical answer.

Independent workers are seldom wrong identically. With error rate e over K classes, twins are
about e / (2(K - 1)) of the unusual tasks when two or more others answered, and at most about a
third when only one did (if that one errs, two right answers both look unusual). A copying pair
is near one. A pair is flagged when they share ``min_shared`` tasks, have ``min_unusual`` unusual
ones, the Wilson lower bound of twins / unusual reaches ``min_share``, and their twin answers
are not all the same answer: two spammers who always say "car" look alike without copying (the
low-agreement flag is the one for them).

"Identical" is equality of answer codes (``class_codes``); for boxes and polygons,
``shape_codes`` gives two answers one code when their shapes match to within a pixel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .intervals import wilson_bounds

SHAPE_TOLERANCE_PX = 1.0
# One answer's shapes as (label, number of coordinates) in a canonical order; () when empty.
Signature = tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class CopyingPair:
    worker_a: int
    worker_b: int
    shared: int  # tasks both answered
    unusual: int  # shared tasks where one of them gave an answer nobody else gave
    twins: int  # unusual tasks where their answers were identical


def class_codes(answers: Sequence[object]) -> np.ndarray:
    """One integer per answer, equal for equal answers (any hashable: a label, a JSON text)."""
    index: dict[object, int] = {}
    return np.fromiter((index.setdefault(a, len(index)) for a in answers), np.int64, len(answers))


def shape_codes(
    task: np.ndarray,
    signature: Sequence[Signature],
    coords: Sequence[np.ndarray],
    tolerance: float = SHAPE_TOLERANCE_PX,
) -> np.ndarray:
    """Codes for shape answers: equal when two answers on one task have the same
    ``signature`` (labels and point counts, in a canonical order) and coordinates within
    ``tolerance`` pixels. Empty answers all share one code, whatever the task."""
    codes = np.empty(len(signature), dtype=np.int64)
    seen: dict[tuple[int, Signature], list[tuple[np.ndarray, int]]] = {}
    next_code = 1  # 0 is the empty answer
    for n, (t, sig, xy) in enumerate(zip(task.tolist(), signature, coords, strict=True)):
        if not sig:
            codes[n] = 0
            continue
        group = seen.setdefault((t, sig), [])
        match = next((c for ref, c in group if np.abs(ref - xy).max() <= tolerance), None)
        if match is None:
            match, next_code = next_code, next_code + 1
            group.append((xy, match))
        codes[n] = match
    return codes


def _task_pairs(task: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i, j) of every two answers on the same task."""
    order = np.argsort(task, kind="stable")
    ordered = task[order]
    firsts, seconds = [], []
    for step in range(1, len(task)):
        same = ordered[:-step] == ordered[step:]
        if not same.any():
            break
        firsts.append(order[:-step][same])
        seconds.append(order[step:][same])
    if not firsts:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(firsts), np.concatenate(seconds)


def _per_answer_counts(task: np.ndarray, code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each answer: how many answers its task has, and how many of them equal it."""
    _, task_inverse, task_counts = np.unique(task, return_inverse=True, return_counts=True)
    keys = task_inverse * (int(code.max()) + 1) + code
    _, code_inverse, code_counts = np.unique(keys, return_inverse=True, return_counts=True)
    return task_counts[task_inverse], code_counts[code_inverse]


def copying_pairs(
    task: np.ndarray,
    worker: np.ndarray,
    code: np.ndarray,
    *,
    min_shared: int = 10,
    min_unusual: int = 5,
    min_share: float = 0.5,
) -> list[CopyingPair]:
    """Pairs of workers whose answers look copied, one answer per row: ``task`` and
    ``worker`` ids (integers) and the answer's ``code``. A worker answers a task at most once."""
    task, worker, code = (np.asarray(x, dtype=np.int64) for x in (task, worker, code))
    i, j = _task_pairs(task)
    if not i.size:
        return []
    on_task, alike = _per_answer_counts(task, code)
    twin = code[i] == code[j]
    # Others who gave the same answer as i (resp. j), leaving the pair itself out.
    lonely_i = alike[i] - 1 - twin == 0
    lonely_j = alike[j] - 1 - twin == 0
    crowd = on_task[i] >= 3  # someone besides the pair answered
    unusual = crowd & (lonely_i | lonely_j)
    twins = unusual & twin
    workers, dense = np.unique(worker, return_inverse=True)
    a, b = np.minimum(dense[i], dense[j]), np.maximum(dense[i], dense[j])
    pair_keys, pair = np.unique(a * len(workers) + b, return_inverse=True)
    counts = [
        np.bincount(pair, weights=w, minlength=len(pair_keys)) for w in (None, unusual, twins)
    ]
    shared, unusual_n, twins_n = (c.astype(np.int64) for c in counts)
    suspect = (
        (shared >= min_shared)
        & (unusual_n >= min_unusual)
        & (wilson_bounds(twins_n, unusual_n)[0] >= min_share)
        & (_distinct_twin_answers(pair[twins], code[i][twins], len(pair_keys)) >= 2)
    )
    return [
        CopyingPair(
            int(workers[k // len(workers)]),
            int(workers[k % len(workers)]),
            int(shared[n]),
            int(unusual_n[n]),
            int(twins_n[n]),
        )
        for n, k in zip(np.flatnonzero(suspect).tolist(), pair_keys[suspect].tolist(), strict=True)
    ]


def _distinct_twin_answers(pair: np.ndarray, code: np.ndarray, pairs: int) -> np.ndarray:
    """How many different answers each pair gave as twins."""
    if not pair.size:
        return np.zeros(pairs, dtype=np.int64)
    distinct = np.unique(pair * (int(code.max()) + 1) + code) // (int(code.max()) + 1)
    return np.bincount(distinct, minlength=pairs)

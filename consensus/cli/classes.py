"""Classification for the CLI: Dawid–Skene (hybrid by default) or majority vote."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import IO

import numpy as np

from ..algorithms.dawid_skene import DEFAULT_METHOD, METHODS, dawid_skene
from .files import InputError, csv_rows, write_csv

CLASS_METHODS = ("mv", *METHODS)


@dataclass(frozen=True)
class Answers:
    tasks: list[str]
    workers: list[str]
    classes: list[str]
    task_idx: np.ndarray
    worker_idx: np.ndarray
    label_idx: np.ndarray


def read_answers(path: str, extra_classes: set[str] = frozenset()) -> Answers:
    """Rows ``task,worker,label``; a repeated (task, worker) pair keeps its last answer."""
    last: dict[tuple[str, str], str] = {}
    for _, (task, worker, label) in csv_rows(path, ("task", "worker", "label")):
        last.pop((task, worker), None)  # re-insert so the order is that of the last answer
        last[(task, worker)] = label
    if not last:
        raise InputError(f"{path}: no answers")
    tasks = list(dict.fromkeys(t for t, _ in last))
    workers = list(dict.fromkeys(w for _, w in last))
    classes = sorted({*last.values(), *extra_classes}, key=_natural)
    t_index, w_index, c_index = (_index(xs) for xs in (tasks, workers, classes))
    pairs = list(last.items())
    return Answers(
        tasks,
        workers,
        classes,
        np.fromiter((t_index[t] for (t, _), _ in pairs), dtype=np.int64, count=len(pairs)),
        np.fromiter((w_index[w] for (_, w), _ in pairs), dtype=np.int64, count=len(pairs)),
        np.fromiter((c_index[c] for _, c in pairs), dtype=np.int64, count=len(pairs)),
    )


def _index(items: list[str]) -> dict[str, int]:
    return {item: i for i, item in enumerate(items)}


def _natural(label: str) -> tuple[int, float | str]:
    """Numeric labels sort as numbers ("2" before "10"), others as text."""
    try:
        return (0, float(label))
    except ValueError:
        return (1, label)


def read_gold(path: str) -> dict[str, str]:
    return {task: label for _, (task, label) in csv_rows(path, ("task", "label"))}


def majority_vote(ans: Answers) -> tuple[np.ndarray, np.ndarray]:
    counts = np.zeros((len(ans.tasks), len(ans.classes)))
    np.add.at(counts, (ans.task_idx, ans.label_idx), 1.0)
    winners = counts.argmax(axis=1)  # ties: the first class in sorted order
    return winners, counts.max(axis=1) / counts.sum(axis=1)


def aggregate_classes(args: argparse.Namespace, out: IO[str]) -> None:
    method = args.method or DEFAULT_METHOD
    if method not in CLASS_METHODS:
        raise InputError(f"--method: expected one of {', '.join(CLASS_METHODS)} for classification")
    gold = read_gold(args.gold) if args.gold else {}
    ans = read_answers(args.input, set(gold.values()))
    t_index, c_index = _index(ans.tasks), _index(ans.classes)
    gold_idx = {t_index[t]: c_index[label] for t, label in gold.items() if t in t_index}
    if method == "mv":
        winners, confidence = majority_vote(ans)
        accuracy = None
    else:
        result = dawid_skene(
            ans.task_idx,
            ans.worker_idx,
            ans.label_idx,
            len(ans.tasks),
            len(ans.workers),
            len(ans.classes),
            method=method,
            gold=gold_idx,
        )
        winners, confidence, accuracy = result.labels, result.confidence, result.accuracy
    rows = [
        [t, ans.classes[w], f"{c:.6f}"]
        for t, w, c in zip(ans.tasks, winners.tolist(), confidence.tolist(), strict=True)
    ]
    write_csv(out, ["task", "label", "confidence"], rows)
    if args.skills_out:
        _write_skills(args.skills_out, ans, accuracy)


def _write_skills(path: str, ans: Answers, accuracy: np.ndarray | None) -> None:
    if accuracy is None:
        raise InputError(
            "--skills-out: majority vote estimates no skills; use a Dawid–Skene method"
        )
    answers = np.bincount(ans.worker_idx, minlength=len(ans.workers))
    rows = [
        [w, f"{a:.6f}", int(n)]
        for w, a, n in zip(ans.workers, accuracy.tolist(), answers.tolist(), strict=True)
    ]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        write_csv(handle, ["worker", "accuracy", "answers"], rows)

"""Classification for the CLI: Dawid–Skene (hybrid by default) or majority vote."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import IO

import numpy as np

from ..algorithms.dawid_skene import DEFAULT_METHOD, dawid_skene
from .csv_codes import read_columns
from .files import InputError, csv_rows, warn, write_csv


@dataclass(frozen=True)
class Answers:
    tasks: list[str]
    workers: list[str]
    classes: list[str]
    task_idx: np.ndarray
    worker_idx: np.ndarray
    label_idx: np.ndarray


def read_answers(path: str) -> Answers:
    """Columns task, worker, label; a repeated (task, worker) pair keeps its last answer. Tasks
    and workers are numbered in order of first appearance, classes in natural order."""
    task, worker, label = read_columns(path, ("task", "worker", "label"))
    if task.codes.size == 0:
        raise InputError(f"{path}: no answers")
    kept = last_answers(task.codes, worker.codes, len(worker.names))
    task_idx, tasks = by_first_appearance(task.codes[kept], task.names)
    worker_idx, workers = by_first_appearance(worker.codes[kept], worker.names)
    label_idx, classes = in_natural_order(label.codes[kept], label.names)
    return Answers(tasks, workers, classes, task_idx, worker_idx, label_idx)


def last_answers(task: np.ndarray, worker: np.ndarray, n_workers: int) -> np.ndarray | slice:
    """Rows to keep, in file order: the last of each (task, worker) pair."""
    pair = task * n_workers + worker
    ordered = np.sort(pair)  # a plain sort finds repeats fastest; most files have none
    if not (ordered[1:] == ordered[:-1]).any():
        return slice(None)
    order = np.argsort(pair, kind="stable")  # within a pair, file order: the last row is last
    is_last = np.ones(pair.size, dtype=bool)
    is_last[:-1] = pair[order[1:]] != pair[order[:-1]]
    return np.sort(order[is_last])


def by_first_appearance(codes: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """Renumber codes by their first row, dropping names no row uses."""
    first = np.full(len(names), codes.size, dtype=np.int64)
    np.minimum.at(first, codes, np.arange(codes.size))
    order = np.argsort(first, kind="stable")[: np.count_nonzero(first < codes.size)]
    return _renumbered(codes, names, order)


def in_natural_order(codes: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """Renumber codes so that the names used sort naturally ("2" before "10")."""
    used = np.flatnonzero(np.bincount(codes, minlength=len(names)))
    order = np.array(sorted(used.tolist(), key=lambda i: _natural(names[i])), dtype=np.int64)
    return _renumbered(codes, names, order)


def _renumbered(
    codes: np.ndarray, names: list[str], order: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    new_code = np.full(len(names), -1, dtype=np.int64)
    new_code[order] = np.arange(order.size)
    return new_code[codes], [names[i] for i in order.tolist()]


def _natural(label: str) -> tuple[int, float | str]:
    """Numeric labels sort as numbers ("2" before "10"), others as text."""
    try:
        return (0, float(label))
    except ValueError:
        return (1, label)


def read_gold(path: str, ans: Answers) -> dict[int, int]:
    """Gold rows task,label as task index -> class index. A row naming a task with no answers
    or a class no worker chose is left out, with one warning: gold never adds a class."""
    gold = dict(csv_rows(path, ("task", "label")))  # a repeated task: the last row counts
    t_index = {t: i for i, t in enumerate(ans.tasks)}
    c_index = {c: k for k, c in enumerate(ans.classes)}
    no_task = sum(t not in t_index for t in gold)
    no_class = {t: c for t, c in gold.items() if t in t_index and c not in c_index}
    if no_task or no_class:
        names = ", ".join(sorted(set(no_class.values()))[:5])
        warn(
            f"{path}: {no_task + len(no_class)} of {len(gold)} gold rows ignored: {no_task} "
            f"name a task with no answers, {len(no_class)} a class no worker chose"
            + (f" ({names})" if names else "")
        )
    return {t_index[t]: c_index[c] for t, c in gold.items() if t in t_index and c in c_index}


def majority_vote(ans: Answers) -> tuple[np.ndarray, np.ndarray]:
    counts = np.zeros((len(ans.tasks), len(ans.classes)))
    np.add.at(counts, (ans.task_idx, ans.label_idx), 1.0)
    winners = counts.argmax(axis=1)  # ties: the first class in sorted order
    return winners, counts.max(axis=1) / counts.sum(axis=1)


def aggregate_classes(args: argparse.Namespace, out: IO[str]) -> None:
    """Options were checked by ``options.check``: the method is a classification one, and
    --skills-out comes only with a method that estimates skills."""
    method = args.method or DEFAULT_METHOD
    ans = read_answers(args.input)
    gold = read_gold(args.gold, ans) if args.gold else {}
    if method == "mv":
        winners, confidence = majority_vote(ans)
        accuracy = None
    else:
        n = (len(ans.tasks), len(ans.workers), len(ans.classes))
        result = dawid_skene(
            ans.task_idx, ans.worker_idx, ans.label_idx, *n, method=method, gold=gold
        )
        winners, confidence, accuracy = result.labels, result.confidence, result.accuracy
    labels = map(ans.classes.__getitem__, winners.tolist())
    confidences = (f"{c:.6f}" for c in confidence.tolist())
    write_csv(
        out, ["task", "label", "confidence"], zip(ans.tasks, labels, confidences, strict=True)
    )
    if args.skills_out and accuracy is not None:
        _write_skills(args.skills_out, ans, accuracy)


def _write_skills(path: str, ans: Answers, accuracy: np.ndarray) -> None:
    answers = np.bincount(ans.worker_idx, minlength=len(ans.workers))
    rows = zip(ans.workers, (f"{a:.6f}" for a in accuracy.tolist()), answers.tolist(), strict=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        write_csv(handle, ["worker", "accuracy", "answers"], rows)

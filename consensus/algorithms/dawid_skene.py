"""Dawid–Skene EM over all the classification answers of a project.

Model. Task t has a hidden class z_t ~ Categorical(rho). Worker w, shown a task of class c, answers
l with probability pi_w[c, l] (row c of w's K x K confusion matrix sums to 1), independently of the
other answers. EM starts from a (skill-weighted) majority vote and alternates

    M-step  N_w[c, l] = sum_{t : w answered l on t} T_t[c]                  (expected counts)
            rho_c     = (sum_t T_t[c] + beta) / (n_observed + K beta)   (tasks with answers or gold)
            full      pi_w[c, .] = (N_w[c, .] + a) / (n_wc + K a)           (Dirichlet(a) smoothing)
            one_coin  pi_w[c, c] = s_w, pi_w[c, l != c] = (1 - s_w) / (K - 1),
                      s_w = (sum_c N_w[c, c] + a1) / (n_w + a1 + a0)        (Beta pseudo-counts)
            hybrid    pi_w[c, .] = (N_w[c, .] + m pibar[c, .]) / (n_wc + m),
                      pibar = mean over active workers of (N_w + 1/K) row-normalised,
                      m = argmax of the Dirichlet-multinomial likelihood of the N_w rows
    E-step  log T_t[c] = log rho_c + sum_{(w, l) answered on t} log pi_w[c, l] - log Z_t,
            with T_t one-hot on gold tasks (their class is known),

until the log-likelihood sum_t log Z_t changes by less than ``tol`` per answer.

``hybrid`` (the default) is a hierarchical Dawid–Skene: every worker's matrix is shrunk towards the
average worker's with the weight of m answers per row. A worker with a handful of answers is judged
like the average worker of the project, a prolific one by their own confusions (e.g. "relevant"
vs "highly relevant"). m is estimated in every M-step from the answers themselves (empirical Bayes,
shrinkage.py): large when workers confuse classes alike, small when they differ. It used to be one
m = 5 for every project, a compromise between data sets that each prefer 1.4 to 5.3 answers per
row; ``shrinkage_answers`` still fixes it.

Vectorisation: one sparse count matrix A[t, w*K + l]; the E-step is A @ log pi (as [(w, l), c]) and
the M-step A.T @ T, so there is no Python loop per answer, task or worker.

Edge cases. With a single class the consensus is trivial: every task is that class with
posterior 1, every worker's accuracy is 1, and no EM runs. A task with no answers (and no gold)
gets the class prior rho as its posterior. A worker with one answer gets a matrix that is mostly
pseudo-counts (full, one_coin) or the average worker's (hybrid), so one lucky answer does not make
them an oracle. Repeated (task, worker) pairs would count as separate answers: de-duplicate before
calling (the loaders keep the last answer). Ties in the posterior go to the lowest class index.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Final, Literal

import numpy as np
from scipy import sparse

from .classification import log_odds_weights
from .shrinkage import shrinkage_strength

Method = Literal["full", "one_coin", "hybrid"]
METHODS: Final[tuple[Method, ...]] = ("full", "one_coin", "hybrid")
DEFAULT_METHOD: Final[Method] = "hybrid"

CONFUSION_PSEUDO_COUNT: Final = 1.0  # a: per cell of a full confusion matrix (Laplace)
COIN_PSEUDO_COUNTS: Final = (1.0, 1.0)  # (a1, a0): pseudo right and wrong answers, one-coin
SHRINKAGE_ANSWERS: Final = 5.0  # m: where the hybrid's estimate of the strength starts
PRIOR_PSEUDO_COUNT: Final = 1.0  # beta: per class, on the class prior
_TINY: Final = 1e-300


@dataclass(frozen=True)
class DawidSkeneResult:
    """Outcome of one EM run; arrays are indexed by task, worker and class index."""

    method: Method
    posteriors: np.ndarray  # (n_tasks, K) P(true class | answers); rows sum to 1
    labels: np.ndarray  # (n_tasks,) int, argmax of the posterior (lowest index on ties)
    confidence: np.ndarray  # (n_tasks,) posterior of the winning class
    class_priors: np.ndarray  # (K,) rho
    confusion: np.ndarray  # (n_workers, K, K) pi[w, true, answered]; rows sum to 1
    accuracy: np.ndarray  # (n_workers,) s_w for one_coin, else sum_c rho_c pi_w[c, c]
    weights: np.ndarray  # (n_workers,) log((K-1) p / (1-p)) of accuracy: ~0 for a spammer
    answers_per_worker: np.ndarray  # (n_workers,) int
    iterations: int  # EM iterations run, each one M-step then one E-step
    converged: bool
    log_likelihood: float  # log P(answers | final parameters) per answer
    shrinkage: float | None = None  # hybrid: the m used in the last M-step; else None


@dataclass(frozen=True)
class _Answers:
    by_task: sparse.csr_matrix  # (n_tasks, n_workers * K): A[t, w*K + l] = answers
    by_pair: sparse.csc_matrix  # A.T, a CSC view of the same arrays (no copy)
    n_workers: int
    n_classes: int
    n_answers: int


@dataclass(frozen=True)
class _Smoothing:
    confusion: float
    coin: tuple[float, float]
    shrinkage: float | None  # None: estimated from the answers in each M-step
    prior: float


def _answers(
    task_idx: np.ndarray,
    worker_idx: np.ndarray,
    label_idx: np.ndarray,
    n_tasks: int,
    n_workers: int,
    n_classes: int,
) -> _Answers:
    """Validate the index arrays and build the sparse count matrix A[t, w*K + l]."""
    if n_classes < 1:
        raise ValueError("Dawid-Skene needs at least one class")
    arrays = [np.asarray(a) for a in (task_idx, worker_idx, label_idx)]
    if arrays[0].ndim != 1 or any(a.shape != arrays[0].shape for a in arrays):
        raise ValueError("task_idx, worker_idx and label_idx must be 1-d and of one length")
    bounds = {"task": n_tasks, "worker": n_workers, "label": n_classes}
    for a, (name, bound) in zip(arrays, bounds.items(), strict=True):
        if a.size and (not np.issubdtype(a.dtype, np.integer) or a.min() < 0 or a.max() >= bound):
            raise ValueError(f"{name} indices must be integers in [0, {bound})")
    tasks, workers, labels = (a.astype(np.int64, copy=False) for a in arrays)
    columns = workers * n_classes + labels
    shape = (n_tasks, n_workers * n_classes)
    # COO -> CSR sums repeated (task, worker, label) entries: each counts as one more answer.
    by_task = sparse.csr_matrix((np.ones(tasks.size), (tasks, columns)), shape=shape)
    return _Answers(by_task, by_task.T, n_workers, n_classes, int(tasks.size))


def gold_labels(
    gold: Mapping[int, int] | np.ndarray | None, n_tasks: int, n_classes: int
) -> np.ndarray:
    """Gold as an (n_tasks,) int array: the known class, or -1 where it is unknown.

    Accepts a mapping task index -> class, or such an array already.
    """
    out = np.full(n_tasks, -1, dtype=np.int64)
    if isinstance(gold, Mapping):
        tasks = np.fromiter(gold.keys(), np.int64, count=len(gold))
        if tasks.size and (tasks.min() < 0 or tasks.max() >= n_tasks):
            raise ValueError("gold task index out of range")
        out[tasks] = np.fromiter(gold.values(), np.int64, count=len(gold))
    elif gold is not None:
        arr = np.asarray(gold, dtype=np.int64)
        if arr.shape != (n_tasks,):
            raise ValueError("a gold array needs one entry per task (-1 for unknown)")
        out[:] = arr
    if out.max(initial=-1) >= n_classes:
        raise ValueError("gold class out of range")
    return out


def _clamp(post: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """Fix each gold task's posterior to one-hot on its known class (in place)."""
    rows = np.flatnonzero(gold >= 0)
    post[rows] = 0.0
    post[rows, gold[rows]] = 1.0
    return post


def _row_max(scores: np.ndarray) -> np.ndarray:
    """Max of each row, as a loop over the K columns (numpy's axis=1 max is slow for small K)."""
    top = scores[:, 0].copy()
    for k in range(1, scores.shape[1]):
        np.maximum(top, scores[:, k], out=top)
    return top


def _row_argmax(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index and value of each row's maximum, the lowest index on ties (a loop over K columns)."""
    best, index = scores[:, 0].copy(), np.zeros(scores.shape[0], dtype=np.int64)
    for k in range(1, scores.shape[1]):
        better = scores[:, k] > best
        index[better] = k
        best[better] = scores[better, k]
    return index, best


def _softmax_rows(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise softmax of log-scores, in place, and each row's log normaliser (log-sum-exp)."""
    top = _row_max(scores)
    scores -= top[:, None]
    np.exp(scores, out=scores)
    norm = np.einsum("tk->t", scores)  # einsum, not BLAS: a K-wide gemv is slow when threaded
    scores /= norm[:, None]
    return scores, top + np.log(norm)


def _votes(ans: _Answers, worker_weight: np.ndarray) -> np.ndarray:
    """(n_tasks, K) weighted votes per class: A @ (weight_w * I_K stacked over workers)."""
    k = ans.n_classes
    spread = (worker_weight[:, None, None] * np.eye(k)[None]).reshape(ans.n_workers * k, k)
    return np.asarray(ans.by_task @ spread)


def vote_shares(
    task_idx: np.ndarray,
    worker_idx: np.ndarray,
    label_idx: np.ndarray,
    n_tasks: int,
    n_workers: int,
    n_classes: int,
) -> np.ndarray:
    """Majority vote as (n_tasks, K) shares of the votes; a task without votes gets 1/K each."""
    ans = _answers(task_idx, worker_idx, label_idx, n_tasks, n_workers, n_classes)
    return _initial_posteriors(ans, gold_labels(None, n_tasks, n_classes), None)


def _initial_posteriors(
    ans: _Answers, gold: np.ndarray, worker_accuracy: np.ndarray | None
) -> np.ndarray:
    """Soft majority vote: vote shares; or, given accuracies, the one-coin posterior
    softmax(sum of log-odds weights) under a uniform prior. Gold clamped."""
    k = ans.n_classes
    if worker_accuracy is None:
        votes = _votes(ans, np.ones(ans.n_workers))
        total = np.einsum("tk->t", votes)[:, None]
        post = np.divide(votes, total, out=np.full_like(votes, 1.0 / k), where=total > 0)
    else:
        accuracy = np.asarray(worker_accuracy, dtype=float)
        if accuracy.shape != (ans.n_workers,):
            raise ValueError("worker_accuracy needs one entry per worker")
        weights = log_odds_weights(accuracy, k)
        post, _ = _softmax_rows(_votes(ans, weights))
    return _clamp(post, gold)


def expected_counts(ans: _Answers, post: np.ndarray) -> np.ndarray:
    """N[w, c, l] = sum of T_t[c] over the tasks where w answered l: A.T @ T, reshaped."""
    k = ans.n_classes
    return np.asarray(ans.by_pair @ post).reshape(ans.n_workers, k, k).transpose(0, 2, 1)


def _normalise_rows(counts: np.ndarray) -> np.ndarray:
    rows: np.ndarray = counts / counts.sum(axis=-1, keepdims=True)
    return rows


def full_confusion(counts: np.ndarray, pseudo_count: float) -> np.ndarray:
    """pi_w[c, .] = (N_w[c, .] + a) / (n_wc + K a)."""
    return _normalise_rows(counts + pseudo_count)


def coin_accuracy(counts: np.ndarray, pseudo: tuple[float, float]) -> np.ndarray:
    """s_w = (expected right answers + a1) / (answers + a1 + a0)."""
    right, wrong = pseudo
    expected_right = np.einsum("wcc->w", counts)
    accuracy: np.ndarray = (expected_right + right) / (counts.sum(axis=(1, 2)) + right + wrong)
    return accuracy


def coin_confusion(accuracy: np.ndarray, n_classes: int) -> np.ndarray:
    """One-coin matrices: s_w on the diagonal, (1 - s_w) / (K - 1) elsewhere."""
    s = accuracy[:, None, None]
    eye = np.eye(n_classes)[None]
    return s * eye + (1.0 - s) / (n_classes - 1) * (1.0 - eye)


def average_worker(counts: np.ndarray) -> np.ndarray:
    """pibar: mean over workers with answers of their rows (N_w + 1/K) normalised; uniform if none."""
    k = counts.shape[-1]
    active = counts.sum(axis=(1, 2)) > 0
    if not active.any():
        return np.full((k, k), 1.0 / k)
    pibar: np.ndarray = _normalise_rows(counts[active] + 1.0 / k).mean(axis=0)
    return pibar


def hybrid_confusion(counts: np.ndarray, strength: float) -> np.ndarray:
    """pi_w[c, .] = (N_w[c, .] + m pibar[c, .]) / (n_wc + m): shrunk to the average worker."""
    return _normalise_rows(counts + strength * average_worker(counts)[None])


def _hybrid_step(
    counts: np.ndarray, strength: float | None, start: float
) -> tuple[np.ndarray, float]:
    """Hybrid matrices with a fixed m, or with m estimated from ``counts`` starting at ``start``."""
    pibar = average_worker(counts)
    m = shrinkage_strength(counts, pibar, start) if strength is None else strength
    return _normalise_rows(counts + m * pibar[None]), m


def class_priors(post: np.ndarray, observed: np.ndarray, pseudo_count: float) -> np.ndarray:
    """rho_c = (sum over observed tasks of T_t[c] + beta) / (n_observed + K beta); ``observed``
    is 1.0 for a task with answers or gold, else 0.0."""
    totals = np.einsum("t,tk->k", observed, post) + pseudo_count
    priors: np.ndarray = totals / totals.sum()
    return priors


def _m_step(
    ans: _Answers, post: np.ndarray, method: Method, smoothing: _Smoothing, strength: float | None
) -> tuple[np.ndarray, np.ndarray, float | None]:
    """Confusion matrices, one-coin accuracies and the hybrid's m (else None) from the current
    posteriors; ``strength`` is the previous iteration's m, where its estimate starts."""
    counts = expected_counts(ans, post)
    coin = coin_accuracy(counts, smoothing.coin)
    if method == "one_coin":
        return coin_confusion(coin, ans.n_classes), coin, None
    if method == "full":
        return full_confusion(counts, smoothing.confusion), coin, None
    start = SHRINKAGE_ANSWERS if strength is None else strength
    confusion, m = _hybrid_step(counts, smoothing.shrinkage, start)
    return confusion, coin, m


def _e_step(
    ans: _Answers, confusion: np.ndarray, prior: np.ndarray, gold: np.ndarray
) -> tuple[np.ndarray, float]:
    """Posteriors from scores = log rho + A @ log pi, and log P(answers | parameters)."""
    k = ans.n_classes
    log_pi = np.log(np.maximum(confusion, _TINY)).transpose(0, 2, 1).reshape(-1, k)
    scores = np.asarray(ans.by_task @ log_pi)
    scores += np.log(np.maximum(prior, _TINY))
    rows = np.flatnonzero(gold >= 0)
    gold_scores = scores[rows, gold[rows]]  # a gold task's class is observed, not summed over
    post, log_z = _softmax_rows(scores)
    log_z[rows] = gold_scores
    return _clamp(post, gold), float(log_z.sum())


def dawid_skene(
    task_idx: np.ndarray,
    worker_idx: np.ndarray,
    label_idx: np.ndarray,
    n_tasks: int,
    n_workers: int,
    n_classes: int,
    *,
    method: Method = DEFAULT_METHOD,
    gold: Mapping[int, int] | np.ndarray | None = None,
    worker_accuracy: np.ndarray | None = None,
    tol: float = 1e-6,
    max_iter: int = 100,
    confusion_pseudo_count: float = CONFUSION_PSEUDO_COUNT,
    coin_pseudo_counts: tuple[float, float] = COIN_PSEUDO_COUNTS,
    shrinkage_answers: float | None = None,
    prior_pseudo_count: float = PRIOR_PSEUDO_COUNT,
) -> DawidSkeneResult:
    """Fit Dawid–Skene by EM; answer i says worker_idx[i] gave label_idx[i] on task_idx[i].

    ``method``: "full" (own K x K matrix per worker), "one_coin" (one accuracy per worker) or
    "hybrid" (full, shrunk towards the average worker with the weight of ``shrinkage_answers``
    answers per row, estimated from the answers when None; DEFAULT_METHOD). ``gold``: task index ->
    known class (mapping, or an (n_tasks,) array with -1 for unknown), clamped in every E-step.
    ``worker_accuracy``: optional (n_workers,) prior accuracies (e.g. the platform's Beta skill)
    that weight the initial majority vote. Stops when the log-likelihood per answer moves by less
    than ``tol``, or after ``max_iter`` iterations.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}")
    if max_iter < 1:
        raise ValueError("max_iter must be at least 1")
    ans = _answers(task_idx, worker_idx, label_idx, n_tasks, n_workers, n_classes)
    gold_arr = gold_labels(gold, n_tasks, n_classes)
    smoothing = _Smoothing(
        confusion_pseudo_count, coin_pseudo_counts, shrinkage_answers, prior_pseudo_count
    )
    if n_classes == 1:
        return _one_class(method, ans)
    observed = ((np.diff(ans.by_task.indptr) > 0) | (gold_arr >= 0)).astype(float)
    post = _initial_posteriors(ans, gold_arr, worker_accuracy)
    log_lik, converged, iterations, strength = -np.inf, False, 0, None
    while not converged and iterations < max_iter:
        iterations += 1
        confusion, coin, strength = _m_step(ans, post, method, smoothing, strength)
        prior = class_priors(post, observed, smoothing.prior)
        post, new_log_lik = _e_step(ans, confusion, prior, gold_arr)
        converged = abs(new_log_lik - log_lik) < tol * max(ans.n_answers, 1)
        log_lik = new_log_lik
    accuracy = coin if method == "one_coin" else np.einsum("c,wcc->w", prior, confusion)
    result = _result(method, ans, post, confusion, accuracy, prior, iterations, converged, log_lik)
    return replace(result, shrinkage=strength)


def _one_class(method: Method, ans: _Answers) -> DawidSkeneResult:
    """With a single class there is nothing to infer: every task is that class for certain and
    no answer can be wrong (the EM would divide by K - 1 = 0 in one_coin)."""
    n_tasks, n_workers = ans.by_task.shape[0], ans.n_workers
    post = np.ones((n_tasks, 1))
    confusion = np.ones((n_workers, 1, 1))
    return _result(method, ans, post, confusion, np.ones(n_workers), np.ones(1), 0, True, 0.0)


def _result(
    method: Method,
    ans: _Answers,
    post: np.ndarray,
    confusion: np.ndarray,
    accuracy: np.ndarray,
    prior: np.ndarray,
    iterations: int,
    converged: bool,
    log_lik: float,
) -> DawidSkeneResult:
    labels, confidence = _row_argmax(post)
    per_worker = np.asarray(ans.by_pair.sum(axis=1))[:, 0].reshape(ans.n_workers, ans.n_classes)
    return DawidSkeneResult(
        method=method,
        posteriors=post,
        labels=labels,
        confidence=confidence,
        class_priors=prior,
        confusion=confusion,
        accuracy=accuracy,
        weights=log_odds_weights(accuracy, ans.n_classes),
        answers_per_worker=per_worker.sum(axis=1).astype(np.int64),
        iterations=iterations,
        converged=converged,
        log_likelihood=log_lik / max(ans.n_answers, 1),
    )

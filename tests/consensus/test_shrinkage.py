"""The hybrid's shrinkage strength: type-II maximum likelihood of a Dirichlet-multinomial."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import gammaln

from consensus.algorithms.shrinkage import MAX_STRENGTH, MIN_STRENGTH, shrinkage_strength


def log_likelihood(counts: np.ndarray, mean: np.ndarray, m: float) -> float:
    """L(m) written out with log-gamma, over the rows that have answers."""
    total = 0.0
    for row_counts, row_mean in zip(
        counts.reshape(-1, counts.shape[-1]), np.tile(mean, (counts.shape[0], 1)), strict=True
    ):
        if row_counts.sum() == 0:
            continue
        a = m * row_mean
        total += gammaln(m) - gammaln(row_counts.sum() + m)
        total += np.sum(gammaln(row_counts + a) - gammaln(a))
    return float(total)


def worker_counts(seed: int, confusions: np.ndarray, per_row: int) -> np.ndarray:
    """(W, K, K) answer counts: each worker answers ``per_row`` tasks of each true class."""
    rng = np.random.default_rng(seed)
    return np.array([[rng.multinomial(per_row, row) for row in conf] for conf in confusions], float)


def test_the_estimate_is_the_maximum_of_the_likelihood():
    # given workers whose confusion rows scatter around a common mean
    rng = np.random.default_rng(0)
    mean = np.array([[0.7, 0.2, 0.1], [0.15, 0.75, 0.1], [0.1, 0.2, 0.7]])
    confusions = np.array([[rng.dirichlet(8 * row) for row in mean] for _ in range(40)])
    counts = worker_counts(1, confusions, 30)
    # when m is estimated from a poor start, as the first EM iteration does
    m = shrinkage_strength(counts, mean, start=100.0)
    for _ in range(30):  # each call takes one Newton step, as one EM iteration does
        m = shrinkage_strength(counts, mean, start=m)
    # then no nearby m is more likely, and it lands near the 8 the rows were drawn with
    best = log_likelihood(counts, mean, m)
    assert best >= log_likelihood(counts, mean, m * 1.05)
    assert best >= log_likelihood(counts, mean, m / 1.05)
    assert 4 < m < 16


def settled(counts: np.ndarray, mean: np.ndarray) -> float:
    """m after 60 EM-like calls, each one Newton step from the last."""
    m = 5.0
    for _ in range(60):
        m = shrinkage_strength(counts, mean, start=m)
    return m


def test_identical_workers_are_pooled_and_opposite_ones_are_not():
    # given 30 workers drawn from one matrix, and 30 of whom half are always right and half always
    # wrong; each time the prior mean is their average worker
    matrix = np.array([[0.8, 0.2], [0.2, 0.8]])
    same = worker_counts(2, np.tile(matrix, (30, 1, 1)), 50)
    opposite = worker_counts(2, np.array([np.eye(2), 1 - np.eye(2)] * 15), 50)
    # then the first are judged as one average worker, the second each by their own answers
    assert settled(same, matrix) > 30
    assert settled(opposite, np.full((2, 2), 0.5)) == pytest.approx(MIN_STRENGTH)


def test_without_answers_the_start_is_kept_within_bounds():
    empty = np.zeros((3, 2, 2))
    mean = np.full((2, 2), 0.5)
    assert shrinkage_strength(empty, mean, start=3.0) == pytest.approx(3.0)
    assert shrinkage_strength(empty, mean, start=1e9) == pytest.approx(MAX_STRENGTH)

"""Dawid–Skene EM: one iteration checked by hand, spammers, gold, empty tasks, invariances."""

from __future__ import annotations

from fractions import Fraction as F
from typing import Any

import numpy as np
import pytest

from consensus.algorithms.dawid_skene import (
    DEFAULT_METHOD,
    METHODS,
    DawidSkeneResult,
    dawid_skene,
    vote_shares,
)

# The toy: 2 classes, 3 workers A=0, B=1, C=2, 3 tasks.
#   task 0: A says 0, B says 0, C says 1
#   task 1: A says 1, B says 1, C says 1
#   task 2: A says 0, B says 1           (C did not answer)
TOY = (np.array([0, 0, 0, 1, 1, 1, 2, 2]), np.array([0, 1, 2, 0, 1, 2, 0, 1]))
TOY_LABELS = np.array([0, 0, 1, 1, 1, 1, 0, 1])


def fit_toy(**kwargs: Any) -> DawidSkeneResult:
    tasks, workers = TOY
    return dawid_skene(tasks, workers, TOY_LABELS, 3, 3, 2, **kwargs)


def hand_e_step(prior: list[F], conf: dict[int, list[list[F]]]) -> list[list[F]]:
    """Posterior of each toy task: rho_c * prod over its answers of pi_w[c, l], normalised."""
    post = []
    for t in range(3):
        like = list(prior)
        for task, worker, label in zip(*TOY, TOY_LABELS, strict=True):
            if task == t:
                like = [like[c] * conf[int(worker)][c][int(label)] for c in range(2)]
        post.append([x / sum(like) for x in like])
    return post


def test_one_full_iteration_matches_the_hand_computation():
    # Start: vote shares T0 = (2/3, 1/3), T1 = (0, 1), T2 = (1/2, 1/2).
    # Expected counts of A: N_A[0, 0] = T0[0] + T2[0] = 7/6, N_A[1, 0] = 5/6, N_A[0, 1] = 0, N_A[1, 1] = 1
    # With Laplace pseudo-count 1: pi_A[0] = (13/6, 1) / (19/6), pi_A[1] = (11/6, 2) / (23/6).
    conf = {
        0: [[F(13, 19), F(6, 19)], [F(11, 23), F(12, 23)]],
        1: [[F(10, 19), F(9, 19)], [F(8, 23), F(15, 23)]],
        2: [[F(1) / F(8, 3), F(5, 3) / F(8, 3)], [F(1) / F(10, 3), F(7, 3) / F(10, 3)]],
    }
    # B said 0 on task 0 and 1 on tasks 1, 2: N_B[0] = (2/3, 1/2), N_B[1] = (1/3, 3/2),
    #   so pi_B[0] = (5/3, 3/2) / (19/6) and pi_B[1] = (4/3, 5/2) / (23/6).
    # C said 1 on tasks 0, 1: N_C[0] = (0, 2/3), N_C[1] = (0, 4/3), so pi_C[0] = (1, 5/3) / (8/3).
    # Class prior with pseudo-count 1: (7/6 + 1, 11/6 + 1) / 5.
    prior = [F(13, 30), F(17, 30)]
    expected = hand_e_step(prior, conf)

    result = fit_toy(method="full", max_iter=1)

    assert result.iterations == 1
    np.testing.assert_allclose(result.class_priors, [float(p) for p in prior], rtol=1e-12)
    for w, rows in conf.items():
        np.testing.assert_allclose(result.confusion[w], np.array(rows, dtype=float), rtol=1e-12)
    np.testing.assert_allclose(result.posteriors, np.array(expected, dtype=float), rtol=1e-12)
    np.testing.assert_array_equal(result.labels, np.argmax(result.posteriors, axis=1))
    np.testing.assert_allclose(result.confidence, result.posteriors.max(axis=1))


def test_one_one_coin_iteration_matches_the_hand_computation():
    # s_w = (sum_c N_w[c, c] + 1) / (n_w + 2):
    #   A: (7/6 + 1 + 1) / 5 = 19/30;  B: (2/3 + 3/2 + 1) / 5 = 19/30;  C: (4/3 + 1) / 4 = 7/12
    s = {0: F(19, 30), 1: F(19, 30), 2: F(7, 12)}
    conf = {w: [[p, 1 - p], [1 - p, p]] for w, p in s.items()}
    expected = hand_e_step([F(13, 30), F(17, 30)], conf)

    result = fit_toy(method="one_coin", max_iter=1)

    np.testing.assert_allclose(result.accuracy, [float(p) for p in s.values()], rtol=1e-12)
    np.testing.assert_allclose(result.posteriors, np.array(expected, dtype=float), rtol=1e-12)


def test_hybrid_shrinks_each_worker_towards_the_average_worker_by_hand():
    # Every task gold, so the expected counts are plain counts:
    #   A: N_A = [[2, 0], [0, 1]] (always right);  B: N_B = [[0, 2], [1, 0]] (always wrong).
    # Average worker: mean of (N_w + 1/2) row-normalised:
    #   A -> [[5/6, 1/6], [1/4, 3/4]],  B -> [[1/6, 5/6], [3/4, 1/4]]  => pibar = 1/2 everywhere.
    # pi_A[0] = ((2, 0) + 5 * (1/2, 1/2)) / 7 = (9/14, 5/14);  pi_A[1] = (5/12, 7/12).
    tasks = np.array([0, 1, 2, 0, 1, 2])
    workers = np.array([0, 0, 0, 1, 1, 1])
    labels = np.array([0, 0, 1, 1, 1, 0])
    result = dawid_skene(
        tasks,
        workers,
        labels,
        3,
        2,
        2,
        method="hybrid",
        gold=np.array([0, 0, 1]),
        max_iter=1,
        shrinkage_answers=5.0,
    )
    assert result.shrinkage == 5.0
    np.testing.assert_allclose(result.confusion[0], [[9 / 14, 5 / 14], [5 / 12, 7 / 12]])
    np.testing.assert_allclose(result.confusion[1], [[5 / 14, 9 / 14], [7 / 12, 5 / 12]])


def crowd(
    seed: int, n_tasks: int, accuracies: list[float], k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every worker answers every task; accuracy p, errors uniform; p = None is a uniform spammer."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n_tasks)
    tasks, workers, labels = [], [], []
    for w, p in enumerate(accuracies):
        right = rng.random(n_tasks) < p
        wrong = (truth + rng.integers(1, k, n_tasks)) % k
        tasks.append(np.arange(n_tasks))
        workers.append(np.full(n_tasks, w))
        labels.append(np.where(right, truth, wrong))
    return np.concatenate(tasks), np.concatenate(workers), np.concatenate(labels), truth


@pytest.mark.parametrize("method", METHODS)
def test_a_spammer_ends_near_chance_with_near_zero_weight(method: str):
    k = 3
    tasks, workers, labels, truth = crowd(1, 600, [0.85, 0.8, 0.75, 0.8, 1 / k], k)
    result = dawid_skene(tasks, workers, labels, 600, 5, k, method=method)

    spammer = 4
    assert result.accuracy[spammer] == pytest.approx(1 / k, abs=0.05)
    assert abs(result.weights[spammer]) < 0.25
    assert np.all(result.weights[:spammer] > 1.5)
    if method != "one_coin":
        np.testing.assert_allclose(result.confusion[spammer], 1 / k, atol=0.08)
    assert result.converged
    assert np.mean(result.labels == truth) > 0.9


@pytest.mark.parametrize("method", METHODS)
def test_gold_fixes_a_task_and_pulls_a_worker_the_crowd_disagrees_with(method: str):
    # Workers 0 and 1 answer the opposite of worker 2 on every one of 20 tasks. Without gold the
    # majority wins; with the first 6 tasks gold on worker 2's side, worker 2 becomes the expert.
    n = 20
    tasks = np.tile(np.arange(n), 3)
    workers = np.repeat([0, 1, 2], n)
    expert = np.arange(n) % 2
    labels = np.concatenate([1 - expert, 1 - expert, expert])
    gold = {t: int(expert[t]) for t in range(6)}

    free = dawid_skene(tasks, workers, labels, n, 3, 2, method=method)
    clamped = dawid_skene(tasks, workers, labels, n, 3, 2, method=method, gold=gold)

    np.testing.assert_array_equal(free.labels, 1 - expert)
    assert free.accuracy[2] < 0.3
    np.testing.assert_array_equal(clamped.posteriors[:6], np.eye(2)[expert[:6]])
    assert np.all(clamped.confidence[:6] == 1.0)
    assert clamped.accuracy[2] > 0.7 > clamped.accuracy[0]
    np.testing.assert_array_equal(clamped.labels, expert)


def test_gold_as_an_array_equals_gold_as_a_mapping():
    as_map = fit_toy(gold={2: 1})
    as_array = fit_toy(gold=np.array([-1, -1, 1]))
    np.testing.assert_array_equal(as_map.posteriors, as_array.posteriors)
    assert as_map.labels[2] == 1


@pytest.mark.parametrize("method", METHODS)
def test_a_task_without_answers_gets_the_class_prior(method: str):
    k = 3
    tasks, workers, labels, _ = crowd(2, 50, [0.9, 0.7, 0.6], k)
    result = dawid_skene(tasks, workers, labels, 51, 4, k, method=method)  # task 50, worker 3 idle

    np.testing.assert_allclose(result.posteriors[50], result.class_priors, rtol=1e-12)
    assert result.labels[50] == np.argmax(result.class_priors)
    assert result.confidence[50] == pytest.approx(result.class_priors.max())
    assert result.answers_per_worker.tolist() == [50, 50, 50, 0]
    np.testing.assert_allclose(result.confusion.sum(axis=2), 1.0)


@pytest.mark.parametrize("method", ["full", "one_coin"])
def test_a_worker_with_one_right_answer_stays_near_the_pseudo_counts(method: str):
    k = 3
    tasks, workers, labels, truth = crowd(3, 200, [0.9, 0.85, 0.8], k)
    one = dawid_skene(
        np.append(tasks, 0),
        np.append(workers, 3),
        np.append(labels, truth[0]),
        200,
        4,
        k,
        method=method,
    )
    # full: a row holds at most (1 + 1) / (1 + 3) = 1/2; one-coin: s <= (1 + 1) / (1 + 2) = 2/3.
    assert one.confusion[3].max() <= (0.5 if method == "full" else 2 / 3) + 1e-9
    assert one.weights[3] < one.weights[:3].min()


def test_hybrid_judges_a_worker_with_one_answer_like_the_average_worker():
    k = 3
    tasks, workers, labels, truth = crowd(3, 200, [0.9, 0.85, 0.8], k)
    one = dawid_skene(
        np.append(tasks, 0),
        np.append(workers, 3),
        np.append(labels, truth[0]),
        200,
        4,
        k,
        method="hybrid",
    )
    # Its rows are (own counts + m * pibar) / (own answers + m): mostly the average worker's,
    # where pibar averages every worker with answers, itself included (with near-uniform rows).
    assert one.confusion[3].max() < 0.9
    assert 0 < one.weights[3] < one.weights[:3].min()
    assert one.accuracy[3] == pytest.approx(one.accuracy[:3].mean(), abs=0.15)


def test_no_answers_at_all_gives_uniform_posteriors():
    empty = np.array([], dtype=np.int64)
    result = dawid_skene(empty, empty, empty, 4, 0, 3)
    np.testing.assert_allclose(result.posteriors, 1 / 3)
    assert result.labels.tolist() == [0, 0, 0, 0]


@pytest.mark.parametrize("method", METHODS)
def test_the_order_of_answers_does_not_change_the_result(method: str):
    tasks, workers, labels, _ = crowd(4, 300, [0.9, 0.6, 0.5, 0.7], 4)
    order = np.random.default_rng(5).permutation(tasks.size)
    a = dawid_skene(tasks, workers, labels, 300, 4, 4, method=method, gold={0: 1})
    b = dawid_skene(
        tasks[order], workers[order], labels[order], 300, 4, 4, method=method, gold={0: 1}
    )
    assert a.iterations == b.iterations
    np.testing.assert_allclose(a.posteriors, b.posteriors, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.confusion, b.confusion, rtol=1e-9)


def test_initial_accuracies_break_a_symmetric_disagreement():
    # Two workers disagree on every task: only the starting skills can tell who is right.
    tasks = np.tile(np.arange(10), 2)
    workers = np.repeat([0, 1], 10)
    labels = np.concatenate([np.zeros(10, int), np.ones(10, int)])
    for method in METHODS:
        unweighted = dawid_skene(tasks, workers, labels, 10, 2, 2, method=method)
        trust_0 = dawid_skene(
            tasks, workers, labels, 10, 2, 2, method=method, worker_accuracy=np.array([0.9, 0.6])
        )
        trust_1 = dawid_skene(
            tasks, workers, labels, 10, 2, 2, method=method, worker_accuracy=np.array([0.6, 0.9])
        )
        np.testing.assert_allclose(unweighted.posteriors, 0.5)  # a tie, to the lowest class
        assert unweighted.labels.tolist() == [0] * 10
        assert trust_0.labels.tolist() == [0] * 10
        assert trust_1.labels.tolist() == [1] * 10


def test_vote_shares():
    tasks, workers = TOY
    shares = vote_shares(
        np.append(tasks, 2), np.append(workers, 2), np.append(TOY_LABELS, 1), 4, 3, 2
    )
    np.testing.assert_allclose(shares, [[2 / 3, 1 / 3], [0, 1], [1 / 3, 2 / 3], [0.5, 0.5]])


def test_the_default_method_is_named_and_valid():
    assert DEFAULT_METHOD in METHODS
    assert fit_toy().method == DEFAULT_METHOD


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_classes": 0}, "one class"),
        ({"n_tasks": 2}, "task indices"),
        ({"method": "glad"}, "method"),
        ({"gold": {0: 5}}, "gold"),
        ({"gold": {7: 1}}, "gold"),
        ({"gold": {-1: 1}}, "gold"),
        ({"worker_accuracy": np.array([0.9, 0.8])}, "worker_accuracy"),
        ({"max_iter": 0}, "max_iter"),
    ],
)
def test_bad_input_is_refused(kwargs: dict, message: str):
    args = {"n_tasks": 3, "n_workers": 3, "n_classes": 2} | kwargs
    tasks, workers = TOY
    with pytest.raises(ValueError, match=message):
        dawid_skene(tasks, workers, TOY_LABELS, **args)


@pytest.mark.parametrize("method", METHODS)
def test_a_single_class_is_a_trivial_consensus(method):
    # given three workers who all chose class 0 on two tasks, one of them gold
    tasks, workers = np.array([0, 0, 1, 1]), np.array([0, 1, 1, 2])
    # when
    result = dawid_skene(
        tasks, workers, np.zeros(4, dtype=int), 2, 3, 1, method=method, gold={0: 0}
    )
    # then every task is that class for certain, and no worker can have been wrong
    assert result.labels.tolist() == [0, 0]
    assert result.confidence.tolist() == [1.0, 1.0]
    assert result.accuracy.tolist() == [1.0, 1.0, 1.0]
    assert result.answers_per_worker.tolist() == [1, 2, 1]
    assert result.converged


def test_hybrid_estimates_its_shrinkage_from_how_alike_the_workers_are():
    # given two crowds of 8 workers on 300 tasks: in one every worker is 80 % right, in the other
    # half are 95 % right and half 55 %
    k = 3
    alike = crowd(5, 300, [0.8] * 8, k)
    unalike = crowd(5, 300, [0.95, 0.55] * 4, k)
    # when the hybrid fits each with its strength estimated
    fits = [dawid_skene(t, w, lab, 300, 8, k) for t, w, lab, _ in (alike, unalike)]
    # then workers who answer alike are pooled more strongly than workers who differ
    assert fits[0].shrinkage > 4 * fits[1].shrinkage
    assert fits[1].shrinkage < 20
    # and the experts of the second crowd keep their own, higher accuracies
    assert fits[1].accuracy[0::2].min() > fits[1].accuracy[1::2].max() + 0.2


@pytest.mark.parametrize("method", ["full", "one_coin"])
def test_only_the_hybrid_reports_a_shrinkage(method: str):
    assert fit_toy(method=method).shrinkage is None
    assert fit_toy(method="hybrid").shrinkage > 0

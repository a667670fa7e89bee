"""The pure voting algorithm: weights, posterior, ties."""

import math

import numpy as np
import pytest

from consensus.algorithms.classification import log_odds_weights, weighted_share, weighted_vote
from consensus.algorithms.skill import BetaSkill


def test_a_worker_at_chance_has_zero_weight():
    assert log_odds_weights(np.array([1 / 3]), 3)[0] == pytest.approx(0.0, abs=1e-12)


def test_a_skilled_minority_outvotes_a_crowd_of_near_random_workers():
    outcome = weighted_vote(["taxi", "car", "car"], [0.98, 0.4, 0.4], ["car", "taxi", "truck"])
    assert outcome.label == "taxi"


def test_the_posterior_matches_the_one_coin_model_by_hand():
    # Two workers with p = 0.8 say "car", one with p = 0.6 says "taxi"; K = 2.
    outcome = weighted_vote(["car", "car", "taxi"], [0.8, 0.8, 0.6], ["car", "taxi"])
    car = 0.8 * 0.8 * 0.4
    taxi = 0.2 * 0.2 * 0.6
    assert outcome.confidence == pytest.approx(car / (car + taxi))


def test_a_tie_goes_to_the_first_listed_class_with_confidence_one_half():
    outcome = weighted_vote(["taxi", "car"], [0.8, 0.8], ["car", "taxi"])
    assert outcome.label == "car"
    assert outcome.confidence == pytest.approx(0.5)


def test_certain_workers_do_not_produce_infinite_weights():
    outcome = weighted_vote(["car", "taxi"], [1.0, 0.0], ["car", "taxi"])
    assert all(math.isfinite(w) for w in outcome.weights)


def test_no_votes_is_a_programming_error():
    with pytest.raises(ValueError, match="at least one vote"):
        weighted_vote([], [], ["car"])


def test_weighted_share_ignores_negative_weights():
    share = weighted_share([["violence"], []], [2.0, -5.0], ["violence"])
    assert share["violence"] == pytest.approx(1.0)


def test_gold_evidence_moves_skill_more_than_agreement():
    prior = BetaSkill()
    assert prior.observe(0.0, 1.0).accuracy < prior.observe(0.0, 0.25).accuracy < prior.accuracy

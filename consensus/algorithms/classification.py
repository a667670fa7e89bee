"""Skill-weighted voting over class labels.

Each worker i is modelled by one coin: with probability p_i they give the true label, otherwise one
of the K-1 others uniformly. With a uniform prior over labels, the posterior of label y is

    P(y | votes) ∝ Π_i  p_i^[v_i = y] · ((1 - p_i)/(K - 1))^[v_i ≠ y]
                 ∝ exp( Σ_{i: v_i = y} w_i ),   w_i = log((K - 1) p_i / (1 - p_i)),

so the vote is a log-odds-weighted count and the confidence is the winner's posterior. A worker at
chance (p = 1/K) has weight 0; a spammer therefore stops counting as their estimated p falls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

ACCURACY_FLOOR, ACCURACY_CEILING = 1e-3, 1 - 1e-3


@dataclass(frozen=True)
class VoteOutcome:
    label: str
    confidence: float
    posterior: dict[str, float]
    weights: list[float]


def log_odds_weights(accuracies: np.ndarray, n_classes: int) -> np.ndarray:
    """w_i = log((K-1) p_i / (1-p_i)), with p clipped away from 0 and 1 so no weight is infinite."""
    p = np.clip(np.asarray(accuracies, dtype=float), ACCURACY_FLOOR, ACCURACY_CEILING)
    weights: np.ndarray = np.log((max(n_classes, 2) - 1) * p / (1 - p))
    return weights


def weighted_vote(
    votes: Sequence[str], accuracies: Sequence[float], classes: Sequence[str]
) -> VoteOutcome:
    """Posterior over ``classes`` given one vote per worker and each worker's accuracy.

    Ties go to the class listed first in ``classes``, so the outcome is deterministic.
    """
    if not votes:
        raise ValueError("weighted_vote needs at least one vote")
    index = {name: k for k, name in enumerate(classes)}
    weights = log_odds_weights(np.asarray(accuracies), len(classes))
    scores = np.zeros(len(classes))
    np.add.at(scores, [index[v] for v in votes], weights)
    posterior = np.exp(scores - scores.max())
    posterior /= posterior.sum()
    winner = int(np.argmax(posterior))
    return VoteOutcome(
        label=classes[winner],
        confidence=float(posterior[winner]),
        posterior={name: float(posterior[k]) for k, name in enumerate(classes)},
        weights=[float(w) for w in weights],
    )


def weighted_share(
    members: Sequence[Sequence[str]], weights: Sequence[float], options: Sequence[str]
) -> dict[str, float]:
    """For multi-choice answers (moderation categories): the weighted share of voters choosing
    each option, with weights clipped at zero so a worse-than-chance worker cannot vote 'against'."""
    w = np.clip(np.asarray(weights, dtype=float), 0.0, None)
    total = w.sum()
    if total <= 0:
        return dict.fromkeys(options, 0.0)
    return {
        opt: float(sum(wi for wi, chosen in zip(w, members, strict=True) if opt in chosen) / total)
        for opt in options
    }

"""Worker skill as a Beta posterior over accuracy.

A new worker starts from Beta(PRIOR_ALPHA, PRIOR_BETA) (mean 0.8, worth five answers). A graded gold
answer adds GOLD_WEIGHT to alpha (correct) or beta (wrong); agreeing or disagreeing with an accepted
consensus adds the much smaller AGREEMENT_WEIGHT, because the consensus may itself be wrong and
counting it fully would let a confident majority entrench its own errors.
"""

from __future__ import annotations

from dataclasses import dataclass

PRIOR_ALPHA, PRIOR_BETA = 4.0, 1.0
GOLD_WEIGHT = 1.0
AGREEMENT_WEIGHT = 0.25


@dataclass(frozen=True)
class BetaSkill:
    alpha: float = PRIOR_ALPHA
    beta: float = PRIOR_BETA

    @property
    def accuracy(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    def observe(self, grade: float, weight: float) -> BetaSkill:
        """Add one graded observation (grade in [0, 1]) with the given evidence weight."""
        grade = min(max(grade, 0.0), 1.0)
        return BetaSkill(self.alpha + weight * grade, self.beta + weight * (1.0 - grade))

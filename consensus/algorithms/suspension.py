"""When a worker's gold record is bad enough to suspend them from a project.

The raw share of gold answered right is a poor judge after a dozen golds: an honest worker
unlucky on a few hard ones looks like a spammer. So the rule uses a confidence bound
(docs/reliability.md C8): suspend only when even the optimistic end of the Wilson score interval of the worker's gold
accuracy lies below the threshold, that is when the lower confidence bound of their *error* rate
is above ``1 - threshold``. With the defaults (at least 10 golds, threshold 0.5) that suspends at
2/10, 3/12, 4/16 right, and never a worker at half or better.
"""

from __future__ import annotations

from .intervals import wilson_bounds


def wilson_upper(correct: int, total: int) -> float:
    """Upper end of the one-sided 95 % Wilson interval of ``correct`` right in ``total``."""
    return float(wilson_bounds(correct, total)[1])


def gold_failing(*, correct: int, total: int, min_gold: int, threshold: float) -> bool:
    """Whether ``correct`` right out of ``total`` graded golds calls for a suspension: at least
    ``min_gold`` golds, and accuracy confidently below ``threshold``."""
    return total >= max(min_gold, 1) and wilson_upper(correct, total) < threshold

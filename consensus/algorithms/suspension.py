"""When a worker's gold record is bad enough to suspend them from a project.

The raw share of gold answered right is a poor judge after a dozen golds: an honest worker
unlucky on a few hard ones looks like a spammer. So the rule uses a confidence bound (RELIABILITY
C8): suspend only when even the optimistic end of the Wilson score interval of the worker's gold
accuracy lies below the threshold, that is when the lower confidence bound of their *error* rate
is above ``1 - threshold``. With the defaults (at least 10 golds, threshold 0.5) that suspends at
2/10, 3/12, 4/16 right, and never a worker at half or better.
"""

from __future__ import annotations

import math

# One-sided 95 %: the worker is suspended when we are 95 % sure their accuracy is below the bar.
WILSON_Z = 1.645


def wilson_upper(correct: int, total: int, z: float = WILSON_Z) -> float:
    """Upper end of the Wilson score interval of ``correct`` successes in ``total`` trials."""
    if total <= 0:
        return 1.0
    p = correct / total
    z2 = z * z
    centre = p + z2 / (2 * total)
    spread = z * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total))
    return min(1.0, (centre + spread) / (1 + z2 / total))


def gold_failing(*, correct: int, total: int, min_gold: int, threshold: float) -> bool:
    """Whether ``correct`` right out of ``total`` graded golds calls for a suspension: at least
    ``min_gold`` golds, and accuracy confidently below ``threshold``."""
    return total >= max(min_gold, 1) and wilson_upper(correct, total) < threshold

"""Wilson score intervals of a binomial share: honest at small counts, where the raw share of a
dozen trials says little. Used one-sided (95 %) by the suspension rule and the copying check."""

from __future__ import annotations

import numpy as np

ONE_SIDED_95 = 1.645


def wilson_bounds(
    successes: np.ndarray | int, trials: np.ndarray | int, z: float = ONE_SIDED_95
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper ends of the interval, element-wise; (0, 1) where there are no trials."""
    successes, trials = np.asarray(successes, dtype=float), np.asarray(trials, dtype=float)
    n = np.maximum(trials, 1.0)
    p = successes / n
    centre = p + z * z / (2 * n)
    spread = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    low = np.where(trials > 0, (centre - spread) / scale, 0.0)
    high = np.where(trials > 0, np.minimum(1.0, (centre + spread) / scale), 1.0)
    return low, high

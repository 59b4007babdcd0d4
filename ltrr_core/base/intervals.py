"""The two confidence intervals the figures quote: of a mean (Student t) and of a share (Wilson)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import stats

LEVEL = 0.95


def mean_interval(values: Sequence[float], level: float = LEVEL) -> tuple[float, float, float]:
    """``(mean, low, high)``: the mean of ``values`` and its Student-t ``level`` interval (one value: a
    zero-width interval; none: zeros)."""
    x = np.asarray(values, dtype=np.float64)
    if not len(x):
        return 0.0, 0.0, 0.0
    mean, low, high = mean_intervals(x[:, None], level)
    return float(mean[0]), float(low[0]), float(high[0])


def mean_intervals(samples: np.ndarray, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column of ``samples`` (one row a sample): the mean and its Student-t ``level`` interval."""
    n = samples.shape[0]
    mean = samples.mean(axis=0)
    half = (stats.t.ppf(0.5 + level / 2, n - 1) * samples.std(axis=0, ddof=1) / np.sqrt(n)
            if n > 1 else np.zeros_like(mean))
    return mean, mean - half, mean + half


def share_interval(successes: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """The Wilson score ``level`` interval of ``successes`` out of ``n`` (no trials: ``(0, 1)``)."""
    if n <= 0:
        return 0.0, 1.0
    interval = stats.binomtest(int(successes), int(n)).proportion_ci(confidence_level=level, method="wilson")
    return float(interval.low), float(interval.high)

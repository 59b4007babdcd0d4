"""Reciprocal-rank fusion: the one definition the rankers and the evaluation runs share."""

from __future__ import annotations

from typing import Iterable

import numpy as np


def rrf_scores(ranks: Iterable[np.ndarray], k: int = 60) -> np.ndarray:
    """Reciprocal-rank fusion over aligned 1-based rank arrays (NaN = not retrieved): sum 1/(k + rank)."""
    stacked = np.vstack([np.asarray(r, dtype=np.float64) for r in ranks])
    return np.nansum(1.0 / (k + stacked), axis=0)

"""Rankers over a candidate pool: interleaving (before any model) and reciprocal-rank fusion.

Every ranker follows :class:`Ranker`: ``score(features)`` -> one score per row,
``rank(pool, features)`` -> a :class:`RankedList`, ``explain(features_of_shown_rows)`` ->
per-feature contributions. The LightGBM ranker is :mod:`ltrr_core.ranking.ltr`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np
import pandas as pd

from ltrr_core.base.fusion import rrf_scores
from ltrr_core.ranking.features import COLUMN, FEATURE_NAMES
from ltrr_core.ranking.pool import CandidatePool
from ltrr_core.retrieval.registry import STRATEGY_ORDER


@dataclass(frozen=True)
class RankedList:
    """``order``: pool row indices best first; ``scores``: the ranker's score per pool row."""

    order: np.ndarray
    scores: np.ndarray

    @classmethod
    def from_scores(cls, scores: np.ndarray) -> "RankedList":
        scores = np.asarray(scores, dtype=np.float64)
        return cls(np.lexsort((np.arange(len(scores)), -scores)), scores)  # ties keep pool order


@dataclass(frozen=True)
class Explanation:
    """Per-feature contributions for some rows; ``contributions.sum(1) + bias`` is each row's score."""

    feature_names: tuple[str, ...]
    contributions: np.ndarray
    bias: np.ndarray

    def frame(self, row_labels: Sequence[str] | None = None) -> pd.DataFrame:
        """Rows x features, plus ``bias`` and ``score`` columns."""
        table = pd.DataFrame(self.contributions, columns=list(self.feature_names), index=row_labels)
        table["bias"] = self.bias
        table["score"] = self.contributions.sum(axis=1) + self.bias
        return table


class Ranker(Protocol):
    name: str

    def score(self, features: np.ndarray) -> np.ndarray: ...

    def rank(self, pool: CandidatePool, features: np.ndarray) -> RankedList: ...

    def explain(self, features: np.ndarray) -> Explanation: ...


class FusionRanker:
    """Reciprocal-rank fusion of the strategies' lists (k=60)."""

    name = "fusion"

    def __init__(self, k: int = 60) -> None:
        if k < 1:
            raise ValueError(f"k: {k} must be >= 1")
        self.k = k
        self._rank_columns = [COLUMN[f"rank_{s}"] for s in STRATEGY_ORDER]

    def score(self, features: np.ndarray) -> np.ndarray:
        return rrf_scores(np.asarray(features)[:, self._rank_columns].T, self.k)

    def rank(self, pool: CandidatePool, features: np.ndarray) -> RankedList:
        if len(pool) == 0:
            return RankedList.from_scores(np.empty(0))
        return RankedList.from_scores(rrf_scores(pool.ranks.values(), self.k))

    def explain(self, features: np.ndarray) -> Explanation:
        """Each strategy's 1/(k + rank) lands on its ``rank_<strategy>`` feature; the rest is 0."""
        features = np.asarray(features, dtype=np.float64)
        contributions = np.zeros_like(features)
        for col in self._rank_columns:
            contributions[:, col] = np.nan_to_num(1.0 / (self.k + features[:, col]))
        return Explanation(FEATURE_NAMES, contributions, np.zeros(len(features)))


class InterleaveRanker(FusionRanker):
    """Round-robin blending of the strategies' lists: every picked strategy's top results reach
    the first page, whatever the others found. The ranker before a model exists.

    An item's score is 1 / (its best rank in any list), ties broken by how many strategies
    found it. RRF (:class:`FusionRanker`) instead buries an item only one strategy found
    below everything two near-duplicate strategies agree on, so a semantic-only hit never
    reaches the page and never earns its strategy a reward.
    """

    name = "interleave"

    def score(self, features: np.ndarray) -> np.ndarray:
        return _interleave_scores(np.asarray(features, dtype=np.float64)[:, self._rank_columns].T)

    def rank(self, pool: CandidatePool, features: np.ndarray) -> RankedList:
        if len(pool) == 0:
            return RankedList.from_scores(np.empty(0))
        return RankedList.from_scores(_interleave_scores(np.vstack(list(pool.ranks.values()))))

    def explain(self, features: np.ndarray) -> Explanation:
        """1 / best rank lands on the best list's ``rank_<strategy>``; each finder adds 1e-3 to its own."""
        ranks = np.asarray(features, dtype=np.float64)[:, self._rank_columns]
        found = ~np.isnan(ranks)
        contributions = np.zeros((len(ranks), len(FEATURE_NAMES)))
        contributions[:, self._rank_columns] = 1e-3 * found
        rows = np.flatnonzero(found.any(axis=1))
        best = np.argmin(np.where(found, ranks, np.inf), axis=1)
        cols = np.asarray(self._rank_columns)[best[rows]]
        contributions[rows, cols] += 1.0 / ranks[rows, best[rows]]
        return Explanation(FEATURE_NAMES, contributions, np.zeros(len(ranks)))


def _interleave_scores(ranks: np.ndarray) -> np.ndarray:
    """(n_strategies, n) rank arrays, NaN = not found -> 1 / best rank + 1e-3 * strategies found."""
    found = ~np.isnan(ranks)
    best = np.where(found, ranks, np.inf).min(axis=0)
    return 1.0 / best + 1e-3 * found.sum(axis=0)

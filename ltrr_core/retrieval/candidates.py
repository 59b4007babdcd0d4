"""What one strategy retrieved: the small record every stage after retrieval reads."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def top_k(scores: np.ndarray, positions: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` best entries, best first: score descending, then position ascending.

    The one top-k rule of retrieval (``positions`` unique), so a depth-k list is the prefix of
    any deeper one. O(n) partitions pick the entries above the k-th score and the lowest
    positions among those tied with it; only the k picked are sorted.
    """
    n = len(scores)
    if k <= 0:
        return np.empty(0, np.int64)
    if n <= k:
        chosen = np.arange(n)
    else:
        kth = np.partition(scores, n - k)[n - k]
        above, tied = np.flatnonzero(scores > kth), np.flatnonzero(scores == kth)
        need = k - len(above)
        if len(tied) > need:
            tied = tied[np.argpartition(positions[tied], need - 1)[:need]]
        chosen = np.concatenate([above, tied])
    return chosen[np.lexsort((positions[chosen], -scores[chosen]))]


@dataclass(frozen=True)
class Candidates:
    """What one strategy retrieved: parallel arrays of catalog positions and scores, best first.

    ``ids`` are entity ids; ``positions`` the catalog row numbers (for fast feature lookup).
    Ranks are 1-based and derived from the order, in one place (:meth:`from_scores`).
    """

    strategy: str
    ids: tuple[str, ...]
    positions: np.ndarray
    scores: np.ndarray
    ms: float = 0.0
    notes: dict = field(default_factory=dict)

    @property
    def ranks(self) -> np.ndarray:
        return np.arange(1, len(self.ids) + 1)

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_scores(
        cls, strategy: str, all_ids: list[str] | tuple[str, ...], positions: np.ndarray, scores: np.ndarray, k: int, **notes
    ) -> "Candidates":
        """Keep the ``k`` best (score > 0 is not required) by :func:`top_k`: score desc, ties by position."""
        positions = np.asarray(positions, dtype=np.int64)
        scores = np.asarray(scores, dtype=np.float64)
        best = top_k(scores, positions, k)
        positions, scores = positions[best], scores[best]
        return cls(strategy, tuple(map(all_ids.__getitem__, positions.tolist())), positions, scores, notes=notes)

    @classmethod
    def empty(cls, strategy: str, **notes) -> "Candidates":
        return cls(strategy, (), np.empty(0, np.int64), np.empty(0), notes=notes)

    def prefix(self, k: int) -> "Candidates":
        """The first ``k`` candidates (a depth-k list is the prefix of any deeper one)."""
        return Candidates(self.strategy, self.ids[:k], self.positions[:k], self.scores[:k], self.ms, self.notes)

    def timed(self, ms: float) -> "Candidates":
        return Candidates(self.strategy, self.ids, self.positions, self.scores, ms, self.notes)

    def to_trace(self, limit: int | None = None) -> dict:
        rows = list(zip(self.ids, self.scores.tolist(), self.ranks.tolist()))[:limit]
        return {
            "name": self.strategy,
            "n_candidates": len(self),
            "ms": round(self.ms, 3),
            "candidates": [{"id": i, "score": round(s, 6), "rank": r} for i, s, r in rows],
            **({"notes": self.notes} if self.notes else {}),
        }

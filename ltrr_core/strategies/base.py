"""The one protocol every retrieval strategy follows, its result record and the registry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Protocol

import numpy as np

if TYPE_CHECKING:
    from ltrr_core.context import Context
    from ltrr_core.resources import Resources
    from ltrr_core.understanding import QueryUnderstanding


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
        """Keep the ``k`` best (score > 0 is not required), sorted by score desc, ties by position."""
        positions = np.asarray(positions, dtype=np.int64)
        scores = np.asarray(scores, dtype=np.float64)
        if len(positions) > k:
            top = np.argpartition(-scores, k - 1)[:k]
            positions, scores = positions[top], scores[top]
        order = np.lexsort((positions, -scores))
        positions, scores = positions[order], scores[order]
        return cls(strategy, tuple(map(all_ids.__getitem__, positions.tolist())), positions, scores, notes=notes)

    @classmethod
    def empty(cls, strategy: str, **notes) -> "Candidates":
        return cls(strategy, (), np.empty(0, np.int64), np.empty(0), notes=notes)

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


class Strategy(Protocol):
    """A retrieval strategy: an arm of the bandit. Knows nothing of fusion or other strategies.

    A strategy that can batch may also offer ``retrieve_many(queries, k) -> list[Candidates]``
    (context-free); the simulator then retrieves every distinct query in one call.
    """

    name: str
    description: str
    uses_context: bool  # False: results depend on the query alone (callers may cache by query)
    learns: bool  # True: results change with feedback (never cache them)

    def retrieve(self, query: "QueryUnderstanding", context: "Context", k: int) -> Candidates: ...


StrategyBuilder = Callable[["Resources"], Strategy]
REGISTRY: dict[str, StrategyBuilder] = {}


def register(name: str) -> Callable[[StrategyBuilder], StrategyBuilder]:
    """Class decorator: ``@register("lexical") class Lexical: ...`` built as ``Lexical(resources)``."""

    def wrap(builder: StrategyBuilder) -> StrategyBuilder:
        REGISTRY[name] = builder
        return builder

    return wrap

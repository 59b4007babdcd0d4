"""The candidate union: one row per entity any picked strategy found, with provenance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ltrr_core.strategies.base import Candidates


@dataclass(frozen=True)
class CandidatePool:
    """Parallel arrays over the union of candidates, in first-seen order.

    ``scores[s]`` / ``ranks[s]`` hold strategy ``s``'s score and 1-based rank for each
    row, NaN where ``s`` did not retrieve it. ``found_by[i]`` names the strategies that did.
    """

    ids: tuple[str, ...]
    positions: np.ndarray
    found_by: tuple[tuple[str, ...], ...]
    scores: dict[str, np.ndarray]
    ranks: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def union(cls, lists: list[Candidates]) -> "CandidatePool":
        row: dict[str, int] = {}
        ids: list[str] = []
        positions: list[int] = []
        for cands in lists:
            for entity_id, pos in zip(cands.ids, cands.positions.tolist()):
                if entity_id not in row:
                    row[entity_id] = len(ids)
                    ids.append(entity_id)
                    positions.append(pos)
        n = len(ids)
        scores: dict[str, np.ndarray] = {}
        ranks: dict[str, np.ndarray] = {}
        finders: list[list[str]] = [[] for _ in range(n)]
        for cands in lists:
            s = np.full(n, np.nan)
            r = np.full(n, np.nan)
            rows = np.fromiter((row[i] for i in cands.ids), dtype=np.int64, count=len(cands))
            s[rows] = cands.scores
            r[rows] = cands.ranks
            scores[cands.strategy], ranks[cands.strategy] = s, r
            for i in rows.tolist():
                finders[i].append(cands.strategy)
        return cls(tuple(ids), np.asarray(positions, dtype=np.int64), tuple(map(tuple, finders)), scores, ranks)

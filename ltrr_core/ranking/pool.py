"""The candidate union: one row per entity any picked strategy found, with provenance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ltrr_core.retrieval.candidates import Candidates


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
        """The union of ``lists`` (each with unique positions), rows in first-seen order."""
        every = np.concatenate([c.positions for c in lists]) if lists else np.empty(0, np.int64)
        unique, first, inverse = np.unique(every, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")
        row_of = np.empty(len(unique), dtype=np.int64)
        row_of[order] = np.arange(len(unique))
        rows_of_every = row_of[inverse.ravel()]
        flat_ids = [entity_id for c in lists for entity_id in c.ids]
        n = len(unique)
        scores: dict[str, np.ndarray] = {}
        ranks: dict[str, np.ndarray] = {}
        finders = np.zeros(n, dtype=np.int64)  # bit b set: lists[b] found the row
        start = 0
        for bit, cands in enumerate(lists):
            rows = rows_of_every[start : start + len(cands)]
            start += len(cands)
            scores[cands.strategy], ranks[cands.strategy] = np.full(n, np.nan), np.full(n, np.nan)
            scores[cands.strategy][rows] = cands.scores
            ranks[cands.strategy][rows] = cands.ranks
            finders[rows] |= 1 << bit
        names = {m: tuple(c.strategy for b, c in enumerate(lists) if m >> b & 1) for m in np.unique(finders).tolist()}
        return cls(tuple(flat_ids[i] for i in first[order].tolist()), unique[order],
                   tuple(names[m] for m in finders.tolist()), scores, ranks)

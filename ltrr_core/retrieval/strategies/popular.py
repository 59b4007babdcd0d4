"""``popular``: BM25 matches re-scored by popularity: ``bm25 / max_bm25 * (1 + BETA * popularity)``.

Only entities that match the query lexically are candidates; among them, match strength
(relative to the best match) and popularity trade off, so the popular one of two
same-titled tracks wins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ltrr_core.retrieval.candidates import Candidates
from ltrr_core.retrieval.strategies.lexical import query_terms

if TYPE_CHECKING:
    from ltrr_core.retrieval.resources import Resources
    from ltrr_core.selection.context import Context
    from ltrr_core.understanding.query import QueryUnderstanding

BETA = 1.0
MATCH_POOL = 1000  # lexical matches considered before the popularity re-scoring


class Popular:
    name = "popular"
    description = "Keyword matches, boosted by popularity"
    uses_context = False
    learns = False

    def __init__(self, resources: "Resources") -> None:
        self.resources = resources

    def retrieve(self, query: "QueryUnderstanding", context: "Context", k: int) -> Candidates:
        if query.is_empty:
            return Candidates.empty(self.name)
        positions, bm25 = self.resources.bm25.search(query_terms(query), max(k, MATCH_POOL))
        if len(positions) == 0:
            return Candidates.empty(self.name)
        relative = bm25 / bm25.max() if bm25.max() > 0 else np.ones_like(bm25)
        scores = relative * (1.0 + BETA * self.resources.popularity[positions])
        return Candidates.from_scores(self.name, self.resources.ids, positions, scores, k, beta=BETA)

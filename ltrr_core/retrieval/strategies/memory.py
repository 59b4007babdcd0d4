"""``memory``: the Q2E memory: entities users chose (observed) or would likely choose
(predicted from metadata) for this query or a close one."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from ltrr_core.retrieval.candidates import Candidates

if TYPE_CHECKING:
    from ltrr_core.retrieval.resources import Resources
    from ltrr_core.selection.context import Context
    from ltrr_core.understanding.query import QueryUnderstanding


class Memory:
    name = "memory"
    description = "Query memory: what people picked for this (or a similar) query"
    uses_context = False
    learns = True

    def __init__(self, resources: "Resources") -> None:
        self.resources = resources

    def retrieve(self, query: "QueryUnderstanding", context: "Context", k: int) -> Candidates:
        if query.is_empty:
            return Candidates.empty(self.name)
        hits = self.resources.memory.lookup([query.normalized, " ".join(query.corrected)], k)
        if not hits:
            return Candidates.empty(self.name)
        keys = sorted({(h.key, round(h.similarity, 3)) for h in hits}, key=lambda ks: -ks[1])
        return Candidates.from_scores(
            self.name, self.resources.ids, [h.position for h in hits], [h.score for h in hits], k,
            keys=[{"key": key, "similarity": sim} for key, sim in keys[:10]],
            sources=dict(Counter(h.source for h in hits)),
        )

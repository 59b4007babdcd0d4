"""``semantic``: dense retrieval, cosine similarity of sentence embeddings (faiss)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ltrr_core.strategies.base import Candidates, register

if TYPE_CHECKING:
    from ltrr_core.context import Context
    from ltrr_core.resources import Resources
    from ltrr_core.understanding import QueryUnderstanding


def query_text(query: "QueryUnderstanding") -> str:
    """The typo-corrected query text the encoder reads."""
    return " ".join(query.corrected)


@register("semantic")
class Semantic:
    name = "semantic"
    description = "Meaning match: sentence embeddings (MiniLM) + nearest neighbours"

    def __init__(self, resources: "Resources") -> None:
        self.resources = resources

    def retrieve(self, query: "QueryUnderstanding", context: "Context", k: int) -> Candidates:
        if query.is_empty:
            return Candidates.empty(self.name)
        text = query_text(query)
        positions, scores = self.resources.dense.search(self.resources.embedder.encode_query(text), k)
        return Candidates.from_scores(self.name, self.resources.ids, positions, scores, k,
                                      text=text, index=self.resources.dense.kind)

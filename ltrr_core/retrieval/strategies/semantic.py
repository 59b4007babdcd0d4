"""``semantic``: dense retrieval, cosine similarity of sentence embeddings (faiss)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from ltrr_core.retrieval.candidates import Candidates

if TYPE_CHECKING:
    from ltrr_core.retrieval.resources import Resources
    from ltrr_core.selection.context import Context
    from ltrr_core.understanding.query import QueryUnderstanding


def query_text(query: "QueryUnderstanding") -> str:
    """The typo-corrected query text the encoder reads."""
    return " ".join(query.corrected)


class Semantic:
    name = "semantic"
    description = "Meaning match: sentence embeddings (MiniLM) + nearest neighbours"
    uses_context = False
    learns = False

    def __init__(self, resources: "Resources") -> None:
        self.resources = resources

    def retrieve(self, query: "QueryUnderstanding", context: "Context", k: int) -> Candidates:
        return self.retrieve_many([query], k)[0]

    def retrieve_many(self, queries: "Sequence[QueryUnderstanding]", k: int) -> list[Candidates]:
        """``retrieve`` for many queries: one encoder call and one faiss call for all of them."""
        texts = [query_text(q) for q in queries]
        asked = [i for i, q in enumerate(queries) if not q.is_empty]
        vectors = self.resources.embedder.encode_queries([texts[i] for i in asked])
        found = dict(zip(asked, self.resources.dense.search_many(vectors, k)))
        kind = self.resources.dense.kind
        return [Candidates.from_scores(self.name, self.resources.ids, *found[i], k, text=texts[i], index=kind)
                if i in found else Candidates.empty(self.name) for i in range(len(queries))]

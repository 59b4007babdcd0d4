"""``lexical``: field-weighted BM25 over title, creator, album, tags and description."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ltrr_core.retrieval.candidates import Candidates

if TYPE_CHECKING:
    from ltrr_core.retrieval.resources import Resources
    from ltrr_core.selection.context import Context
    from ltrr_core.understanding.query import QueryUnderstanding


def query_terms(query: "QueryUnderstanding") -> list[str]:
    """Typo-corrected tokens, plus any as-typed token a correction replaced (unknown ones score 0)."""
    return list(dict.fromkeys([*query.corrected, *query.tokens]))


class Lexical:
    name = "lexical"
    description = "Keyword match (BM25) on title, artist, album, tags and description"
    uses_context = False
    learns = False

    def __init__(self, resources: "Resources") -> None:
        self.resources = resources

    def retrieve(self, query: "QueryUnderstanding", context: "Context", k: int) -> Candidates:
        if query.is_empty:
            return Candidates.empty(self.name)
        terms = query_terms(query)
        positions, scores = self.resources.bm25.search(terms, k)
        return Candidates.from_scores(self.name, self.resources.ids, positions, scores, k, terms=terms)

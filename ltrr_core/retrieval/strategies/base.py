"""The one protocol every retrieval strategy follows (the registry is :mod:`ltrr_core.retrieval.registry`)."""

from __future__ import annotations

from typing import Protocol

from ltrr_core.retrieval.candidates import Candidates
from ltrr_core.selection.context import Context
from ltrr_core.understanding.query import QueryUnderstanding


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

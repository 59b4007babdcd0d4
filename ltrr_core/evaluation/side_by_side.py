"""Two configurations' rankings of one query, side by side (the comparison view of Quepid and
OpenSearch's Search Relevance Workbench): each shown result's movement between the two top ``k``
lists, its judged grade, each side's nDCG@10 when the query is judged, and how much the lists agree.

Movement reads from A to B: a result in both top ``k`` moved ``up N`` / ``down N`` places or
stayed the ``same``; one only in B's is ``new``, one only in A's ``dropped``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from ltrr_core.base.metrics import per_query
from ltrr_core.base.records import Label
from ltrr_core.evaluation.configurations import Configuration
from ltrr_core.evaluation.overlap import jaccard, rbo
from ltrr_core.evaluation.query_sets import label_qrels
from ltrr_core.understanding.text import normalize

METRIC = "ndcg@10"
NEW, DROPPED, SAME = "new", "dropped", "same"


@dataclass(frozen=True)
class Ranked:
    """One configuration's ranking of the query: ids best first (deeper than shown: the metric reads
    its top 10), the strategies that found each, and how many candidates each strategy it ran found."""

    configuration: Configuration
    ids: tuple[str, ...]
    found_by: tuple[tuple[str, ...], ...]
    strategies: Mapping[str, int]

    def __post_init__(self) -> None:
        if len(self.ids) != len(self.found_by):
            raise ValueError(f"ranked: {len(self.ids)} ids but {len(self.found_by)} found_by entries")


@dataclass(frozen=True)
class Row:
    """A shown result on one side: its rank there, its rank in the other top ``k`` (None: absent),
    its movement from A to B, its judged grade (None: unjudged) and the strategies that found it."""

    id: str
    rank: int
    other_rank: int | None
    movement: str
    grade: int | None
    found_by: tuple[str, ...]


@dataclass(frozen=True)
class Comparison:
    """The typed ``query`` through configurations ``a`` and ``b``; ``grades``: its judged grades
    (empty: unjudged)."""

    query: str
    a: Ranked
    b: Ranked
    grades: Mapping[str, int]
    k: int = 10

    @property
    def judged(self) -> bool:
        return bool(self.grades)

    def side(self, side: str) -> Ranked:
        """Configuration ``"a"`` or ``"b"``'s ranking."""
        if side not in ("a", "b"):
            raise ValueError(f"side: {side!r}; choose 'a' or 'b'")
        return self.a if side == "a" else self.b

    def rows(self, side: str) -> list[Row]:
        """The top ``k`` of side ``"a"`` or ``"b"``, each with its movement from A to B."""
        this, other = (self.side(side), self.b if side == "a" else self.a)
        other_ranks = {d: r for r, d in enumerate(other.ids[:self.k], start=1)}
        rows = []
        for rank, (entity_id, found_by) in enumerate(zip(this.ids[:self.k], this.found_by), start=1):
            other_rank = other_ranks.get(entity_id)
            a_rank, b_rank = (rank, other_rank) if side == "a" else (other_rank, rank)
            rows.append(Row(entity_id, rank, other_rank, movement(a_rank, b_rank), self.grades.get(entity_id),
                            found_by))
        return rows

    def ndcg(self, side: str) -> float | None:
        """nDCG@10 of side ``"a"`` or ``"b"`` on the judged grades (ranx); None when unjudged."""
        ranked = self.side(side)
        if not self.judged:
            return None
        run = {d: float(len(ranked.ids) - r) for r, d in enumerate(ranked.ids)}
        return per_query({self.query: dict(self.grades)}, {self.query: run}, METRIC)[self.query]

    @property
    def rbo(self) -> float:
        """Rank-biased overlap (p = 0.9) of the two top ``k``: 1 identical, 0 disjoint."""
        return rbo(self.a.ids, self.b.ids, self.k)

    @property
    def jaccard(self) -> float:
        """Shared results over all results of the two top ``k``."""
        return jaccard(self.a.ids, self.b.ids, self.k)


def movement(a_rank: int | None, b_rank: int | None) -> str:
    """``up N`` / ``down N`` / ``same`` for a result ranked on both sides, ``new`` for one only B ranks,
    ``dropped`` for one only A ranks (ranks from 1)."""
    if a_rank is None and b_rank is None:
        raise ValueError("movement: the result is ranked on neither side")
    if a_rank is None:
        return NEW
    if b_rank is None:
        return DROPPED
    if a_rank == b_rank:
        return SAME
    return f"up {a_rank - b_rank}" if b_rank < a_rank else f"down {b_rank - a_rank}"


def query_grades(query: str, labels: Sequence[Label]) -> dict[str, int]:
    """The stored grades of ``query``, matched by normalized text as experiments' ``labels`` judgments
    match queries (several judges: the highest grade)."""
    qrels = label_qrels(labels)
    key = normalize(query)
    by_text = {normalize(q.replace("_", " ")): grades for q, grades in qrels.items()}
    return dict(qrels.get(key) or by_text.get(key) or {})

"""What a search returns: ranked items with their metadata, plus the full trace of every stage."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ltrr_core.catalog.schema import Entity
from ltrr_core.ranking.pool import CandidatePool
from ltrr_core.retrieval.candidates import Candidates
from ltrr_core.selection.bandit import Selection
from ltrr_core.selection.context import Context
from ltrr_core.understanding.query import QueryUnderstanding


@dataclass(frozen=True)
class ResultItem:
    """One ranked result with the metadata the UI shows and the strategies that found it."""

    rank: int
    id: str
    type: str
    title: str
    creator: str
    album: str
    score: float
    found_by: tuple[str, ...]
    genres: tuple[str, ...]
    moods: tuple[str, ...]
    popularity: float
    release_date: str
    description: str
    team: str | None = None  # interleaved searches: the configuration that placed this result

    @classmethod
    def of(cls, rank: int, entity: Entity, score: float, found_by: tuple[str, ...]) -> "ResultItem":
        genres = tuple(sorted(entity.genres, key=entity.genres.get, reverse=True))
        return cls(rank, entity.id, entity.type, entity.title, entity.creator, entity.album, float(score),
                   found_by, genres, entity.moods, entity.popularity, entity.release_date, entity.description)


@dataclass(frozen=True)
class SearchResult:
    """A ranked list plus the full trace of how it was made."""

    query: str
    context: Context
    understanding: QueryUnderstanding
    x: np.ndarray
    selection: Selection | None
    candidates: dict[str, Candidates]
    pool: CandidatePool
    features: np.ndarray
    items: tuple[ResultItem, ...]
    ranker: str
    timings: dict[str, float]
    search_id: int | None = None
    message: str | None = None
    experiment: str | None = None  # interleaved searches: the experiment that served them (items carry teams)

    def to_json(self, candidates_limit: int | None = 20) -> dict:
        interleaving = {"experiment": self.experiment} if self.experiment else {}
        return interleaving | {
            "query": self.query,
            "search_id": self.search_id,
            "message": self.message,
            "understanding": self.understanding.to_trace(),
            "selection": self.selection.to_trace() if self.selection else None,
            "ranker": self.ranker,
            "results": [item.__dict__ | {"found_by": list(item.found_by), "genres": list(item.genres),
                                         "moods": list(item.moods)} for item in self.items],
            "trace": {
                "strategies": [c.to_trace(candidates_limit) for c in self.candidates.values()],
                "union": {"n_candidates": len(self.pool),
                          "found_by": dict(zip(self.pool.ids[:candidates_limit], map(list, self.pool.found_by)))},
                "timings_ms": {k: round(v, 3) for k, v in self.timings.items()},
            },
        }

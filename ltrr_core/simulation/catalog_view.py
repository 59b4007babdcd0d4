"""The catalog as the samplers see it: entities grouped by type, genre, mood and decade, with popularity urns."""

from __future__ import annotations

import numpy as np

from ltrr_core.catalog.schema import Catalog, Entity
from ltrr_core.simulation.intents import MIN_GENRE_WEIGHT


class Urn:
    """Weighted draws (with replacement) over catalog positions, O(log n) each."""

    def __init__(self, positions: np.ndarray, weights: np.ndarray) -> None:
        self.positions = np.asarray(positions, dtype=np.int64)
        self._cumulative = np.cumsum(np.asarray(weights, dtype=float))

    def draw(self, rng: np.random.Generator) -> int:
        i = int(np.searchsorted(self._cumulative, rng.random() * self._cumulative[-1], side="right"))
        return int(self.positions[min(i, len(self.positions) - 1)])


class CatalogView:
    """Per-attribute member arrays over one catalog, built in one pass (shared by all samplers)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.entities: list[Entity] = catalog.entities
        self.popularity = np.fromiter((e.popularity for e in catalog), dtype=float, count=len(catalog))
        self.primary_genre: list[str] = []
        members: dict[str, dict[str, list[int]]] = {"type": {}, "genre": {}, "mood": {}, "decade": {}}
        for i, e in enumerate(self.entities):
            members["type"].setdefault(e.type, []).append(i)
            top = max(e.genres.items(), key=lambda kv: kv[1], default=("", 0.0))
            self.primary_genre.append(top[0] if top[1] >= MIN_GENRE_WEIGHT else "")
            for genre, weight in e.genres.items():
                if weight >= MIN_GENRE_WEIGHT:
                    members["genre"].setdefault(genre, []).append(i)
            for mood in e.moods:
                members["mood"].setdefault(mood, []).append(i)
            year = e.release_date[:4]
            if year.isdigit() and e.type != "document":
                members["decade"].setdefault(f"{int(year) // 10 * 10}s", []).append(i)
        self.members = {attr: {k: np.array(v, dtype=np.int64) for k, v in values.items()} for attr, values in members.items()}

    def of(self, attribute: str, value: str) -> np.ndarray:
        """Sorted positions whose ``attribute`` (type, genre, mood, decade) is ``value``."""
        return self.members[attribute].get(value, np.empty(0, dtype=np.int64))

    def positions_of_types(self, types: tuple[str, ...]) -> np.ndarray:
        return np.sort(np.concatenate([self.of("type", t) for t in types] + [np.empty(0, dtype=np.int64)]))

    def matching(self, facets: tuple[tuple[str, str], ...]) -> np.ndarray:
        """Positions matching every (attribute, value) facet."""
        out = self.of(*facets[0])
        for facet in facets[1:]:
            out = np.intersect1d(out, self.of(*facet), assume_unique=True)
        return out

    def top_popular(self, positions: np.ndarray, k: int) -> np.ndarray:
        """The ``k`` most popular of ``positions`` (ties by position), most popular first."""
        order = np.lexsort((positions, -self.popularity[positions]))
        return positions[order[:k]]

    def id(self, position: int) -> str:
        return self.entities[position].id

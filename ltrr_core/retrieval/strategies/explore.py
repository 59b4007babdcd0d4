"""``explore``: fresh and long-tail entities within the query's understood categories.

Static strategies rarely surface what nobody has played yet, so feedback never reaches it.
This arm scopes the catalog to what the query is about (matched artists and albums, genre /
mood / decade / language attributes, wanted entity types; plain token matches when nothing
else was understood) and scores each in-scope entity

    match x (1 + FRESHNESS x freshness + LONG_TAIL x (1 - popularity)) / (1 + FRESHNESS + LONG_TAIL)

where ``match`` in (0, 1] is relative to the best in-scope match and ``freshness`` halves
every ``HALF_LIFE_DAYS`` before the catalog's newest date (not today: the result is a pure
function of the query and catalog). It is deterministic: the bandit supplies the randomness.

A query touches only the rows in its scope (a compact score array over them); a scope of
only entity types scores every row of those types by its prior, so it reads the types' rows
pre-sorted by prior, k at a time.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ltrr_core.retrieval.candidates import Candidates
from ltrr_core.retrieval.indexes.metadata import NO_ROWS, RowScores, union_rows
from ltrr_core.retrieval.strategies.structured import MAX_QUERY_TOKENS, attribute_readings, best_rows
from ltrr_core.understanding.understander import normalize_name

if TYPE_CHECKING:
    from ltrr_core.retrieval.resources import Resources
    from ltrr_core.selection.context import Context
    from ltrr_core.understanding.query import QueryUnderstanding

HALF_LIFE_DAYS = 60.0
FRESHNESS = 1.5
LONG_TAIL = 1.0
TYPE_DAMPING = 0.9  # in-scope entities of an unwanted type: match x (1 - TYPE_DAMPING x likelihood)
TOKEN_MATCH = 0.3  # scope weight of a plain token hit in the title/artist/album fields


class Explore:
    name = "explore"
    description = "Fresh and long-tail items in the understood categories (exploration)"
    uses_context = False
    learns = False

    def __init__(self, resources: "Resources") -> None:
        self.index = resources.metadata
        days = self.index.added_day
        newest = np.nanmax(days) if np.isfinite(days).any() else 0.0
        age = np.where(np.isfinite(days), newest - days, np.inf)
        self.freshness = np.exp(-math.log(2.0) * np.maximum(age, 0.0) / HALF_LIFE_DAYS)
        self.prior = (1.0 + FRESHNESS * self.freshness + LONG_TAIL * (1.0 - self.index.popularity)) / (1.0 + FRESHNESS + LONG_TAIL)
        self.type_by_prior = {t: rows[np.lexsort((rows, -self.prior[rows]))] for t, rows in self.index.type_rows.items()}

    def retrieve(self, query: "QueryUnderstanding", context: "Context", k: int) -> Candidates:
        if query.is_empty:
            return Candidates.empty(self.name)
        idx = self.index
        field_parts, scopes = self._scope_fields(query)
        attributes = [(name, idx.attribute_rows(readings)) for name, readings in attribute_readings(query, min_likelihood=0.0).items()]
        touched = [rows for rows, _ in field_parts] + [rows for _, (rows, _) in attributes]
        match = RowScores(union_rows(touched, idx.n), idx.n)
        for rows, likelihood in field_parts:
            np.maximum.at(match.values, match.at(rows), likelihood)
        for name, (rows, values) in attributes:
            attribute = np.zeros(len(match.rows))
            attribute[match.at(rows)] = values
            match.values += attribute
            scopes.append(name)
        wanted = {t: p for t, p in query.entity_types.items() if t in idx.type_names}
        if wanted:
            scopes.append("entity_type")
            if match.values.any():
                match.values *= np.where(idx.type_mask(wanted, match.rows), 1.0, 1.0 - TYPE_DAMPING * max(wanted.values()))
            elif max(wanted.values()) > 0:  # every row of the wanted types, each with match 1: the best priors
                rows = best_rows(self.type_by_prior, idx.type_codes(wanted), self.prior, NO_ROWS, k)
                return self._candidates(rows, np.ones(len(rows)), k, scopes)
        if not match.values.any():
            match = self._scope_tokens(query)
            scopes.append("tokens")
        kept = match.values > 0
        if not kept.any():
            return Candidates.empty(self.name, reason="nothing in scope")
        return self._candidates(match.rows[kept], match.values[kept] / match.values[kept].max(), k, scopes)

    def _candidates(self, positions: np.ndarray, relative: np.ndarray, k: int, scopes: list[str]) -> Candidates:
        return Candidates.from_scores(
            self.name, self.index.ids, positions, relative * self.prior[positions], k,
            scope=scopes, half_life_days=HALF_LIFE_DAYS,
        )

    def _scope_fields(self, query: "QueryUnderstanding") -> tuple[list[tuple[np.ndarray, float]], list[str]]:
        """Matched artists bring all their works, matched albums their tracks (title words do not
        scope): (rows, likelihood) parts, and the scopes that matched."""
        names = self.index.names
        parts: list[tuple[np.ndarray, float]] = []
        scopes: list[str] = []
        for reading in query.interpretations:
            if reading.kind != "field" or reading.name == "title":
                continue
            key = normalize_name(reading.value)
            own_key, works_key = ("artist", "creator") if reading.name == "artist" else ("album", "album_of")
            for rows in (names[own_key].get(key), names[works_key].get(key)):
                if rows is not None:
                    parts.append((rows, reading.likelihood))
                    scopes.append(reading.name)
        return parts, sorted(set(scopes))

    def _scope_tokens(self, query: "QueryUnderstanding") -> RowScores:
        parts = [rows for token in dict.fromkeys(query.content_tokens[:MAX_QUERY_TOKENS])
                 for field_name in ("artist", "title", "album", "description")
                 if (rows := self.index.postings[field_name].get(token)) is not None]
        match = RowScores(union_rows(parts, self.index.n), self.index.n)
        for rows in parts:
            match.add(rows, TOKEN_MATCH)
        return match

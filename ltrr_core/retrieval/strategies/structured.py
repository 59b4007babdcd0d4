"""``structured``: field-weighted metadata search driven by the query's interpretations.

Score = field-weighted token matches (artist > title > album > genre/mood > description,
on the typo-corrected tokens) + boosts from the interpretations (a matched artist brings
their entity and most popular works; a matched album its tracks; an exact title its
entities; genre/mood/decade/language attributes boost matching entities). Constraints then
damp what contradicts a confident reading: other entity types than the wanted one, other
decades / genres / moods / languages. A query of only constraints ("80s rock", "podcasts")
returns the entities satisfying them, most popular first.

All postings and attribute arrays are built once per catalog (the resources' ``metadata``,
:mod:`ltrr_core.retrieval.indexes.metadata`, loaded from its snapshot on a warm start). A query
touches only its rows: scores live in a compact array over the rows its tokens, readings and
attribute constraints reach (cost: those postings, not the catalog size); rows that merely
have a wanted entity type all score ``CONSTRAINT_BASE x (0.5 + popularity)`` times the same
damping, so they come from that type's rows pre-sorted by popularity, k + a few at a time.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

from ltrr_core.retrieval.candidates import Candidates
from ltrr_core.retrieval.indexes.metadata import NO_ROWS, RowScores, union_rows
from ltrr_core.understanding.understander import normalize_name
from ltrr_core.understanding.vocabulary import FILLERS

if TYPE_CHECKING:
    from ltrr_core.retrieval.resources import Resources
    from ltrr_core.selection.context import Context
    from ltrr_core.understanding.query import Interpretation, QueryUnderstanding

FIELD_WEIGHTS = {"artist": 3.0, "title": 2.0, "album": 1.5, "genre": 1.0, "mood": 0.8, "description": 0.5}
TYPED_TOKEN_WEIGHT = 0.3  # a corrected token's original spelling still counts, a little
MAX_QUERY_TOKENS = 16
RELATED_LIMIT = 60  # a matched artist/album brings at most this many of its works
# added per reading x likelihood; the token-match score is scaled to [0, 1] (1 = the best match)
BOOST = {"artist_entity": 1.0, "artist_work": 0.5, "album_entity": 0.8, "album_track": 0.4, "title": 0.6, "attribute": 0.4,
         "work_title": 2.0}  # a matched artist's or album's work whose title starts with another query word
PREFIX_WEIGHT = 0.6  # a title word that merely starts with a query word
CONSTRAINT_MIN = 0.65  # attribute/type readings at least this likely act as (soft) constraints
ATTRIBUTE_DAMPING = 0.75  # violating a confident attribute: score x (1 - ATTRIBUTE_DAMPING x likelihood)
TYPE_DAMPING_POWER = 2.0  # another entity type than the wanted one: score x (1 - likelihood) ** power
CONSTRAINT_BASE = 0.1  # score of an entity that merely satisfies a constraint (x (0.5 + popularity))
POPULARITY_TIEBREAK = 0.01


def best_rows(orders: dict[int, np.ndarray], codes: list[int], key: np.ndarray, skip: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` best rows by ``key`` (descending; ties: the lower row) among ``orders[c]`` for
    ``c`` in ``codes`` (each pre-sorted that way), leaving out the ascending rows ``skip``.
    Reads only the first ``k + len(skip)`` rows of each order."""
    heads = [orders[c][: k + len(skip)] for c in codes if c in orders]
    if not heads:
        return NO_ROWS
    rows = np.concatenate(heads)
    if len(heads) > 1:
        rows = rows[np.lexsort((rows, -key[rows]))]
    return rows[~_contains(skip, rows)][:k]


def _contains(sorted_rows: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each of ``rows``: is it in the ascending ``sorted_rows``?"""
    if len(sorted_rows) == 0:
        return np.zeros(len(rows), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_rows, rows), len(sorted_rows) - 1)
    return sorted_rows[at] == rows


def attribute_readings(query: "QueryUnderstanding", min_likelihood: float = CONSTRAINT_MIN) -> dict[str, list["Interpretation"]]:
    """Attribute readings by attribute name, for names whose best reading reaches ``min_likelihood``."""
    grouped: dict[str, list[Interpretation]] = defaultdict(list)
    for reading in query.interpretations:
        if reading.kind == "attribute":
            grouped[reading.name].append(reading)
    return {name: readings for name, readings in grouped.items() if max(r.likelihood for r in readings) >= min_likelihood}


class Structured:
    name = "structured"
    description = "Metadata search driven by query understanding (fields, types, attributes)"
    uses_context = False
    learns = False

    def __init__(self, resources: "Resources") -> None:
        self.index = resources.metadata

    def retrieve(self, query: "QueryUnderstanding", context: "Context", k: int) -> Candidates:
        if query.is_empty:
            return Candidates.empty(self.name)
        idx = self.index
        token_parts = self._token_parts(query)
        field_parts, matched_fields = self._field_parts(query)
        constraints = attribute_readings(query)
        attributes = {name: idx.attribute_rows(readings) for name, readings in constraints.items()}
        touched = [rows for rows, _ in token_parts + field_parts] + [rows for rows, _ in attributes.values()]
        score = RowScores(union_rows(touched, idx.n), idx.n)
        for rows, values in token_parts:  # field-weighted token matches, scaled to [0, 1] (1 = the best match)
            score.add(rows, values)
        best = score.values.max() if len(score.rows) else 0.0
        if best > 0:
            score.values /= best
        for rows, values in field_parts:
            score.add(rows, values)
        damping = np.ones(len(score.rows))
        satisfies_any = np.zeros(len(score.rows), dtype=bool)
        outside_damping = []  # what every untouched row (it satisfies no attribute) is damped by
        for name, readings in constraints.items():
            rows, values = attributes[name]
            match = np.zeros(len(score.rows))
            match[score.at(rows)] = values
            score.values += BOOST["attribute"] * match
            violated = 1.0 - ATTRIBUTE_DAMPING * max(r.likelihood for r in readings)
            damping *= np.where(match > 0, 1.0, violated)
            outside_damping.append(violated)
            satisfies_any |= match > 0
        wanted = {t: p for t, p in query.entity_types.items() if p >= CONSTRAINT_MIN and t in idx.type_names}
        if wanted:
            type_ok = idx.type_mask(wanted, score.rows)
            damping *= np.where(type_ok, 1.0, (1.0 - max(wanted.values())) ** TYPE_DAMPING_POWER)
            satisfies_any |= type_ok
        popularity = idx.popularity[score.rows]
        score.values[satisfies_any] += CONSTRAINT_BASE * (0.5 + popularity[satisfies_any])
        score.values *= damping
        kept = score.values > 0
        positions = [score.rows[kept]]
        scores = [score.values[kept] + POPULARITY_TIEBREAK * popularity[kept]]
        if wanted:  # untouched rows of a wanted type: one damping for all, so the most popular win
            rows = best_rows(idx.type_by_popularity, idx.type_codes(wanted), idx.popularity, score.rows, k)
            values, rows_damping = CONSTRAINT_BASE * (0.5 + idx.popularity[rows]), np.ones(len(rows))
            for violated in outside_damping:
                rows_damping *= violated
            values *= rows_damping
            positions.append(rows[values > 0])
            scores.append(values[values > 0] + POPULARITY_TIEBREAK * idx.popularity[rows[values > 0]])
        positions, scores = np.concatenate(positions), np.concatenate(scores)
        if len(positions) == 0:
            return Candidates.empty(self.name, reason="no field or attribute matched")
        return Candidates.from_scores(
            self.name, idx.ids, positions, scores, k,
            tokens=list(query.corrected[:MAX_QUERY_TOKENS]),
            fields=matched_fields,
            constraints={n: sorted({r.value for r in rs}) for n, rs in constraints.items()},
            entity_types=sorted(wanted),
        )

    def _token_parts(self, query: "QueryUnderstanding") -> list[tuple[np.ndarray, float]]:
        """Field-weighted token matches as (rows, amount) additions (corrected tokens fully,
        their typed spellings a little; 'love' also reaches 'Lover', a little less)."""
        parts: list[tuple[np.ndarray, float]] = []
        weights: dict[str, float] = {}
        content = set(query.content_tokens) - FILLERS
        for typed, corrected in list(zip(query.tokens, query.corrected))[:MAX_QUERY_TOKENS]:
            if corrected in content:
                weights[corrected] = 1.0
                if typed != corrected:
                    weights.setdefault(typed, TYPED_TOKEN_WEIGHT)
        for token, weight in weights.items():
            for field_name, field_weight in FIELD_WEIGHTS.items():
                rows = self.index.postings[field_name].get(token)
                if rows is not None:
                    parts.append((rows, weight * field_weight * self.index.idf(len(rows))))
            longer = self.index.longer_title_rows(token)
            if len(longer):
                parts.append((longer, weight * PREFIX_WEIGHT * FIELD_WEIGHTS["title"] * self.index.idf(len(longer))))
        return parts

    def _field_parts(self, query: "QueryUnderstanding") -> tuple[list[tuple[np.ndarray, np.ndarray]], list[dict]]:
        """Artist / album / title readings bring their entities and related works: (rows, amounts)
        additions, and the readings that matched."""
        names = self.index.names
        popularity = self.index.popularity
        parts: list[tuple[np.ndarray, np.ndarray]] = []
        matched: list[dict] = []
        for reading in query.interpretations:
            if reading.kind != "field":
                continue
            key, likelihood = normalize_name(reading.value), reading.likelihood
            if reading.name == "artist":
                own, works = names["artist"].get(key), names["creator"].get(key)
                own_boost, work_boost = BOOST["artist_entity"], BOOST["artist_work"]
            elif reading.name == "album":
                own, works = names["album"].get(key), names["album_of"].get(key)
                own_boost, work_boost = BOOST["album_entity"], BOOST["album_track"]
            else:
                own, works, own_boost, work_boost = names["title"].get(key), None, BOOST["title"], 0.0
            if own is not None:
                parts.append((own, likelihood * own_boost * (0.5 + popularity[own])))
            if works is not None:
                works = works[:RELATED_LIMIT]
                parts.append((works, likelihood * work_boost * (0.5 + popularity[works])))
                rest = [t for i, t in enumerate(query.corrected) if not reading.span[0] <= i < reading.span[1]]
                both = self.index.with_title_prefix(works, rest)
                parts.append((both, likelihood * BOOST["work_title"] * (0.5 + popularity[both])))  # 'tayler love' -> 'Lover'
            if own is not None or works is not None:
                matched.append({"field": reading.name, "value": reading.value, "likelihood": round(likelihood, 3)})
        return parts, matched

"""``structured``: field-weighted metadata search driven by the query's interpretations.

Score = field-weighted token matches (artist > title > album > genre/mood > description,
on the typo-corrected tokens) + boosts from the interpretations (a matched artist brings
their entity and most popular works; a matched album its tracks; an exact title its
entities; genre/mood/decade/language attributes boost matching entities). Constraints then
damp what contradicts a confident reading: other entity types than the wanted one, other
decades / genres / moods / languages. A query of only constraints ("80s rock", "podcasts")
returns the entities satisfying them, most popular first.

All postings and attribute arrays are built once per catalog (:func:`metadata_index`). A query
touches only its rows: scores live in a compact array over the rows its tokens, readings and
attribute constraints reach (cost: those postings, not the catalog size); rows that merely
have a wanted entity type all score ``CONSTRAINT_BASE x (0.5 + popularity)`` times the same
damping, so they come from that type's rows pre-sorted by popularity, k + a few at a time.
"""

from __future__ import annotations

import bisect
import math
import weakref
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from ltrr_core.catalog.schema import Catalog
from ltrr_core.retrieval.candidates import Candidates
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
MIN_PREFIX = 3
PREFIX_CACHE = 65_536  # tokens whose prefix rows are kept
PREFIX_WEIGHT = 0.6  # a title word that merely starts with a query word
CONSTRAINT_MIN = 0.65  # attribute/type readings at least this likely act as (soft) constraints
ATTRIBUTE_DAMPING = 0.75  # violating a confident attribute: score x (1 - ATTRIBUTE_DAMPING x likelihood)
TYPE_DAMPING_POWER = 2.0  # another entity type than the wanted one: score x (1 - likelihood) ** power
CONSTRAINT_BASE = 0.1  # score of an entity that merely satisfies a constraint (x (0.5 + popularity))
POPULARITY_TIEBREAK = 0.01
UNION_MASK_RATIO = 32  # union by mask when the rows touched exceed n / this


@dataclass(frozen=True)
class Postings:
    positions: np.ndarray  # int64, unique
    weights: np.ndarray  # float64 in (0, 1]


class MetadataIndex:
    """Per-field inverted indexes and per-attribute arrays over one catalog (positions = rows)."""

    def __init__(self, catalog: Catalog) -> None:
        self.n = len(catalog)
        self.ids = [e.id for e in catalog]
        self.type_names = sorted({e.type for e in catalog})
        type_code = {t: i for i, t in enumerate(self.type_names)}
        self.types = np.array([type_code[e.type] for e in catalog], dtype=np.int16)
        self.popularity = np.array([e.popularity for e in catalog], dtype=np.float64)
        self.decade = np.array([e.year // 10 * 10 if e.year else -1 for e in catalog], dtype=np.int32)
        self.language_names = sorted({e.language for e in catalog})
        language_code = {v: i for i, v in enumerate(self.language_names)}
        self.language = np.array([language_code[e.language] for e in catalog], dtype=np.int32)
        self.added_day = np.array([_day(e.date_added or e.release_date) for e in catalog], dtype=np.float64)
        self.decade_rows = _rows_by_value(self.decade)
        self.language_rows = _rows_by_value(self.language)
        self.type_rows = _rows_by_value(self.types)  # type code -> rows, ascending
        self.type_by_popularity = {t: self._by_popularity(rows) for t, rows in self.type_rows.items()}

        fields: dict[str, dict[str, list[int]]] = {f: defaultdict(list) for f in FIELD_WEIGHTS}

        def post(field_name: str, text: str, row: int) -> None:
            for token in text.split():
                rows = fields[field_name][token]
                if not rows or rows[-1] != row:  # rows arrive in order: unique and sorted for free
                    rows.append(row)

        names: dict[str, dict[str, list[int]]] = {r: defaultdict(list) for r in ("artist", "creator", "album", "album_of", "title")}
        genres: dict[str, dict[int, float]] = defaultdict(dict)
        moods: dict[str, dict[int, float]] = defaultdict(dict)
        for i, e in enumerate(catalog):
            title, creator, album = normalize_name(e.title), normalize_name(e.creator), normalize_name(e.album)
            artist_text = f"{title} {creator}" if e.type == "artist" else creator
            for field_name, text in (("artist", artist_text), ("title", title), ("album", album)):
                post(field_name, text, i)
            post("description", normalize_name(e.description), i)
            for genre, weight in e.genres.items():
                key = normalize_name(genre)
                genres[key][i] = max(weight, genres[key].get(i, 0.0))
                post("genre", key, i)
            for mood in e.moods:
                key = normalize_name(mood)
                moods[key][i] = 1.0
                post("mood", key, i)
            names["title"][title].append(i)
            if creator:
                names["creator"][creator].append(i)
            if e.type == "artist":
                names["artist"][title].append(i)
            if e.type == "album":
                names["album"][title].append(i)
            if album:
                names["album_of"][album].append(i)
        self.postings = {f: {t: np.array(p, dtype=np.int64) for t, p in idx.items()} for f, idx in fields.items()}
        self._title_vocab = sorted(self.postings["title"])
        self._prefix_rows = lru_cache(maxsize=PREFIX_CACHE)(self._token_prefix_rows)
        self._longer_rows = lru_cache(maxsize=PREFIX_CACHE)(self._token_longer_rows)
        self.names = {r: {k: self._by_popularity(rows) for k, rows in idx.items()} for r, idx in names.items()}
        self.attributes: dict[str, dict[str, Postings]] = {
            "genre": {g: _postings(rows) for g, rows in genres.items()},
            "mood": {m: _postings(rows) for m, rows in moods.items()},
        }

    def _by_popularity(self, rows: list[int] | np.ndarray) -> np.ndarray:
        array = np.array(rows, dtype=np.int64)
        return array[np.lexsort((array, -self.popularity[array]))] if len(array) > 1 else array

    def idf(self, df: int) -> float:
        return math.log(1.0 + self.n / max(df, 1))

    def with_title_prefix(self, rows: np.ndarray, tokens: list[str]) -> np.ndarray:
        """The ``rows`` whose title has a word starting with one of ``tokens`` ('love' -> 'Lover')."""
        keep = np.zeros(len(rows), dtype=bool)
        for token in tokens:
            if len(token) >= MIN_PREFIX and len(prefixed := self._prefix_rows(token)):
                at = np.minimum(np.searchsorted(prefixed, rows), len(prefixed) - 1)
                keep |= prefixed[at] == rows
        return rows[keep]

    def longer_title_rows(self, token: str) -> np.ndarray:
        """Rows with a title word that starts with ``token`` but is not ``token`` itself."""
        return self._longer_rows(token)

    def _token_prefix_rows(self, token: str) -> np.ndarray:
        start = bisect.bisect_left(self._title_vocab, token)
        end = bisect.bisect_left(self._title_vocab, token + "\uffff")
        words = self._title_vocab[start:end]
        rows = np.unique(np.concatenate([self.postings["title"][w] for w in words])) if words else np.empty(0, np.int64)
        rows.setflags(write=False)  # cached: shared by every later query with this token
        return rows

    def _token_longer_rows(self, token: str) -> np.ndarray:
        rows = self._prefix_rows(token) if len(token) >= MIN_PREFIX else np.empty(0, np.int64)
        exact = self.postings["title"].get(token)
        rows = np.setdiff1d(rows, exact, assume_unique=True) if exact is not None else rows
        rows.setflags(write=False)
        return rows

    def type_codes(self, wanted: dict[str, float]) -> list[int]:
        return [self.type_names.index(t) for t in wanted if t in self.type_names]

    def type_mask(self, wanted: dict[str, float], rows: np.ndarray) -> np.ndarray:
        """For each of ``rows``: is its entity type one of ``wanted``?"""
        return np.isin(self.types[rows], self.type_codes(wanted))

    def attribute_rows(self, readings: list["Interpretation"]) -> tuple[np.ndarray, np.ndarray]:
        """(rows, match): the sorted rows satisfying any of ``readings`` and their likelihood x
        weight of the best reading each satisfies."""
        parts = []
        for reading in readings:
            if reading.name == "decade":
                rows = self.decade_rows.get(_decade_value(reading.value), NO_ROWS)
                weights = np.ones(len(rows))
            elif reading.name == "language":
                code = self.language_names.index(reading.value) if reading.value in self.language_names else -2
                rows = self.language_rows.get(code, NO_ROWS)
                weights = np.ones(len(rows))
            else:
                postings = self.attributes.get(reading.name, {}).get(normalize_name(reading.value))
                if postings is None:
                    continue
                rows, weights = postings.positions, postings.weights
            parts.append((rows, reading.likelihood * weights))
        match = RowScores(union_rows([r for r, _ in parts], self.n), self.n)
        for part_rows, values in parts:
            np.maximum.at(match.values, match.at(part_rows), values)
        return match.rows, match.values


_INDEXES: "weakref.WeakKeyDictionary[Catalog, MetadataIndex]" = weakref.WeakKeyDictionary()


def metadata_index(catalog: Catalog) -> MetadataIndex:
    """The catalog's MetadataIndex, built once per catalog object (shared by structured and explore)."""
    if catalog not in _INDEXES:
        _INDEXES[catalog] = MetadataIndex(catalog)
    return _INDEXES[catalog]


NO_ROWS = np.empty(0, np.int64)


def _rows_by_value(values: np.ndarray) -> dict[int, np.ndarray]:
    """value -> the ascending rows holding it (one stable sort, not one scan per value)."""
    order = np.argsort(values, kind="stable")
    cuts = np.flatnonzero(np.diff(values[order])) + 1
    return {int(values[group[0]]): group.astype(np.int64) for group in np.split(order, cuts) if len(group)}


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


def union_rows(parts: list[np.ndarray], n: int) -> np.ndarray:
    """The ascending union of row arrays: sorted unique for a few rows, a mask over ``n`` when
    they are many (a byte per entity, ~10x faster than sorting a large share of the catalog)."""
    total = sum(len(p) for p in parts)
    if total == 0:
        return NO_ROWS
    if total * UNION_MASK_RATIO < n:
        return np.unique(np.concatenate(parts))
    mask = np.zeros(n, dtype=bool)
    for rows in parts:
        mask[rows] = True
    return np.flatnonzero(mask)


def _contains(sorted_rows: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each of ``rows``: is it in the ascending ``sorted_rows``?"""
    if len(sorted_rows) == 0:
        return np.zeros(len(rows), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_rows, rows), len(sorted_rows) - 1)
    return sorted_rows[at] == rows


class RowScores:
    """Scores over a sorted set of rows (compact, instead of one slot per catalog entity):
    ``add(rows, values)`` adds to those rows, which must all be in the set. Rows are found by
    binary search, or, for a set above ``n / UNION_MASK_RATIO`` rows, through an inverse map
    (an uninitialized array over ``n``, written only at the set's rows)."""

    def __init__(self, rows: np.ndarray, n: int) -> None:
        self.rows = rows
        self.values = np.zeros(len(rows))
        self._inverse: np.ndarray | None = None
        if len(rows) * UNION_MASK_RATIO >= n:
            self._inverse = np.empty(n, dtype=np.int64)
            self._inverse[rows] = np.arange(len(rows))

    def at(self, rows: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.rows, rows) if self._inverse is None else self._inverse[rows]

    def add(self, rows: np.ndarray, values: np.ndarray | float) -> None:
        self.values[self.at(rows)] += values


def _postings(rows: dict[int, float]) -> Postings:
    positions = np.array(sorted(rows), dtype=np.int64)
    return Postings(positions, np.array([rows[p] for p in positions.tolist()], dtype=np.float64))


def _day(iso: str) -> float:
    try:
        return float(date.fromisoformat(iso[:10]).toordinal())
    except ValueError:
        return math.nan


def _decade_value(value: str) -> int:
    return int(value[:4]) if value[:4].isdigit() else -2


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
        self.index = metadata_index(resources.catalog)

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

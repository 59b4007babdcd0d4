"""The metadata index of the ``structured`` and ``explore`` strategies, and its row-set helpers.

Per-field token postings, name -> rows tables (by popularity), genre/mood postings with weights,
and per-row attribute arrays (type, popularity, decade, language, date added), all columnar:
every postings table is a :class:`~ltrr_core.base.snapshot.KeyedRows` (CSR), so the
index saves to a snapshot (``metadata/`` in the catalog's cache dir) and loads from it in a
fraction of the build's time. Rows are catalog positions.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ltrr_core.catalog.schema import Catalog
from ltrr_core.base import snapshot
from ltrr_core.base.snapshot import KeyedRows
from ltrr_core.understanding.understander import normalize_name

if TYPE_CHECKING:
    from ltrr_core.understanding.query import Interpretation

FIELDS = ("artist", "title", "album", "genre", "mood", "description")
NAME_ROLES = ("artist", "creator", "album", "album_of", "title")
ATTRIBUTES = ("genre", "mood")
COLUMNS = ("types", "popularity", "decade", "language", "added_day")
MIN_PREFIX = 3
PREFIX_CACHE = 65_536  # tokens whose prefix rows are kept
UNION_MASK_RATIO = 32  # union by mask when the rows touched exceed n / this
SNAPSHOT_KIND, SNAPSHOT_VERSION = "metadata", 1
NO_ROWS = np.empty(0, np.int64)


class MetadataIndex:
    """Per-field inverted indexes and per-attribute arrays over one catalog (positions = rows)."""

    def __init__(self, ids: list[str], columns: dict[str, np.ndarray], type_names: list[str], language_names: list[str],
                 postings: dict[str, KeyedRows], names: dict[str, KeyedRows], attributes: dict[str, KeyedRows]) -> None:
        self.n = len(ids)
        self.ids = ids
        self.type_names, self.language_names = type_names, language_names
        self.types, self.popularity, self.decade = columns["types"], columns["popularity"], columns["decade"]
        self.language, self.added_day = columns["language"], columns["added_day"]
        self.postings, self.names, self.attributes = postings, names, attributes
        self.decade_rows = _rows_by_value(self.decade)
        self.language_rows = _rows_by_value(self.language)
        self.type_rows = _rows_by_value(self.types)  # type code -> rows, ascending
        self.type_by_popularity = {t: _by_popularity(rows, self.popularity) for t, rows in self.type_rows.items()}
        self._title_vocab = postings["title"].keys  # sorted
        self._prefix_rows = lru_cache(maxsize=PREFIX_CACHE)(self._token_prefix_rows)
        self._longer_rows = lru_cache(maxsize=PREFIX_CACHE)(self._token_longer_rows)

    @classmethod
    def build(cls, catalog: Catalog) -> "MetadataIndex":
        type_names = sorted({e.type for e in catalog})
        type_code = {t: i for i, t in enumerate(type_names)}
        language_names = sorted({e.language for e in catalog})
        language_code = {v: i for i, v in enumerate(language_names)}
        columns = {
            "types": np.array([type_code[e.type] for e in catalog], dtype=np.int16),
            "popularity": np.array([e.popularity for e in catalog], dtype=np.float64),
            "decade": np.array([e.year // 10 * 10 if e.year else -1 for e in catalog], dtype=np.int32),
            "language": np.array([language_code[e.language] for e in catalog], dtype=np.int32),
            "added_day": np.array([_day(e.date_added or e.release_date) for e in catalog], dtype=np.float64),
        }
        popularity = columns["popularity"]
        fields: dict[str, dict[str, list[int]]] = {f: defaultdict(list) for f in FIELDS}

        def post(field_name: str, text: str, row: int) -> None:
            for token in text.split():
                rows = fields[field_name][token]
                if not rows or rows[-1] != row:  # rows arrive in order: unique and sorted for free
                    rows.append(row)

        names: dict[str, dict[str, list[int]]] = {r: defaultdict(list) for r in NAME_ROLES}
        weights: dict[str, dict[str, dict[int, float]]] = {a: defaultdict(dict) for a in ATTRIBUTES}
        for i, e in enumerate(catalog):
            title, creator, album = normalize_name(e.title), normalize_name(e.creator), normalize_name(e.album)
            artist_text = f"{title} {creator}" if e.type == "artist" else creator
            for field_name, text in (("artist", artist_text), ("title", title), ("album", album)):
                post(field_name, text, i)
            post("description", normalize_name(e.description), i)
            for genre, weight in e.genres.items():
                key = normalize_name(genre)
                weights["genre"][key][i] = max(weight, weights["genre"][key].get(i, 0.0))
                post("genre", key, i)
            for mood in e.moods:
                key = normalize_name(mood)
                weights["mood"][key][i] = 1.0
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

        attributes = {}
        for name, table in weights.items():
            rows = {key: sorted(by_row) for key, by_row in table.items()}
            attributes[name] = KeyedRows.from_lists(rows, {key: [table[key][r] for r in rows[key]] for key in rows})
        name_tables = {role: KeyedRows.from_lists({k: _by_popularity(np.array(rows, dtype=np.int64), popularity)
                                                   for k, rows in idx.items()})
                       for role, idx in names.items()}
        return cls(catalog.column("id"), columns, type_names, language_names,
                   {f: KeyedRows.from_lists(idx) for f, idx in fields.items()}, name_tables, attributes)

    # -- snapshot ----------------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        arrays = {name: getattr(self, name) for name in COLUMNS}
        for group, tables in (("postings", self.postings), ("names", self.names), ("attributes", self.attributes)):
            for name, table in tables.items():
                arrays |= table.to_arrays(f"{group}.{name}")
        snapshot.save(directory, SNAPSHOT_KIND, SNAPSHOT_VERSION, self.n, arrays,
                      type_names=self.type_names, language_names=self.language_names)

    @classmethod
    def load(cls, directory: Path, catalog: Catalog) -> "MetadataIndex | None":
        """The index :meth:`save` wrote for this catalog, or None (absent, other version or size, corrupt)."""
        found = snapshot.load(directory, SNAPSHOT_KIND, SNAPSHOT_VERSION, len(catalog))
        if found is None:
            return None
        arrays, extra = found
        try:
            columns = {name: arrays[name] for name in COLUMNS}
            groups = [{name: KeyedRows.from_arrays(arrays, f"{group}.{name}") for name in names}
                      for group, names in (("postings", FIELDS), ("names", NAME_ROLES), ("attributes", ATTRIBUTES))]
        except (KeyError, ValueError):
            return None
        n = len(catalog)
        tables = [t for group in groups for t in group.values()]
        if any(len(c) != n for c in columns.values()) or any(len(t.rows) and (t.rows.min() < 0 or t.rows.max() >= n) for t in tables):
            return None
        return cls(catalog.column("id"), columns, extra["type_names"], extra["language_names"], *groups)

    @classmethod
    def load_or_build(cls, catalog: Catalog, directory: Path) -> "MetadataIndex":
        """From the catalog's snapshot in ``directory`` when it is readable, else built (and saved there)."""
        index = cls.load(directory, catalog)
        if index is None:
            index = cls.build(catalog)
            index.save(directory)
        return index

    # -- reading -----------------------------------------------------------------------------

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
                rows = self.decade_rows.get(decade_value(reading.value), NO_ROWS)
                weights = np.ones(len(rows))
            elif reading.name == "language":
                code = self.language_names.index(reading.value) if reading.value in self.language_names else -2
                rows = self.language_rows.get(code, NO_ROWS)
                weights = np.ones(len(rows))
            else:
                table = self.attributes.get(reading.name)
                key = normalize_name(reading.value)
                if table is None or key not in table:
                    continue
                rows, weights = table[key], table.values_of(key)
            parts.append((rows, reading.likelihood * weights))
        match = RowScores(union_rows([r for r, _ in parts], self.n), self.n)
        for part_rows, values in parts:
            np.maximum.at(match.values, match.at(part_rows), values)
        return match.rows, match.values


def _by_popularity(rows: np.ndarray, popularity: np.ndarray) -> np.ndarray:
    """``rows`` most popular first, ties by row."""
    return rows[np.lexsort((rows, -popularity[rows]))] if len(rows) > 1 else rows


def _rows_by_value(values: np.ndarray) -> dict[int, np.ndarray]:
    """value -> the ascending rows holding it (one stable sort, not one scan per value)."""
    order = np.argsort(values, kind="stable")
    cuts = np.flatnonzero(np.diff(values[order])) + 1
    return {int(values[group[0]]): group.astype(np.int64) for group in np.split(order, cuts) if len(group)}


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


def _day(iso: str) -> float:
    try:
        return float(date.fromisoformat(iso[:10]).toordinal())
    except ValueError:
        return math.nan


def decade_value(value: str) -> int:
    """The decade reading's value ("1980s") as the decade column's code (1980; -2 when not one)."""
    return int(value[:4]) if value[:4].isdigit() else -2

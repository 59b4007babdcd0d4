"""Learning-to-rank features of a candidate pool: every feature is named and described in ``FEATURES``.

``build_features(pool, query, resources, query_vector)`` returns one float32 row per pool
row, columns in ``FEATURE_NAMES`` order. Missing values are NaN (a strategy that did not
retrieve the row, an entity without a date); LightGBM learns where NaN should go.

Per-catalog precomputation (field BM25 matrices over ``text.analyze`` tokens, dates, types)
happens once per catalog in :class:`CatalogFeatures`; per query everything is numpy over
the pool's rows, so the cost does not grow with the catalog.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ltrr_core.catalog.schema import ENTITY_TYPES, Catalog
from ltrr_core.ranking.pool import CandidatePool
from ltrr_core.retrieval.indexes.bm25 import BM25Index
from ltrr_core.retrieval.registry import STRATEGY_ORDER
from ltrr_core.understanding.text import analyze

if TYPE_CHECKING:
    from ltrr_core.retrieval.resources import Resources
    from ltrr_core.understanding.query import QueryUnderstanding

FIELDS: tuple[str, ...] = ("title", "creator", "album", "description")
REFERENCE_DATE = date(2025, 1, 1)  # freshness is measured from this fixed day, so features never drift


@dataclass(frozen=True)
class Feature:
    name: str
    description: str


FEATURES: tuple[Feature, ...] = (
    *(Feature(f"score_{s}", f"{s} strategy's own score (memory: the Q2E score); NaN when not retrieved") for s in STRATEGY_ORDER),
    *(Feature(f"rank_{s}", f"1-based rank in the {s} strategy's list; NaN when not retrieved") for s in STRATEGY_ORDER),
    Feature("n_strategies", "how many strategies retrieved the candidate"),
    Feature("dense_sim", "dot product of the query vector with the entity embedding (cosine; every row)"),
    Feature("dense_sim_gap", "best dense_sim in the pool minus this row's (0 for the closest row)"),
    *(Feature(f"bm25_{f}", f"BM25 of the analysed query over the {f} field alone (stemmed, stopwords dropped)") for f in FIELDS),
    *(Feature(f"match_{f}", f"fraction of analysed query tokens present in the {f} field") for f in FIELDS),
    Feature("bm25_description_rel", "bm25_description divided by the pool's best bm25_description (0..1)"),
    Feature("popularity", "catalog popularity in [0, 1]"),
    Feature("days_since_added", f"days from date_added to {REFERENCE_DATE.isoformat()}; NaN without a date"),
    Feature("type_match", "likelihood the understood query wants this entity's type (query.entity_types)"),
    Feature("type_intent", "strongest entity-type likelihood in the query (0 = no type asked for)"),
    Feature("query_tokens", "number of query tokens as typed"),
    Feature("query_terms", "number of analysed query terms (stemmed, stopwords dropped)"),
)
FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
COLUMN: dict[str, int] = {name: i for i, name in enumerate(FEATURE_NAMES)}


class CatalogFeatures:
    """What features need from a catalog, built once: field BM25 matrices, dates, type codes."""

    def __init__(self, catalog: Catalog, cache_dir: Path | None = None) -> None:
        """``cache_dir``: each field's BM25 loads from ``features-bm25-<field>/`` there when saved
        for this catalog's size, else it is built (and saved there)."""
        self.fields = {name: self._field_index(catalog, name, cache_dir) for name in FIELDS}
        self.n = len(catalog)
        added = catalog.column("date_added")
        day_of = {iso: _days_since(iso) for iso in set(added)}  # a few thousand distinct dates, not N parses
        self.days = np.array([day_of[iso] for iso in added], dtype=np.float64)
        type_code = {t: i for i, t in enumerate(ENTITY_TYPES)}
        self.types = np.array([type_code.get(t, len(ENTITY_TYPES)) for t in catalog.column("type")], dtype=np.int64)

    @staticmethod
    def _field_index(catalog: Catalog, name: str, cache_dir: Path | None) -> BM25Index:
        def build() -> BM25Index:
            return BM25Index.build(analyze(getattr(e, name), max_chars=None) for e in catalog)

        if cache_dir is None:
            return build()
        return BM25Index.load_or_build(cache_dir / f"features-bm25-{name}", len(catalog), build)

    def field_scores(self, name: str, terms: list[str], positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(BM25 of ``terms`` on field ``name``, fraction of distinct terms present) for ``positions``.

        Looks each pool row up in each term's postings (a column of the field's CSC weights, rows
        ascending) by binary search: the cost is pool x log(postings), nothing of catalog size."""
        index = self.fields[name]
        columns = index.weights
        distinct = list(dict.fromkeys(terms))
        scores, present = np.zeros(len(positions)), np.zeros(len(positions))
        for term in distinct:
            column = index.vocab.get(term)
            if column is None:
                continue
            start, end = columns.indptr[column], columns.indptr[column + 1]
            if end == start:
                continue
            rows = columns.indices[start:end]
            at = np.minimum(np.searchsorted(rows, positions), len(rows) - 1)
            hit = rows[at] == positions
            weights = columns.data[start:end][at[hit]]
            scores[hit] += terms.count(term) * weights  # a repeated term counts twice, as in BM25Okapi
            present[hit] += weights > 0
        return scores, present / len(distinct) if distinct else present


def _days_since(iso: str) -> float:
    try:
        return float((REFERENCE_DATE - date.fromisoformat(iso[:10])).days)
    except ValueError:
        return np.nan


_BY_CATALOG: "weakref.WeakKeyDictionary[Catalog, CatalogFeatures]" = weakref.WeakKeyDictionary()


def catalog_features(catalog: Catalog, cache_dir: Path | None = None) -> CatalogFeatures:
    """The catalog's :class:`CatalogFeatures`, built (or loaded from ``cache_dir``) on first use and
    kept while the catalog lives."""
    built = _BY_CATALOG.get(catalog)
    if built is None:
        built = _BY_CATALOG[catalog] = CatalogFeatures(catalog, cache_dir)
    return built


def build_features(
    pool: CandidatePool, query: "QueryUnderstanding", resources: "Resources", query_vector: np.ndarray | None
) -> np.ndarray:
    """The (len(pool), len(FEATURE_NAMES)) float32 feature matrix; ``query_vector`` None -> dense NaN."""
    n = len(pool)
    out = np.full((n, len(FEATURE_NAMES)), np.nan, dtype=np.float64)
    if n == 0:
        return out.astype(np.float32)
    pos = pool.positions
    cat = catalog_features(resources.catalog, resources.cache_dir)
    for s in STRATEGY_ORDER:
        if s in pool.scores:
            out[:, COLUMN[f"score_{s}"]] = pool.scores[s]
            out[:, COLUMN[f"rank_{s}"]] = pool.ranks[s]
    out[:, COLUMN["n_strategies"]] = [len(f) for f in pool.found_by]
    if query_vector is not None:
        sim = resources.embeddings[pos] @ np.asarray(query_vector, dtype=np.float32)
        out[:, COLUMN["dense_sim"]] = sim
        out[:, COLUMN["dense_sim_gap"]] = sim.max() - sim
    terms = analyze(" ".join(query.corrected))
    for name in FIELDS:
        scores, matched = cat.field_scores(name, terms, pos)
        out[:, COLUMN[f"bm25_{name}"]] = scores
        out[:, COLUMN[f"match_{name}"]] = matched
    best = out[:, COLUMN["bm25_description"]].max()
    out[:, COLUMN["bm25_description_rel"]] = out[:, COLUMN["bm25_description"]] / best if best > 0 else 0.0
    out[:, COLUMN["popularity"]] = resources.popularity[pos]
    out[:, COLUMN["days_since_added"]] = cat.days[pos]
    wanted = np.zeros(len(ENTITY_TYPES) + 1)
    for entity_type, likelihood in query.entity_types.items():
        if entity_type in ENTITY_TYPES:
            wanted[ENTITY_TYPES.index(entity_type)] = likelihood
    out[:, COLUMN["type_match"]] = wanted[cat.types[pos]]
    out[:, COLUMN["type_intent"]] = wanted.max()
    out[:, COLUMN["query_tokens"]] = len(query.tokens)
    out[:, COLUMN["query_terms"]] = len(terms)
    return out.astype(np.float32)

"""``structured`` and ``explore`` score only the rows a query touches: on the default catalog
they return the same lists, scores included, as the straightforward whole-catalog computation
(restated here as the reference, over one score slot per entity)."""

from __future__ import annotations

import numpy as np
import pytest

from ltrr_core.base.config import Settings
from ltrr_core.services.latency import BENCH_MIX
from ltrr_core.retrieval.resources import Resources
from ltrr_core.retrieval.strategies import explore as ex
from ltrr_core.retrieval.indexes.metadata import MetadataIndex, decade_value
from ltrr_core.retrieval.strategies import structured as st
from ltrr_core.selection.context import Context
from ltrr_core.simulation.traffic import TrafficGenerator
from ltrr_core.understanding.understander import normalize_name

K = 100
EXTRA_QUERIES = ["love", "80s rock", "podcasts", "songs", "jazz playlists", "english songs", "sad k-pop songs",
                 "tayler love", "chill", "90s hip hop albums", "stations", "spanish latin", "new indie", "episodes"]


def _attribute_match(idx: MetadataIndex, readings) -> np.ndarray:
    match = np.zeros(idx.n)
    for reading in readings:
        if reading.name == "decade":
            rows, weights = np.flatnonzero(idx.decade == decade_value(reading.value)), 1.0
        elif reading.name == "language":
            code = idx.language_names.index(reading.value) if reading.value in idx.language_names else -2
            rows, weights = np.flatnonzero(idx.language == code), 1.0
        else:
            key = normalize_name(reading.value)
            if key not in idx.attributes.get(reading.name, {}):
                continue
            rows, weights = idx.attributes[reading.name][key], idx.attributes[reading.name].values_of(key)
        np.maximum.at(match, rows, reading.likelihood * weights)
    return match


def _structured_reference(strategy: st.Structured, query, k: int):
    idx = strategy.index
    score = np.zeros(idx.n)
    for rows, value in strategy._token_parts(query):
        score[rows] += value
    best = score.max()
    score = score / best if best > 0 else score
    for rows, value in strategy._field_parts(query)[0]:
        score[rows] += value
    damping, satisfies = np.ones(idx.n), np.zeros(idx.n, dtype=bool)
    for readings in st.attribute_readings(query).values():
        match = _attribute_match(idx, readings)
        score += st.BOOST["attribute"] * match
        damping *= np.where(match > 0, 1.0, 1.0 - st.ATTRIBUTE_DAMPING * max(r.likelihood for r in readings))
        satisfies |= match > 0
    wanted = {t: p for t, p in query.entity_types.items() if p >= st.CONSTRAINT_MIN and t in idx.type_names}
    if wanted:
        type_ok = np.isin(idx.types, idx.type_codes(wanted))
        damping *= np.where(type_ok, 1.0, (1.0 - max(wanted.values())) ** st.TYPE_DAMPING_POWER)
        satisfies |= type_ok
    score[satisfies] += st.CONSTRAINT_BASE * (0.5 + idx.popularity[satisfies])
    score *= damping
    positions = np.flatnonzero(score > 0)
    return st.Candidates.from_scores("structured", idx.ids, positions,
                                     score[positions] + st.POPULARITY_TIEBREAK * idx.popularity[positions], k)


def _explore_reference(strategy: ex.Explore, query, k: int):
    idx = strategy.index
    match = np.zeros(idx.n)
    for rows, likelihood in strategy._scope_fields(query)[0]:
        np.maximum.at(match, rows, likelihood)
    for readings in st.attribute_readings(query, min_likelihood=0.0).values():
        match += _attribute_match(idx, readings)
    wanted = {t: p for t, p in query.entity_types.items() if t in idx.type_names}
    if wanted:
        type_ok = np.isin(idx.types, idx.type_codes(wanted))
        if match.any():
            match *= np.where(type_ok, 1.0, 1.0 - ex.TYPE_DAMPING * max(wanted.values()))
        else:
            match[type_ok] = max(wanted.values())
    if not match.any():
        for token in dict.fromkeys(query.content_tokens[: st.MAX_QUERY_TOKENS]):
            for field_name in ("artist", "title", "album", "description"):
                rows = idx.postings[field_name].get(token)
                if rows is not None:
                    match[rows] += ex.TOKEN_MATCH
    positions = np.flatnonzero(match > 0)
    if len(positions) == 0:
        return st.Candidates.empty("explore")
    relative = match[positions] / match[positions].max()
    return st.Candidates.from_scores("explore", idx.ids, positions, relative * strategy.prior[positions], k)


@pytest.fixture(scope="module")
def setup(default_catalog, tmp_path_factory):
    res = Resources(default_catalog, Settings(cache_dir=tmp_path_factory.mktemp("cache")))
    intents = TrafficGenerator(default_catalog, seed=3).draw(300, BENCH_MIX)
    queries = [res.understander.understand(q) for q in EXTRA_QUERIES + [i.query for i in intents]]
    return res, [q for q in queries if not q.is_empty]


@pytest.mark.parametrize("name, reference", [("structured", _structured_reference), ("explore", _explore_reference)])
def test_touched_rows_only_equals_the_whole_catalog_computation(setup, name, reference):
    res, queries = setup
    strategy = (st.Structured if name == "structured" else ex.Explore)(res)
    constrained = 0
    for query in queries:
        got, want = strategy.retrieve(query, Context(), K), reference(strategy, query, K)
        assert got.ids == want.ids, query.raw
        np.testing.assert_array_equal(got.scores, want.scores)
        constrained += bool(query.entity_types)
    assert constrained >= 20  # the type-only shortcut was exercised


def test_best_rows_reads_types_in_popularity_order_and_skips_rows(setup):
    res, _ = setup
    idx = res.metadata
    podcast = idx.type_names.index("podcast")
    everything = idx.type_rows[podcast]
    top = everything[np.lexsort((everything, -idx.popularity[everything]))]
    skip = np.sort(top[:3])
    got = st.best_rows(idx.type_by_popularity, [podcast], idx.popularity, skip, 5)
    assert got.tolist() == top[3:8].tolist()


def test_bm25_search_sums_the_same_either_way(setup, monkeypatch):
    from ltrr_core.retrieval.indexes import bm25

    res, queries = setup
    token_lists = [q.corrected for q in queries[:150]]
    sorted_way = [res.bm25.search(tokens, K) for tokens in token_lists]
    monkeypatch.setattr(bm25, "DENSE_SUM_RATIO", 10**9)  # every query takes the slot-per-document path
    for tokens, (positions, scores) in zip(token_lists, sorted_way):
        again = res.bm25.search(tokens, K)
        assert again[0].tolist() == positions.tolist()
        np.testing.assert_array_equal(again[1], scores)


@pytest.mark.parametrize("k", [1, 10, K, 1000])
def test_bm25_search_from_the_heads_equals_summing_every_posting(setup, monkeypatch, k):
    from ltrr_core.retrieval.indexes import bm25

    res, queries = setup
    token_lists = [[*q.corrected, *q.corrected[:1]] for q in queries]  # a repeated token counts twice
    monkeypatch.setattr(bm25, "PRUNE_POSTINGS", 10**12)
    full = [res.bm25.search(tokens, k) for tokens in token_lists]
    monkeypatch.setattr(bm25, "PRUNE_POSTINGS", 0)
    index = bm25.BM25Index(res.bm25.weights, res.bm25.vocab, res.bm25.params)
    answered = []
    heads = index._search_heads
    monkeypatch.setattr(index, "_search_heads", lambda cols, k: answered.append(heads(cols, k)) or answered[-1])
    for tokens, (positions, scores) in zip(token_lists, full):
        got = index.search(tokens, k)
        assert got[0].tolist() == positions.tolist(), tokens
        np.testing.assert_array_equal(got[1], scores)
    if k <= K:  # deeper lists on this small catalog need most postings: the full sum answers them
        assert sum(a is not None for a in answered) >= 20  # the heads answered, not only the fallback

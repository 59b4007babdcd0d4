"""Sharded retrieval (thread backend): the scatter-gather top-k equals the single index's."""

from __future__ import annotations

import numpy as np
import pytest

from ltrr_core.base import config
from ltrr_core.base.config import Settings
from ltrr_core.engine import Engine
from ltrr_core.pipeline import Pipeline
from ltrr_core.retrieval.indexes.bm25 import BM25Index, build_okapi
from ltrr_core.retrieval.resources import Resources
from ltrr_core.retrieval.shards.backends import SHARD_BACKENDS, ThreadBackend, open_backend
from ltrr_core.retrieval.shards.shard import ShardSpec, shard_ranges
from ltrr_core.retrieval.shards.sharded import (
    SHARDED_STRATEGIES,
    ShardedBM25,
    ShardedDense,
    shard_resources,
)
from ltrr_core.retrieval.shards.statistics import CollectionStats, shard_bm25
from ltrr_core.selection.bandit import PolicyConfig
from ltrr_core.selection.context import Context
from ltrr_core.simulation.traffic import TrafficGenerator

CORPUS = [["red", "apple"], ["green", "apple", "apple"], ["red", "car"], ["red", "apple"], ["blue", "sky", "red"],
          ["apple", "pie", "red", "red"], ["sky"], ["red", "apple"], [], ["car", "red", "blue"]]


def test_merged_statistics_give_rank_bm25s_idf_and_weights_exactly():
    parts = [CollectionStats.of(CORPUS[a:b]) for a, b in shard_ranges(len(CORPUS), 3)]
    merged = CollectionStats.merge(parts)
    okapi = build_okapi(CORPUS)
    assert merged.idf(0.25) == okapi.idf and merged.avgdl == okapi.avgdl
    single = BM25Index.build(CORPUS)
    for a, b in shard_ranges(len(CORPUS), 3):
        shard = shard_bm25(CORPUS[a:b], merged)
        for term in ("red", "apple", "sky", "car"):
            assert np.array_equal(shard.scores([term]), single.scores([term])[a:b])


def test_sharded_bm25_breaks_ties_by_position_as_the_single_index():
    """Identical documents (equal scores) spread over shards come back in position order."""
    stats = CollectionStats.of(CORPUS)
    specs = [ShardSpec(a, CORPUS[a:b], stats) for a, b in shard_ranges(len(CORPUS), 4)]
    sharded = ShardedBM25(ThreadBackend(specs), len(CORPUS))
    single = BM25Index.build(CORPUS)
    for k in (1, 2, 3, 5, 20):
        for query in (["red", "apple"], ["red"], ["sky", "blue"], ["nothing"]):
            got, want = sharded.search(query, k), single.search(query, k)
            assert got[0].tolist() == want[0].tolist() and np.array_equal(got[1], want[1]), (query, k)


def test_shard_ranges_cover_the_catalog():
    assert shard_ranges(10, 3) == [(0, 3), (3, 7), (7, 10)]
    assert shard_ranges(2, 4)[-1] == (2, 2)  # more shards than documents: empty ones
    with pytest.raises(ValueError, match="shards"):
        shard_ranges(5, 0)
    with pytest.raises(ValueError, match="backend"):
        open_backend("mpi", [])


@pytest.fixture(scope="module")
def single(default_catalog, app_cache_dir) -> Resources:
    return Resources(default_catalog, Settings(cache_dir=app_cache_dir))


@pytest.fixture(scope="module")
def queries(single):
    intents = TrafficGenerator(single.catalog, seed=5).draw(40)
    return [single.understander.understand(i.query) for i in intents]


def same_top_k(one: Resources, other: Resources, queries, strategies=SHARDED_STRATEGIES, k: int = 100) -> None:
    a, b = Pipeline(one), Pipeline(other)
    for name in strategies:
        for u in queries:
            got, want = b.retrieve(name, u, Context(), k), a.retrieve(name, u, Context(), k)
            assert got.ids == want.ids, (name, u.normalized)
            np.testing.assert_allclose(got.scores, want.scores, rtol=1e-6, err_msg=name)


def test_sharded_strategies_equal_the_single_process_top_k(single, queries):
    sharded = shard_resources(single, 3, backend="threads")
    same_top_k(single, sharded, queries)
    lexical = Pipeline(sharded).strategy("lexical")
    assert lexical.retrieve(queries[0], Context(), 100).ids  # the shards did answer


def test_per_shard_statistics_disagree_with_the_single_index(single, queries):
    local = Pipeline(shard_resources(single, 4, statistics="local", dense=False))
    whole = Pipeline(single)
    overlaps = [len(set(local.retrieve("lexical", u, Context(), 100).ids)
                    & set(whole.retrieve("lexical", u, Context(), 100).ids)) / 100 for u in queries]
    assert np.mean(overlaps) < 1.0


def test_an_engine_set_to_shards_searches_them_and_answers_as_one_index(default_catalog, app_cache_dir, tmp_path):
    settings = Settings(cache_dir=app_cache_dir, db_path=tmp_path / "one.db")
    one = Engine.open("default", settings, PolicyConfig(name="all"), catalog=default_catalog)
    three = Engine.open("default", settings.with_(shards=3, db_path=tmp_path / "three.db"), PolicyConfig(name="all"),
                        catalog=default_catalog)
    resources = three.runtime.pipeline.resources
    assert isinstance(resources.bm25, ShardedBM25) and isinstance(resources.dense, ShardedDense)
    assert len(resources.bm25.backend.shards) == 3
    for query in ("taylor swift love", "late night jazz", "podcast about cooking", "beatles"):
        a, b = one.searching.search(query, log=False), three.searching.search(query, log=False)
        for name in SHARDED_STRATEGIES:
            assert b.candidates[name].ids == a.candidates[name].ids, (query, name)
        assert [i.id for i in b.items] == [i.id for i in a.items], query


def test_shard_backends_are_the_settings_choices():
    assert set(SHARD_BACKENDS) == set(config.SHARD_BACKENDS)
    with pytest.raises(ValueError, match="shard_backend"):
        Settings(shard_backend="mpi")
    with pytest.raises(ValueError, match="shards"):
        Settings(shards=0)

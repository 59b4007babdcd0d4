"""The funnel as one value: serving, replay (training, evaluation) and the simulator's reuse agree."""

from __future__ import annotations

import numpy as np
import pytest

from ltrr_core.base.config import Settings
from ltrr_core.engine import Engine
from ltrr_core.pipeline import Pipeline
from ltrr_core.ranking.features import FEATURE_NAMES
from ltrr_core.ranking.rankers import InterleaveRanker
from ltrr_core.retrieval.registry import STRATEGY_ORDER
from ltrr_core.selection.bandit import PolicyConfig, arm_depths
from ltrr_core.selection.context import Context


@pytest.fixture()
def engine(default_catalog, app_cache_dir, tmp_path):
    return Engine.open("default", Settings(cache_dir=app_cache_dir, db_path=tmp_path / "feedback.db"),
                       catalog=default_catalog)


def test_replaying_a_search_rebuilds_the_pool_features_and_ranking_it_served(engine):
    """Training and evaluation replay through the same funnel as serving. Unlogged, so the memory
    index has not moved on since (a logged page counts as shown)."""
    engine.learning.set_policy(PolicyConfig(name="all"))
    result = engine.searching.search("late night jazz", Context(), log=False)
    assert set(result.candidates) == set(STRATEGY_ORDER)
    rt = engine.runtime
    replayed = rt.pipeline.replay(result.query, arm_depths(result.selection.chosen), rt.rankers.current)
    assert replayed.pool.ids == result.pool.ids
    assert replayed.pool.found_by == result.pool.found_by
    np.testing.assert_array_equal(replayed.features, result.features)
    assert [result.pool.ids[i] for i in replayed.ranked.order[:10]] == [item.id for item in result.items]


def test_run_cuts_deeper_lists_to_the_picked_depths(engine):
    pipeline = engine.runtime.pipeline
    u = pipeline.understand("love")
    deep = {name: pipeline.retrieve(name, u, Context(), 100) for name in ("lexical", "semantic")}
    shallow = pipeline.run(u, Context(), {"lexical": 25, "semantic": 25}, InterleaveRanker(), retrieved=deep)
    live = pipeline.run(u, Context(), {"lexical": 25, "semantic": 25}, InterleaveRanker())
    for name in ("lexical", "semantic"):
        assert shallow.candidates[name].ids == live.candidates[name].ids == deep[name].ids[:25]
    assert shallow.pool.ids == live.pool.ids
    assert {"retrieve:lexical", "retrieve:semantic", "union", "features", "rank"} <= set(live.timings)


def test_a_pipeline_runs_only_its_strategies_in_registry_order(default_catalog, app_cache_dir):
    from ltrr_core.retrieval.resources import Resources

    pipeline = Pipeline(Resources(default_catalog, Settings(cache_dir=app_cache_dir)), ("lexical", "memory"))
    assert pipeline.strategy_names == ("lexical", "memory")
    with pytest.raises(KeyError, match="this pipeline runs"):
        pipeline.strategy("semantic")
    assert Pipeline(pipeline.resources).strategy_names == STRATEGY_ORDER
    unranked = pipeline.replay("love", {"lexical": 10})
    assert unranked.ranked is None and len(unranked.pool) == 10


def test_an_empty_pool_featurizes_to_no_rows_without_encoding(engine):
    pipeline = engine.runtime.pipeline
    funnel = pipeline.run(pipeline.understand("!!!"), Context(), {"lexical": 25}, InterleaveRanker())
    assert len(funnel.pool) == 0 and funnel.features.shape == (0, len(FEATURE_NAMES))


def test_strategies_retrieved_side_by_side_equal_one_after_another(default_catalog, app_cache_dir):
    """Threads change when a strategy runs, not what it finds: the same ids and the same scores to
    the last bit (faiss's thread count is per thread, so every search sets its own)."""
    from ltrr_core.retrieval.resources import Resources

    serial = Pipeline(Resources(default_catalog, Settings(cache_dir=app_cache_dir, retrieval_threads=1)))
    threaded = Pipeline(Resources(default_catalog, Settings(cache_dir=app_cache_dir, retrieval_threads=2)))
    assert serial._threads is None and threaded._threads is not None
    depths = {name: 100 for name in STRATEGY_ORDER}
    for query in ("late night jazz", "tayler love", "hold on", "podcast about bread", "xyzzy"):
        u = serial.understand(query)
        one, many = serial.run(u, Context(), depths, None), threaded.run(u, Context(), depths, None)
        assert list(many.candidates) == list(depths)
        for name in depths:
            assert many.candidates[name].ids == one.candidates[name].ids
            np.testing.assert_array_equal(many.candidates[name].scores, one.candidates[name].scores)
        np.testing.assert_array_equal(many.features, one.features)

"""Usable while it embeds: the engine serves with the other strategies while the semantic parts
build in the background; semantic arms are marked warming up, never picked nor rewarded, and
join once the index is ready."""

from __future__ import annotations

import itertools
import threading

import numpy as np
import pytest

from ltrr_core.catalog.schema import Catalog
from ltrr_core.base.config import Settings
from ltrr_core.engine import Engine
from ltrr_core.ranking.features import COLUMN
from ltrr_core.retrieval.indexes.embedder import Embedder
from ltrr_core.selection.bandit import Bandit, PolicyConfig, split_arm
from ltrr_core.selection.context import Context

WAIT_S = 300  # a busy shared machine


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A cache dir with the ONNX export made (once for the module); no catalog embeddings."""
    folder = tmp_path_factory.mktemp("warm_cache")
    Embedder(backend="onnx", export_dir=folder / "onnx")
    return folder


_RUNS = itertools.count()


@pytest.fixture()
def paused_engine(default_catalog, cache):
    """An engine over 600 entities whose embeddings are not cached (other entities per test),
    warmed in the background; its embedding pauses after the first chunk until released."""
    run = next(_RUNS)
    catalog = Catalog(list(default_catalog)[600 * run : 600 * (run + 1)], source=f"default-600-{run}")
    engine = Engine.open("default", Settings(cache_dir=cache, db_path=cache / f"feedback-{run}.db", backend="onnx"),
                         PolicyConfig(name="all"), catalog=catalog)
    release, paused = threading.Event(), threading.Event()

    def progress(label: str, fraction: float) -> None:
        if label.startswith("embedding catalog"):
            paused.set()
            release.wait(WAIT_S)

    engine.searching.warm_up(progress, background=True)
    assert paused.wait(WAIT_S), engine.searching.semantic_status()
    yield engine, release
    release.set()
    engine.searching.wait_until_ready(WAIT_S)


@pytest.mark.slow
def test_search_serves_without_semantic_while_it_warms_then_semantic_joins(paused_engine):
    engine, release = paused_engine
    status = engine.searching.semantic_status()
    assert status.phase == "warming" and "docs/s" in status.label and 0 < status.fraction <= 1
    assert engine.searching.warming == ("semantic",)
    result = engine.searching.search("love", Context(), k=10)
    assert result.items and "semantic" not in result.candidates
    assert set(result.candidates) == {s for s in engine.runtime.strategy_names if s != "semantic"}  # policy all: the other five
    assert result.selection.warming == ("semantic",)
    assert {a.reason for a in result.selection.arms if a.strategy == "semantic"} == {"warming"}
    assert np.isnan(result.features[:, COLUMN["dense_sim"]]).all()  # missing, not a crash, meanwhile
    settlement = engine.searching.close(result.search_id)
    assert settlement is not None and not any(split_arm(a)[0] == "semantic" for a in settlement.rewards)
    assert not any(arm.startswith("semantic") for arm in engine.runtime.state.bandit.stats.pulls)

    release.set()
    assert engine.searching.wait_until_ready(WAIT_S)
    assert engine.searching.semantic_status().phase == "ready" and engine.searching.warming == ()
    joined = engine.searching.search("love", Context(), k=10)
    assert "semantic" in joined.candidates and joined.selection.warming == ()
    assert not np.isnan(joined.features[:, COLUMN["dense_sim"]]).any()


@pytest.mark.slow
def test_a_policy_fixed_on_semantic_waits_for_it(paused_engine):
    engine, release = paused_engine
    engine.learning.set_policy(PolicyConfig(name="fixed:semantic"))
    threading.Timer(0.5, release.set).start()
    result = engine.searching.search("love", Context(), k=5)
    assert set(result.candidates) == {"semantic"} and result.selection.warming == ()


def test_exploration_and_propensity_leave_warming_strategies_out():
    strategies = ["lexical", "semantic", "popular"]
    bandit = Bandit(strategies, 4, PolicyConfig(name="random", max_arms=3))
    available = bandit.available_subsets(frozenset({"semantic"}))
    assert available and all("semantic" not in split_arm(a)[0] for s in available for a in s)
    for _ in range(30):
        selection = bandit.select(np.zeros(4), frozenset({"semantic"}))
        assert not any(a.startswith("semantic") for a in selection.chosen)
        assert selection.propensity == pytest.approx(1 / len(available))

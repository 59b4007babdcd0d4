"""Simulated traffic through the real engine: reproducibility, truth, logging, off-policy checks."""

from __future__ import annotations

import numpy as np
import pytest

from ltrr_core.base.config import Settings
from ltrr_core.engine import Engine
from ltrr_core.services.simulation_runs import SimulationConfig, SimulationRun, compare


def make_engine(catalog, cache, db) -> Engine:
    return Engine.open("default", Settings(cache_dir=cache, db_path=db), catalog=catalog)


@pytest.fixture()
def engine(default_catalog, app_cache_dir, tmp_path):
    return make_engine(default_catalog, app_cache_dir, tmp_path / "sim.db")


def test_seeded_simulation_is_reproducible(default_catalog, app_cache_dir, tmp_path):
    def trace(db):
        run = SimulationRun(make_engine(default_catalog, app_cache_dir, db), SimulationConfig(rounds=60, seed=11)).run()
        return [(r.query, r.chosen, r.hit, r.rewarded_on) for r in run.records]

    first = trace(tmp_path / "a.db")
    assert first == trace(tmp_path / "b.db")
    assert len({q for q, *_ in first}) > 30


def test_rounds_carry_the_truth_and_are_logged(engine):
    run = SimulationRun(engine, SimulationConfig(rounds=80, seed=3)).run()
    for r in run.records:
        assert r.regret in (0, 1) and r.regret == int(r.oracle_hit) - int(r.hit)
        assert r.hit <= r.oracle_hit
        assert set(r.rewards) == set(r.chosen)  # every round settles, with a reward per picked arm
        if r.rewarded_on is not None:  # a positive event on a shown result: some picked arm found it
            assert max(r.rewards.values()) == 1.0
    history = run.history
    assert history["cum_regret"].iloc[-1] == sum(r.regret for r in run.records)
    summary = run.summary()
    assert summary.rounds == 80 and 0 <= summary.hit_rate <= summary.oracle_hit_rate <= 1
    assert sum(v.pulls for v in summary.per_arm.values()) == sum(len(r.chosen) for r in run.records)
    assert summary.to_json()["per_arm"] == {arm: {"pulls": v.pulls, "mean_reward": v.mean_reward}
                                           for arm, v in summary.per_arm.items()}  # `ltrr simulate --json`
    counts = run.engine.runtime.store.counts()
    assert counts["searches"] == 80 and counts["bandit_updates"] == sum(len(r.chosen) for r in run.records)
    assert engine.runtime.store.counts()["searches"] == 0  # the live database saw none of it
    signal = summary.reward_signal
    assert 0.8 < signal.precision <= 1 and 0.3 < signal.recall < 1
    logged = {rec.search_id: rec.propensity for rec in run.engine.runtime.store.bandit_log()}
    assert all(logged[r.search_id] == pytest.approx(r.propensity) for r in run.records)


def test_batched_and_cached_retrieval_equals_live_retrieval(engine):
    """The simulator's up-front batch (semantic) and per-query cache give the lists the engine
    would retrieve live for the same query."""
    run = SimulationRun(engine, SimulationConfig(rounds=40, seed=9))
    assert any(key[0] == "semantic" for key in run._static)  # prefetched in one batch
    depth = max(run.engine.learning.policy.depths)
    for intent in run.intents[:15]:
        u = run.engine.runtime.understand(intent.query)
        for name, cached in run._full_depth(u, intent.context).items():
            live = run.engine.runtime.pipeline.retrieve(name, u, intent.context, depth)
            assert cached.ids == live.ids, name
            np.testing.assert_allclose(cached.scores, live.scores, rtol=1e-5)
    summary = run.run().summary()
    assert summary.prepare_s > 0
    assert summary.searches_per_s == pytest.approx(40 / (run.prepare_s + run.elapsed))


def test_all_strategies_reach_the_oracle(engine):
    run = SimulationRun(engine, SimulationConfig(rounds=40, seed=5, policy="all")).run()
    assert all(r.hit == r.oracle_hit for r in run.records)


def test_compare_runs_every_policy_on_the_same_traffic(engine):
    runs = compare(engine, SimulationConfig(rounds=30, seed=2), policies=("random", "fixed:lexical"))
    queries = [[r.query for r in run.records] for run in runs.values()]
    assert queries[0] == queries[1]


@pytest.mark.slow
def test_off_policy_estimates_match_the_on_policy_value(engine):
    """Log a uniformly random policy over single-strategy subsets, then estimate a fixed
    policy and compare with that policy actually run on the same seeded traffic."""
    params = {"max_arms": 1, "depths": (100,)}
    config = SimulationConfig(rounds=700, seed=21, policy="random", policy_params=params)
    logged = SimulationRun(engine, config).run().engine
    estimate = logged.learning.evaluate_policy("fixed:structured", n_bootstrap=100)
    truth = SimulationRun(engine, SimulationConfig(rounds=700, seed=21, policy="fixed:structured",
                                                   policy_params=params)).run()
    true_value = np.mean([max(r.rewards.values()) for r in truth.records])
    for name in ("ips", "snips", "dr"):
        assert estimate.estimates[name].value == pytest.approx(true_value, abs=0.08), name
    assert estimate.estimates["dm"].value == pytest.approx(true_value, abs=0.15)
    assert estimate.n == 700

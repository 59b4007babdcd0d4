"""Off-policy estimates of bandit targets on the engine's own log shape, on a simulation with known values."""

from __future__ import annotations

import numpy as np
import pytest

from ltrr_core.evaluation.offpolicy import ArmRidgeSubsets, SubsetLog, evaluate_policy
from ltrr_core.evaluation.validation import recommend
from ltrr_core.base.records import BanditLogRecord
from ltrr_core.selection.bandit import Bandit, PolicyConfig

STRATEGIES = ["a", "b", "c"]


def _hit_rates(x: np.ndarray) -> dict[str, float]:
    """Each arm's chance that its candidates hold the confirmed item, given the context."""
    return {"a@100": 0.2 + 0.5 * x[1], "b@100": 0.6 - 0.4 * x[1], "c@100": 0.15 + 0.0 * x[1]}


def _true_value(subset: tuple[str, ...], n: int = 200_000) -> float:
    x1 = np.random.default_rng(99).random(n)
    rates = _hit_rates(np.array([np.ones(n), x1]))
    return float(np.mean(1 - np.prod([1 - rates[a] for a in subset], axis=0)))


def _log(n: int, seed: int, policy: str = "random", max_arms: int = 2) -> tuple[Bandit, list[BanditLogRecord]]:
    bandit = Bandit(STRATEGIES, 2, PolicyConfig(name=policy, max_arms=max_arms, depths=(100,), seed=seed,
                                                epsilon=0.3))
    rng = np.random.default_rng(seed)
    records = []
    for i in range(n):
        x = np.array([1.0, rng.random()])
        sel = bandit.select(x)
        rates = _hit_rates(x)
        rewards = {a: float(rng.random() < rates[a]) for a in sel.chosen}
        bandit.update(x, rewards)
        records.append(BanditLogRecord(i, tuple(x.tolist()), sel.chosen, sel.propensity, rewards, policy))
    return bandit, records


def test_a_fixed_subset_is_estimated_within_its_interval():
    bandit, records = _log(4_000, seed=1)
    out = evaluate_policy(bandit, records, "fixed:a+b", n_bootstrap=100)
    truth = _true_value(("a@100", "b@100"))
    assert out.no_support is None and out.support.share == pytest.approx(1.0)
    assert set(out.estimates) == {"ips", "snips", "dm", "dr", "sndr", "switch-dr"}
    for name, row in out.estimates.items():
        assert row.ci_low - 0.01 <= truth <= row.ci_high + 0.01, name
        assert row.value == pytest.approx(truth, abs=0.06), name
    printed = out.to_json()  # what `ltrr ope --json` prints
    assert printed["support"]["share"] == out.support.share
    assert printed["estimates"]["dr"]["value"] == out.estimates["dr"].value


def test_all_beyond_max_arms_reports_no_support_instead_of_failing():
    bandit, records = _log(500, seed=2)  # max_arms = 2: no logged search can pick all three strategies
    out = evaluate_policy(bandit, records, "all", n_bootstrap=20)
    assert out.estimates == {} and out.support.share == pytest.approx(0.0)
    assert out.no_support.startswith("no support: all picks 3 strategies")
    assert "max_arms >= 3" in out.no_support


def test_all_is_estimable_when_the_logging_policy_could_pick_it():
    bandit, records = _log(6_000, seed=3, max_arms=3)
    out = evaluate_policy(bandit, records, "all", n_bootstrap=100)
    truth = _true_value(("a@100", "b@100", "c@100"))
    assert out.no_support is None
    for name in ("ips", "snips", "dr", "sndr"):
        row = out.estimates[name]
        assert row.ci_low - 0.01 <= truth <= row.ci_high + 0.01, name


def test_greedy_and_lints_targets_and_lints_logs_are_estimable():
    bandit, records = _log(1_500, seed=4, policy="lints")
    assert all(0 < r.propensity < 1 for r in records)  # Monte Carlo propensities, never 0 or 1
    for target in ("linucb", "egreedy", "lints", "random"):
        out = evaluate_policy(bandit, records, target, n_bootstrap=20)
        assert out.no_support is None, target
        assert 0.0 <= out.estimates["snips"].value <= 1.0


def test_the_subset_reward_model_combines_arms_out_of_fold():
    bandit, records = _log(3_000, seed=5)
    log = SubsetLog.of(bandit, records)
    model = ArmRidgeSubsets(log)
    predicted = model.fit(np.arange(log.n))(np.arange(log.n))
    assert predicted.shape == (log.n, len(log.actions))
    truth = np.array([[1 - np.prod([1 - _hit_rates(x)[a] for a in subset]) for subset in log.actions]
                      for x in log.context])
    assert np.abs(predicted - truth).mean() < 0.03


VALIDATION = {"setup": "toy", "rows": [
    {"n_logged": 5000, "target": "t1", "estimator": "ips", "median_relative_error": 0.08, "coverage": 0.95},
    {"n_logged": 5000, "target": "t2", "estimator": "ips", "median_relative_error": 0.12, "coverage": 0.9},
    {"n_logged": 5000, "target": "t1", "estimator": "dm", "median_relative_error": 0.02, "coverage": 0.4},
    {"n_logged": 5000, "target": "t2", "estimator": "dm", "median_relative_error": 0.03, "coverage": 0.5},
    {"n_logged": 5000, "target": "t1", "estimator": "dr", "median_relative_error": 0.09, "coverage": 0.92},
    {"n_logged": 5000, "target": "t2", "estimator": "dr", "median_relative_error": 0.10, "coverage": 0.94},
    {"n_logged": 20000, "target": "t1", "estimator": "dm", "median_relative_error": 0.01, "coverage": 0.3},
]}


def test_recommendation_takes_the_most_accurate_estimator_with_honest_intervals():
    pick = recommend(4_000, VALIDATION)
    assert pick.estimator == "dr" and pick.n_validated == 5000  # dm is closer but its intervals miss
    assert pick.median_relative_error == 0.10 and pick.coverage == 0.92
    lone = recommend(30_000, VALIDATION)  # nearest size: no estimator reached the coverage
    assert lone.estimator == "dm" and "read every interval with care" in lone.why
    assert recommend(100, {"rows": []}) is None


def test_recommendation_speaks_only_for_validated_log_sizes():
    small = recommend(24, VALIDATION)
    assert small.estimator is None and small.n_validated is None and small.covered == (5000, 20000)
    assert small.why.startswith("The validation covered logs of 5,000-20,000 searches; this log has 24, "
                                "so no estimator is recommended yet")
    assert small.advice == small.why and "Trust" not in small.advice
    assert recommend(200_000, VALIDATION).estimator is None
    assert recommend(3_400, VALIDATION).advice.startswith("Trust dr for logs of this size: ")

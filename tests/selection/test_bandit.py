"""The subset bandit on synthetic traffic: propensities, learning, explanations, persistence."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from ltrr_core.selection.bandit import ArmStats, Bandit, PolicyConfig, split_arm

STRATEGIES = ["lexical", "popular", "structured", "semantic", "memory", "explore"]


def synthetic_round(rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """Two kinds of query: topic queries only `semantic` answers, typo'd names only `structured`."""
    topic = rng.random() < 0.5
    x = np.array([1.0, float(topic), float(not topic), rng.random()])
    return x, "semantic" if topic else "structured"


def subset_index(bandit: Bandit, chosen: tuple[str, ...]) -> int:
    """Position of a chosen subset in ``bandit.subsets`` (the action id of off-policy estimators)."""
    return next(i for i, subset in enumerate(bandit.subsets) if set(subset) == set(chosen))


def rewards_for(chosen: tuple[str, ...], best: str, rng: np.random.Generator) -> dict[str, float]:
    return {a: float(split_arm(a)[0] == best and rng.random() < 0.95) for a in chosen}


def run(config: PolicyConfig, rounds: int, seed: int = 0) -> np.ndarray:
    """Per-round regret against the oracle (which always hits)."""
    rng = np.random.default_rng(seed)
    bandit = Bandit(STRATEGIES, 4, config)
    regret = np.zeros(rounds)
    for t in range(rounds):
        x, best = synthetic_round(rng)
        selection = bandit.select(x)
        hit = any(split_arm(a)[0] == best for a in selection.chosen)
        regret[t] = 1 - hit
        bandit.update(x, rewards_for(selection.chosen, best, rng))
    return regret


def test_linucb_regret_decreases_and_beats_random():
    linucb = run(PolicyConfig(name="linucb", max_arms=2, epsilon=0.05), 1500)
    random = run(PolicyConfig(name="random", max_arms=2), 1500)
    assert linucb[-500:].mean() < linucb[:200].mean() / 2
    assert linucb[-500:].mean() < 0.1
    assert linucb.sum() < 0.4 * random.sum()


def test_propensity_matches_action_distribution_and_sums_to_one():
    config = PolicyConfig(epsilon=0.2, max_arms=3)
    bandit = Bandit(STRATEGIES, 4, config)
    rng = np.random.default_rng(3)
    explored = 0
    for _ in range(200):
        x, best = synthetic_round(rng)
        dist = bandit.action_distribution(x)
        sel = bandit.select(x)
        assert dist.sum() == pytest.approx(1.0)
        assert sel.propensity == pytest.approx(dist[subset_index(bandit, sel.chosen)])
        # the epsilon part spreads epsilon / |subsets| on every subset; the greedy one gets the rest
        assert dist.min() == pytest.approx(config.epsilon / len(bandit.subsets))
        explored += sel.explored
        bandit.update(x, rewards_for(sel.chosen, best, rng))
    assert 20 <= explored <= 65  # ~ epsilon * 200


def test_subsets_hold_one_depth_per_strategy_up_to_max_arms():
    bandit = Bandit(STRATEGIES, 4, PolicyConfig(max_arms=2, depths=(10, 50)))
    assert len(bandit.subsets) == 6 * 2 + 15 * 4
    for subset in bandit.subsets:
        strategies = [split_arm(a)[0] for a in subset]
        assert len(strategies) == len(set(strategies)) <= 2


def test_same_seed_same_choices():
    assert np.array_equal(run(PolicyConfig(seed=5), 300, seed=1), run(PolicyConfig(seed=5), 300, seed=1))


def test_explanations_split_score_into_mean_and_bonus():
    bandit = Bandit(STRATEGIES, 4, PolicyConfig(alpha=1.0))
    rng = np.random.default_rng(0)
    for _ in range(100):
        x, best = synthetic_round(rng)
        bandit.update(x, rewards_for(bandit.select(x).chosen, best, rng))
    x = np.array([1.0, 1.0, 0.0, 0.5])
    sel = bandit.select(x)
    ridge = bandit.arrays()
    for arm in sel.arms:
        i = bandit.arms.index(arm.arm)
        assert arm.expected == pytest.approx(x @ ridge["beta"][i])
        assert arm.bonus == pytest.approx(np.sqrt(x @ ridge["A_inv"][i] @ x))  # alpha = 1
        assert arm.score == pytest.approx(arm.expected + arm.bonus)
        assert arm.picked == (arm.arm in sel.chosen)
        assert arm.why
    assert sum(a.pulls for a in sel.arms) == sum(bandit.stats.pulls.values())


@pytest.mark.parametrize("name,expected", [("all", 6), ("fixed:semantic", 1)])
def test_fixed_policies(name, expected):
    bandit = Bandit(STRATEGIES, 4, PolicyConfig(name=name))
    sel = bandit.select(np.ones(4))
    assert len(sel.chosen) == expected and sel.propensity == 1.0 and not sel.explored
    assert all(split_arm(a)[1] == 100 for a in sel.chosen)


@pytest.mark.parametrize("kwargs,field", [
    ({"name": "greedy"}, "policy name"), ({"epsilon": 1.5}, "epsilon"), ({"alpha": -1}, "alpha"),
    ({"max_arms": 0}, "max_arms"), ({"depths": (100, 10)}, "depths"), ({"name": "fixed"}, "policy name"),
    ({"replay_weight": 0.0}, "replay_weight"), ({"replay_weight": 1.5}, "replay_weight"),
    ({"l2_lambda": 0.0}, "l2_lambda"),
])
def test_invalid_configs_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        PolicyConfig(**kwargs)


def test_fixed_policy_needs_a_known_strategy():
    with pytest.raises(ValueError, match="unknown strategy"):
        Bandit(STRATEGIES, 4, PolicyConfig(name="fixed:nonsense"))


def _trained_lints(max_arms: int = 2, epsilon: float = 0.1, rounds: int = 40) -> tuple[Bandit, np.ndarray]:
    bandit = Bandit(STRATEGIES, 4, PolicyConfig(name="lints", alpha=0.5, epsilon=epsilon, max_arms=max_arms,
                                                depths=(25, 100)))
    rng = np.random.default_rng(4)
    for _ in range(rounds):  # a short history: the posterior still spreads over several subsets
        x, best = synthetic_round(rng)
        bandit.update(x, rewards_for(bandit.select(x).chosen, best, rng))
    return bandit, np.array([1.0, 1.0, 0.0, 0.5])


@pytest.mark.slow
def test_lints_propensities_sum_to_one_and_match_selection_frequencies():
    bandit, x = _trained_lints()
    dist = bandit.action_distribution(x)
    assert dist.sum() == pytest.approx(1.0)
    assert dist.min() == pytest.approx(0.1 / len(bandit.subsets))  # the epsilon share of every subset
    assert (dist > 0.05).sum() >= 2  # the draw matters: not one deterministic subset
    n = 3000
    picks = np.zeros(len(bandit.subsets))
    logged = []
    for _ in range(n):
        sel = bandit.select(x)
        picks[subset_index(bandit, sel.chosen)] += 1
        logged.append((subset_index(bandit, sel.chosen), sel.propensity))
    # each subset's selection frequency within 4 binomial standard errors (of n selections plus the
    # Monte Carlo error of LINTS_DRAWS draws) of its estimated propensity
    se = np.sqrt(dist * (1 - dist) / n + dist * (1 - dist) / 2000) + 1e-9
    assert np.all(np.abs(picks / n - dist) <= 4 * se + 1e-3)
    # the logged propensity of a chosen subset is that subset's probability (each a Monte Carlo estimate
    # within the module docstring's 0.030 of it, and their mean closer), not its draw's pick (~1)
    by_subset: dict[int, list[float]] = {}
    for index, propensity in logged:
        by_subset.setdefault(index, []).append(propensity)
    assert max(abs(propensity - dist[index]) for index, propensity in logged) < 0.1
    for index, propensities in by_subset.items():
        if len(propensities) >= 100:
            assert np.mean(propensities) == pytest.approx(dist[index], abs=0.03)


def test_vectorized_greedy_equals_greedy_subset():
    bandit, _ = _trained_lints(max_arms=3)
    rng = np.random.default_rng(0)
    scores = rng.normal(0.1, 0.2, size=(300, len(bandit.arms)))
    codes = bandit._greedy_codes(scores)
    for row, code in zip(scores, codes):
        greedy, _ = bandit.greedy_subset({a: (float(s), 0.0) for a, s in zip(bandit.arms, row)})
        assert code == sum(1 << bandit.arms.index(a) for a in greedy)


def test_fixed_policy_may_name_several_strategies():
    bandit = Bandit(STRATEGIES, 4, PolicyConfig(name="fixed:semantic+lexical", depths=(25, 100)))
    assert bandit.select(np.ones(4)).chosen == ("lexical@100", "semantic@100")
    with pytest.raises(ValueError, match="unknown strategy 'nope'"):
        Bandit(STRATEGIES, 4, PolicyConfig(name="fixed:semantic+nope"))


def test_fixed_policy_may_give_depths_among_the_bandits():
    config = PolicyConfig(name="fixed:semantic@25+lexical", depths=(25, 100))
    assert config.fixed_depths() == {"semantic": 25, "lexical": None}
    assert config.fixed_strategies == ("semantic", "lexical")
    assert Bandit(STRATEGIES, 4, config).select(np.ones(4)).chosen == ("lexical@100", "semantic@25")
    assert PolicyConfig(name="fixed:semantic:25").fixed_depths() == {"semantic": 25}  # the old separator
    for name, problem in (("fixed:semantic@50", "depth 50 of 'semantic' is not one of depths (25, 100)"),
                          ("fixed:semantic+semantic", "'semantic' is named twice"),
                          ("fixed:semantic@x", "depth 'x' of 'semantic'"), ("fixed:+lexical", "a strategy is missing"),
                          ("linucb:semantic", "is not one of")):
        with pytest.raises(ValueError, match=f"^policy name: .*{re.escape(problem)}"):
            PolicyConfig(name=name)


def test_arm_stats_count_a_find_no_other_picked_arm_made():
    stats = ArmStats()
    stats.add_round({"lexical@25": 1.0, "popular@25": 1.0, "explore@25": 0.0})  # shared find
    stats.add_round({"lexical@25": 0.0, "explore@100": 1.0})  # explore alone
    stats.add_round({"lexical@25": 0.0, "explore@100": 0.0})  # no find
    stats.add_round({"lexical@25": 1.0})  # alone, but picked alone: says nothing about leaving it out
    stats.add_round({"lexical@25": 0.5, "explore@25": 0.5})  # a default reward, not a find
    assert stats.alone == {"explore@100": 1}
    assert stats.shared == {"lexical@25": 4, "popular@25": 1, "explore@25": 2, "explore@100": 2}
    assert stats.alone_rate(["explore@25", "explore@100"]) == pytest.approx(1 / 5)
    assert stats.pulls["lexical@25"] == 5


def test_a_weighted_round_counts_its_weight_in_the_ridge_and_the_leave_out_counts():
    """A round of weight w adds w x x' to A and w r x to X'y, and w to shared / alone; pulls count it once."""
    config = PolicyConfig(name="linucb", depths=(100,))
    weighted, plain = Bandit(["lexical", "explore"], 3, config), Bandit(["lexical", "explore"], 3, config)
    x, rewards = np.array([1.0, 0.5, 2.0]), {"lexical@100": 0.0, "explore@100": 1.0}
    weighted.update(x, rewards, weight=0.25)
    plain.update(x, rewards)
    ridge, base = weighted.arrays(), plain.arrays()
    np.testing.assert_allclose(ridge["A"] - np.eye(3), 0.25 * (base["A"] - np.eye(3)))
    np.testing.assert_allclose(ridge["Xty"], 0.25 * base["Xty"])
    np.testing.assert_allclose(ridge["beta"][1], np.linalg.solve(ridge["A"][1], ridge["Xty"][1]))
    assert weighted.stats.alone == {"explore@100": 0.25}
    assert weighted.stats.shared == {"lexical@100": 0.25, "explore@100": 0.25}
    assert weighted.stats.pulls == plain.stats.pulls == {"lexical@100": 1, "explore@100": 1}


def test_the_arm_left_out_is_the_one_the_others_cover_not_the_weakest():
    """`popular` duplicates `lexical` (high hit rate, never alone); `explore` hits less often but
    finds what nobody else does. With room for two of three, `popular` is left out."""
    bandit = Bandit(["lexical", "popular", "explore"], 2, PolicyConfig(name="egreedy", epsilon=0.0, max_arms=2,
                                                                        depths=(100,), cut=0.05))
    rng = np.random.default_rng(1)
    x = np.array([1.0, 0.0])
    for _ in range(300):
        shared = rng.random() < 0.6  # lexical and popular both find it, explore does not
        alone = not shared and rng.random() < 0.5  # only explore finds it
        bandit.update(x, {"lexical@100": float(shared), "popular@100": float(shared), "explore@100": float(alone)})
    means = {a: bandit.stats.mean(a) for a in bandit.arms}
    assert means["explore@100"] < means["popular@100"]  # the old rule (net score) would leave explore out
    selection = bandit.select(x)
    assert set(selection.chosen) == {"lexical@100", "explore@100"}
    popular = next(a for a in selection.arms if a.arm == "popular@100")
    assert "the others cover it" in popular.why


EXPECTED = Path(__file__).with_name("bandit_expected.json")  # recorded on mabwiser 2.7.4 (commit b3d9e19)


@pytest.mark.parametrize("name", ["linucb", "lints", "egreedy", "random"])
def test_a_seed_gives_the_selections_recorded_on_mabwiser(name):
    """The run of ``tests/selection/bandit_expected.json``, made with mabwiser's models and the
    two greedy-subset implementations: the same subsets, greedy picks, exploration draws,
    propensities (LinTS's from posterior draws), arm scores and ridge state, to the bit."""
    expected = json.loads(EXPECTED.read_text())[name]
    config = PolicyConfig(name=name, epsilon=0.1, max_arms=3, alpha=0.7, l2_lambda=2.0, seed=11)
    strategies = ["lexical", "popular", "structured", "semantic", "memory"]
    bandit = Bandit(strategies, 5, config)
    rng = np.random.default_rng(5)
    for t, (chosen, greedy, explored, propensity) in enumerate(expected["rounds"]):
        topic = rng.random() < 0.5
        x = np.array([1.0, float(topic), float(not topic), rng.random(), rng.random()])
        sel = bandit.select(x, frozenset({"popular"}) if t % 7 == 3 else frozenset())
        assert (" ".join(sel.chosen), " ".join(sel.greedy), sel.explored, sel.propensity) == (
            chosen, greedy, explored, propensity), f"round {t}"
        best = "semantic" if topic else "structured"
        rewards = {a: float(split_arm(a)[0] == best and rng.random() < 0.9) for a in sel.chosen}
        bandit.update(x, rewards, 0.5 if t % 5 == 0 else 1.0)
    assert [[a.expected, a.bonus] for a in sel.arms] == expected["last_scores"]
    assert bandit.arrays()["beta"].tolist() == expected["beta"]

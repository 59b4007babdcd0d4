"""Off-policy estimators graded against a synthetic contextual bandit whose truth is known exactly."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from ltrr_core.evaluation.estimators import (
    ESTIMATORS,
    DirectMethod,
    DoublyRobust,
    InverseProbabilityWeighting,
    SelfNormalizedInverseProbabilityWeighting,
    SwitchDoublyRobust,
)
from ltrr_core.evaluation.ope import OffPolicyEvaluation, estimate_targets
from ltrr_core.evaluation.reward_model import (
    PerActionRidge,
    assign_folds,
    cross_fitted_rewards,
)


def fit_reward_model(features, action, reward, n_actions, random_state=0, n_folds=2):
    """Cross-fitted per-action ridge predictions, shape (n, n_actions, 1)."""
    model = PerActionRidge(features, action, reward, n_actions)
    return cross_fitted_rewards(model, assign_folds(len(action), n_folds, random_state))

N_CONTEXTS, N_ACTIONS, N_FEATURES = 40, 5, 4


def _softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Logged:
    context: np.ndarray  # (n,) context type
    features: np.ndarray  # (n, d)
    action: np.ndarray
    reward: np.ndarray
    pscore: np.ndarray
    action_dist: np.ndarray  # (n, n_actions, 1) target policy
    true_rewards: np.ndarray  # (n, n_actions, 1) expected reward of every action


@dataclass(frozen=True)
class Bandit:
    """Finitely many context types drawn uniformly, so the target policy's value is exact."""

    features: np.ndarray  # (C, d)
    expected_reward: np.ndarray  # (C, K): P(reward = 1 | context, action)
    logging: np.ndarray  # (C, K) softmax logging policy
    target: np.ndarray  # (C, K) epsilon-greedy on the truth

    @property
    def true_value(self) -> float:
        return float((self.target * self.expected_reward).sum(axis=1).mean())

    def log(self, n: int, seed: int, policy: np.ndarray | None = None, noisy: bool = True) -> Logged:
        rng = np.random.default_rng(seed)
        logging = self.logging if policy is None else policy
        context = rng.integers(N_CONTEXTS, size=n)
        action = (rng.random(n)[:, None] < logging[context].cumsum(axis=1)).argmax(axis=1)
        expected = self.expected_reward[context, action]
        reward = (rng.random(n) < expected).astype(float) if noisy else expected
        return Logged(
            context, self.features[context], action, reward, logging[context, action],
            self.target[context][:, :, None], self.expected_reward[context][:, :, None],
        )


@pytest.fixture(scope="module")
def bandit() -> Bandit:
    rng = np.random.default_rng(7)
    features = rng.normal(size=(N_CONTEXTS, N_FEATURES))
    theta, bias = rng.normal(size=(N_FEATURES, N_ACTIONS)), 0.5 * rng.normal(size=N_ACTIONS)
    expected = 1 / (1 + np.exp(-(0.8 * features @ theta + bias)))
    logging = _softmax(0.5 * features @ rng.normal(size=(N_FEATURES, N_ACTIONS)))
    target = 0.2 / N_ACTIONS + 0.8 * np.eye(N_ACTIONS)[expected.argmax(axis=1)]
    return Bandit(features, expected, logging, target)


def _args(logged: Logged) -> tuple:
    return logged.reward, logged.action, logged.pscore, logged.action_dist


def test_the_target_policy_differs_from_logging(bandit):
    logging_value = float((bandit.logging * bandit.expected_reward).sum(axis=1).mean())
    assert bandit.true_value - logging_value > 0.15  # so a naive average of rewards would fail


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_each_estimator_recovers_the_true_value(bandit, name):
    logged = bandit.log(20_000, seed=1)
    model = fit_reward_model(logged.features, logged.action, logged.reward, N_ACTIONS, random_state=1)
    estimate = ESTIMATORS[name]().estimate_policy_value(*_args(logged), estimated_rewards_by_reg_model=model)
    assert estimate == pytest.approx(bandit.true_value, abs=0.04)
    assert abs(logged.reward.mean() - bandit.true_value) > 0.15


def test_ips_is_unbiased_over_seeds_while_clipping_is_not(bandit):
    runs = [bandit.log(1_000, seed=100 + s) for s in range(200)]
    ips = np.array([InverseProbabilityWeighting().estimate_policy_value(*_args(r)) for r in runs])
    clipped = np.array([InverseProbabilityWeighting(lambda_=1.0).estimate_policy_value(*_args(r)) for r in runs])
    assert ips.mean() == pytest.approx(bandit.true_value, abs=0.015)
    assert np.abs(ips - bandit.true_value).max() > 0.06  # a single run can be far off
    assert bandit.true_value - clipped.mean() > 0.1  # clipping at 1 trades bias for variance
    assert clipped.std() < ips.std()


def test_ips_and_snips_equal_the_mean_reward_when_target_is_logging(bandit):
    logged = bandit.log(500, seed=3)
    on_policy = bandit.logging[logged.context]
    args = logged.reward, logged.action, logged.pscore, on_policy
    assert InverseProbabilityWeighting().estimate_policy_value(*args) == pytest.approx(logged.reward.mean())
    assert SelfNormalizedInverseProbabilityWeighting().estimate_policy_value(*args) == pytest.approx(logged.reward.mean())


def test_hand_computed_example():
    reward = np.array([1.0, 0.0, 1.0])
    action = np.array([0, 1, 1])
    pscore = np.array([0.5, 0.25, 0.5])
    action_dist = np.array([[0.2, 0.8], [0.6, 0.4], [0.0, 1.0]])
    q_hat = np.array([[0.5, 0.3], [0.1, 0.2], [0.4, 0.9]])
    weights = np.array([0.2 / 0.5, 0.4 / 0.25, 1.0 / 0.5])  # 0.4, 1.6, 2.0
    args = reward, action, pscore, action_dist
    assert InverseProbabilityWeighting().estimate_policy_value(*args) == pytest.approx((0.4 + 0 + 2.0) / 3)
    assert InverseProbabilityWeighting(lambda_=1.5).estimate_policy_value(*args) == pytest.approx((0.4 + 1.5) / 3)
    assert SelfNormalizedInverseProbabilityWeighting().estimate_policy_value(*args) == pytest.approx(2.4 / weights.sum())
    dm_rounds = np.array([0.2 * 0.5 + 0.8 * 0.3, 0.6 * 0.1 + 0.4 * 0.2, 0.9])
    assert DirectMethod().estimate_policy_value(*args, estimated_rewards_by_reg_model=q_hat) == pytest.approx(dm_rounds.mean())
    residuals = weights * (reward - np.array([0.5, 0.2, 0.9]))
    dr = DoublyRobust().estimate_policy_value(*args, estimated_rewards_by_reg_model=q_hat)
    assert dr == pytest.approx((dm_rounds + residuals).mean())


def test_snips_stays_in_the_reward_range_where_ips_does_not():
    reward, action = np.array([1.0, 1.0, 0.0, 0.0]), np.array([0, 0, 1, 1])
    pscore = np.array([0.05, 0.05, 0.95, 0.95])
    action_dist = np.array([[0.9, 0.1]] * 4)
    args = reward, action, pscore, action_dist
    assert InverseProbabilityWeighting().estimate_policy_value(*args) > 1.0
    assert 0.0 <= SelfNormalizedInverseProbabilityWeighting().estimate_policy_value(*args) <= 1.0


def test_dr_with_a_perfect_reward_model_has_far_lower_variance_than_ips(bandit):
    def spread(noisy: bool) -> tuple[float, float, float]:
        ips, dr, dm = [], [], []
        for seed in range(100):
            logged = bandit.log(1_000, seed=500 + seed, noisy=noisy)
            ips.append(InverseProbabilityWeighting().estimate_policy_value(*_args(logged)))
            kwargs = {"estimated_rewards_by_reg_model": logged.true_rewards}
            dr.append(DoublyRobust().estimate_policy_value(*_args(logged), **kwargs))
            dm.append(DirectMethod().estimate_policy_value(*_args(logged), **kwargs))
        return float(np.var(ips)), float(np.var(dr)), float(np.max(np.abs(np.subtract(dr, dm))))

    var_ips, var_dr, _ = spread(noisy=True)
    assert var_dr < 0.6 * var_ips
    var_ips, var_dr, dr_minus_dm = spread(noisy=False)  # rewards equal their expectation
    assert dr_minus_dm < 1e-12  # residuals vanish: DR is exactly DM
    assert var_dr < 0.05 * var_ips


def test_dr_survives_a_wrong_reward_model_that_breaks_dm(bandit):
    logged = bandit.log(20_000, seed=2)
    wrong = np.full_like(logged.true_rewards, 0.5)
    dm = DirectMethod().estimate_policy_value(*_args(logged), estimated_rewards_by_reg_model=wrong)
    dr = DoublyRobust().estimate_policy_value(*_args(logged), estimated_rewards_by_reg_model=wrong)
    assert abs(dm - bandit.true_value) > 0.2
    assert dr == pytest.approx(bandit.true_value, abs=0.04)


def test_two_dimensional_action_dist_and_positions(bandit):
    logged = bandit.log(300, seed=4)
    flat = InverseProbabilityWeighting().estimate_policy_value(
        logged.reward, logged.action, logged.pscore, logged.action_dist[:, :, 0]
    )
    assert flat == InverseProbabilityWeighting().estimate_policy_value(*_args(logged))
    slots = np.concatenate([logged.action_dist, np.full_like(logged.action_dist, 1 / N_ACTIONS)], axis=2)
    in_slot_1 = InverseProbabilityWeighting().estimate_policy_value(
        *_args(logged)[:3], slots, position=np.ones(300, dtype=int)
    )
    uniform = np.full((300, N_ACTIONS), 1 / N_ACTIONS)
    assert in_slot_1 == pytest.approx(
        InverseProbabilityWeighting().estimate_policy_value(*_args(logged)[:3], uniform)
    )


def test_bootstrap_interval_contains_the_estimate_and_is_reproducible(bandit):
    logged = bandit.log(2_000, seed=5)
    estimator = SelfNormalizedInverseProbabilityWeighting()
    value = estimator.estimate_policy_value(*_args(logged))
    interval = estimator.estimate_interval(*_args(logged), n_bootstrap_samples=300, random_state=9)
    assert list(interval) == ["mean", "95.0% CI (lower)", "95.0% CI (upper)"]
    assert interval["95.0% CI (lower)"] < value < interval["95.0% CI (upper)"]
    assert interval == estimator.estimate_interval(*_args(logged), n_bootstrap_samples=300, random_state=9)
    assert interval != estimator.estimate_interval(*_args(logged), n_bootstrap_samples=300, random_state=10)
    narrower = estimator.estimate_interval(*_args(logged), alpha=0.5, n_bootstrap_samples=300, random_state=9)
    assert narrower["50.0% CI (upper)"] - narrower["50.0% CI (lower)"] < interval["95.0% CI (upper)"] - interval["95.0% CI (lower)"]


def test_bootstrap_interval_is_central(bandit):
    logged = bandit.log(2_000, seed=11)
    interval = InverseProbabilityWeighting().estimate_interval(*_args(logged), n_bootstrap_samples=4_000, random_state=0)
    below = interval["mean"] - interval["95.0% CI (lower)"]
    above = interval["95.0% CI (upper)"] - interval["mean"]
    assert below / above == pytest.approx(1.0, abs=0.08)  # 2.5% in each tail of a near-normal spread


def test_bootstrap_intervals_cover_the_truth_about_95_percent_of_the_time(bandit):
    covered = 0
    for seed in range(100):
        logged = bandit.log(1_000, seed=900 + seed)
        interval = InverseProbabilityWeighting().estimate_interval(*_args(logged), n_bootstrap_samples=200, random_state=seed)
        covered += interval["95.0% CI (lower)"] <= bandit.true_value <= interval["95.0% CI (upper)"]
    assert 85 <= covered <= 100


def test_estimate_targets_reports_every_estimator(bandit):
    logged = bandit.log(3_000, seed=6)
    feedback = {"n_rounds": 3_000, "n_actions": N_ACTIONS, "action": logged.action, "reward": logged.reward,
                "pscore": logged.pscore, "context": logged.features}
    model = PerActionRidge(logged.features, logged.action, logged.reward, N_ACTIONS)
    results = estimate_targets(feedback, {"t": logged.action_dist}, model, n_bootstrap_samples=50, random_state=3)["t"]
    assert list(results) == ["ips", "snips", "dm", "dr", "sndr", "switch-dr"]
    fitted = cross_fitted_rewards(model, assign_folds(3_000, 2, 3))
    for name, row in results.items():
        assert row.value == pytest.approx(
            ESTIMATORS[name]().estimate_policy_value(*_args(logged), estimated_rewards_by_reg_model=fitted))
        assert row.ci_low <= row.value <= row.ci_high
    assert results == estimate_targets(feedback, {"t": logged.action_dist}, model, n_bootstrap_samples=50,
                                       random_state=3)["t"]
    ope = OffPolicyEvaluation(feedback)
    assert ope.estimate_policy_values(logged.action_dist, random_state=3) == {k: v.value for k, v in results.items()}


def test_reward_model_is_close_to_the_truth_and_cross_fitted(bandit):
    logged = bandit.log(20_000, seed=8)
    model = fit_reward_model(logged.features, logged.action, logged.reward, N_ACTIONS, random_state=0)
    assert model.shape == (20_000, N_ACTIONS, 1)
    assert np.abs(model - logged.true_rewards).mean() < 0.06
    assert np.array_equal(model, fit_reward_model(logged.features, logged.action, logged.reward, N_ACTIONS, random_state=0))
    # An action logged once: cross-fitted, the round's prediction comes from the fold that never
    # saw the action (the other rounds' mean reward), not from a model fitted on it.
    features = np.array([[0.0], [1.0], [2.0], [3.0]])
    action, reward = np.array([0, 0, 0, 1]), np.array([0.0, 0.0, 0.0, 1.0])
    crossed = fit_reward_model(features, action, reward, 2, n_folds=2, random_state=0)
    assert crossed[3, 1, 0] == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"pscore": np.array([0.5, 0.0, 0.5])}, "pscore must be positive; round 1"),
        ({"pscore": np.array([0.5, 1.5, 0.5])}, r"pscore must be a probability \(<= 1\)"),
        ({"pscore": np.array([0.5, 0.5])}, r"pscore must have shape \(3,\)"),
        ({"reward": np.array([1.0, np.nan, 0.0])}, "reward must be finite"),
        ({"action": np.array([0, 2, 1])}, r"action must lie in 0..1 \(n_actions = 2\)"),
        ({"action": np.array([0.0, 1.0, 1.0])}, "action must hold integers"),
        ({"action_dist": np.array([[0.5, 0.4], [0.5, 0.5], [1.0, 0.0]])}, "action_dist must sum to 1 .* round 0"),
        ({"action_dist": np.ones(3)}, "action_dist must have shape"),
        ({"action_dist": np.full((3, 2, 2), 0.5)}, "position is required when action_dist has len_list = 2"),
        ({"position": np.array([0, 1, 0])}, r"position must lie in 0..0 \(len_list = 1\)"),
        ({"estimated_rewards_by_reg_model": np.zeros((3, 3))}, "estimated_rewards_by_reg_model must have the shape of action_dist"),
    ],
)
def test_input_checks_name_the_argument(change, message):
    inputs = {
        "reward": np.array([1.0, 0.0, 1.0]),
        "action": np.array([0, 1, 1]),
        "pscore": np.array([0.5, 0.5, 0.5]),
        "action_dist": np.array([[0.5, 0.5]] * 3),
        "estimated_rewards_by_reg_model": np.zeros((3, 2)),
    } | change
    with pytest.raises(ValueError, match=message):
        DoublyRobust().estimate_policy_value(**inputs)


def test_estimator_and_interval_settings_are_checked():
    args = np.array([1.0]), np.array([0]), np.array([0.5]), np.array([[1.0, 0.0]])
    with pytest.raises(ValueError, match="lambda_ must be positive"):
        InverseProbabilityWeighting(lambda_=0)
    with pytest.raises(ValueError, match="estimated_rewards_by_reg_model is required by DirectMethod"):
        DirectMethod().estimate_policy_value(*args)
    with pytest.raises(ValueError, match="alpha must lie in"):
        InverseProbabilityWeighting().estimate_interval(*args, alpha=1.5)
    with pytest.raises(ValueError, match="n_bootstrap_samples must be a positive integer"):
        InverseProbabilityWeighting().estimate_interval(*args, n_bootstrap_samples=0)
    with pytest.raises(ValueError, match="undefined: action_dist gives probability 0"):
        SelfNormalizedInverseProbabilityWeighting().estimate_policy_value(*args[:3], np.array([[0.0, 1.0]]))
    with pytest.raises(ValueError, match="n_folds must lie in 2..n"):
        assign_folds(2, 3)
    with pytest.raises(ValueError, match="context must be a finite 2-D array"):
        PerActionRidge(np.zeros(2), np.array([0, 1]), np.array([0.0, 1.0]), 2)
    with pytest.raises(ValueError, match="lambda_ must be >= 0"):
        SwitchDoublyRobust(lambda_=-1)

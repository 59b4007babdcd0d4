"""Refitting-bootstrap intervals and cross-fitting: each estimator unbiased and covered over seeds; folds really out-of-fold."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from ltrr_core.evaluation.estimators import ESTIMATORS, DirectMethod
from ltrr_core.evaluation.ope import estimate_targets
from ltrr_core.evaluation.reward_model import (
    PerActionRidge,
    assign_folds,
    cross_fitted_rewards,
    ridge_means,
)

N_ACTIONS = 4


def _world(n: int, seed: int) -> tuple[dict, np.ndarray, float]:
    """Softmax logging over 4 actions, a target mostly on the best action; rewards linear-ish in context."""
    rng = np.random.default_rng(seed)
    context = rng.normal(size=(n, 3))
    expected = 0.5 + 0.25 * np.tanh(context @ np.array([[0.8, -0.5, 0.2, 0.0], [0.1, 0.6, -0.7, 0.3],
                                                        [0.0, 0.2, 0.4, -0.6]]) + np.array([0.1, -0.2, 0.3, 0.0]))
    logits = context @ np.array([[0.3, 0.0, -0.3, 0.1], [0.0, 0.2, 0.1, -0.2], [0.1, -0.1, 0.0, 0.2]])
    logging = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    action = (rng.random(n)[:, None] < logging.cumsum(axis=1)).argmax(axis=1)
    reward = (rng.random(n) < expected[np.arange(n), action]).astype(float)
    target = 0.1 / N_ACTIONS + 0.9 * np.eye(N_ACTIONS)[np.full(n, 2)]
    feedback = {"n_rounds": n, "n_actions": N_ACTIONS, "action": action, "reward": reward,
                "pscore": logging[np.arange(n), action], "context": context}
    return feedback, target, float((target * expected).sum(axis=1).mean())


def test_every_estimator_is_unbiased_and_its_interval_covers_the_truth_over_seeds():
    estimates = {name: [] for name in ESTIMATORS}
    covered = {name: 0 for name in ESTIMATORS}
    truths = []
    seeds = 40
    for seed in range(seeds):
        feedback, target, truth = _world(1_500, seed)
        truths.append(truth)
        model = PerActionRidge(feedback["context"], feedback["action"], feedback["reward"], N_ACTIONS)
        out = estimate_targets(feedback, {"t": target}, model, n_bootstrap_samples=60, random_state=seed)["t"]
        for name, row in out.items():
            estimates[name].append(row.value - truth)
            covered[name] += row.ci_low <= truth <= row.ci_high
    for name, errors in estimates.items():
        errors = np.array(errors)
        standard_error = errors.std(ddof=1) / np.sqrt(seeds)
        assert abs(errors.mean()) < 3 * standard_error + 0.01, name  # no bias beyond noise (DM: its model's)
        assert covered[name] >= 0.8 * seeds, (name, covered[name])


def test_refitting_widens_the_direct_method_interval_to_carry_the_model_error():
    feedback, target, _ = _world(2_000, 3)
    model = PerActionRidge(feedback["context"], feedback["action"], feedback["reward"], N_ACTIONS)
    refit = estimate_targets(feedback, {"t": target}, model, ("dm",), n_bootstrap_samples=200)["t"]["dm"]
    fixed = DirectMethod().estimate_interval(feedback["reward"], feedback["action"], feedback["pscore"], target,
                                             estimated_rewards_by_reg_model=cross_fitted_rewards(
                                                 model, assign_folds(2_000, 2, 0)), n_bootstrap_samples=200,
                                             random_state=0)
    assert refit.ci_high - refit.ci_low > 3 * (fixed["95.0% CI (upper)"] - fixed["95.0% CI (lower)"])


class _Spy:
    """A reward model that records the rows each fold's model was fitted on and asked to predict."""

    n_actions = 2

    def __init__(self) -> None:
        self.calls: list[tuple[set, set]] = []

    def fit(self, rows):
        trained = set(rows.tolist())

        def predict(at):
            self.calls.append((trained, set(at.tolist())))
            return np.zeros((len(at), 2))

        return predict


@pytest.mark.parametrize("n_folds", [2, 5])
def test_cross_fitting_never_predicts_a_round_with_a_model_that_saw_it(n_folds):
    folds = assign_folds(100, n_folds, random_state=4)
    assert np.bincount(folds).tolist() == [100 // n_folds] * n_folds
    resample = np.random.default_rng(0).integers(0, 100, size=100)  # a bootstrap resample: repeated rows
    for train in (None, resample):
        spy = _Spy()
        cross_fitted_rewards(spy, folds, train)
        assert len(spy.calls) == n_folds
        predicted = set()
        for trained, asked in spy.calls:
            assert not trained & asked  # out of fold, even with a round's copies in the resample
            predicted |= asked
        assert predicted == set(range(100))


def test_closed_form_ridge_equals_scikit_learn():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(200, 5)), rng.normal(size=200)
    ours = ridge_means(x, y, 1.0)
    theirs = Ridge(alpha=1.0).fit(x, y)
    at = rng.normal(size=(20, 5))
    np.testing.assert_allclose(ours(at), theirs.predict(at), rtol=1e-8, atol=1e-10)
    assert ridge_means(x[:1], y[:1], 1.0) == pytest.approx(y[0])

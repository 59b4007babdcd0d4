"""The ridge arms against mabwiser's public API (the reference they replace), and their snapshot."""

from __future__ import annotations

import numpy as np
import pytest

from ltrr_core.selection.ridge import RidgeArms

mab = pytest.importorskip("mabwiser.mab")

ARMS = ["a", "b", "c"]


def _rows(seed: int, n: int = 60, d: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.column_stack([np.ones(n), rng.random((n, d - 1))])
    return x, rng.integers(len(ARMS), size=n), (rng.random(n) < 0.4).astype(float)


@pytest.mark.parametrize("policy,alpha", [("ucb", 0.8), ("ridge", 0.0)])
def test_scores_equal_mabwiser_after_the_same_rows(policy, alpha):
    x, arms, rewards = _rows(1)
    learning = (mab.LearningPolicy.LinUCB(alpha=alpha, l2_lambda=1.5) if policy == "ucb"
                else mab.LearningPolicy.LinGreedy(epsilon=0.0, l2_lambda=1.5))
    reference = mab.MAB(ARMS, learning, seed=3)
    reference.fit([ARMS[i] for i in arms], rewards, x)
    ridge = RidgeArms(len(ARMS), 4, 1.5)
    for row, arm, reward in zip(x, arms, rewards):
        ridge.fit(int(arm), row.reshape(1, -1), reward)
    probe = np.array([[1.0, 0.3, 0.9, 0.1]])
    expected = reference.predict_expectations(probe)
    for i, arm in enumerate(ARMS):
        got = ridge.upper_bound(i, probe, alpha) if policy == "ucb" else ridge.mean(i, probe[0])
        assert got == pytest.approx(expected[arm], rel=1e-12)


def test_a_weight_counts_as_that_many_copies_of_the_row():
    x, arms, rewards = _rows(2, n=10)
    weighted, copied = RidgeArms(len(ARMS), 4, 1.0), RidgeArms(len(ARMS), 4, 1.0)
    for row, arm, reward in zip(x, arms, rewards):
        weighted.fit(int(arm), row.reshape(1, -1), reward, weight=3.0)
        for _ in range(3):
            copied.fit(int(arm), row.reshape(1, -1), reward)
    for name, array in weighted.arrays().items():
        assert array == pytest.approx(copied.arrays()[name], rel=1e-9), name


def test_thompson_draws_centre_on_the_mean_with_the_posterior_spread():
    x, arms, rewards = _rows(3)
    ridge = RidgeArms(len(ARMS), 4, 1.0)
    for row, arm, reward in zip(x, arms, rewards):
        ridge.fit(int(arm), row.reshape(1, -1), reward)
    probe = np.array([[1.0, 0.5, 0.5, 0.5]])
    rng = np.random.default_rng(0)
    draws = np.array([ridge.sample(1, probe, 2.0, rng) for _ in range(4000)])
    assert draws.mean() == pytest.approx(ridge.mean(1, probe[0]), abs=0.05)
    assert draws.std() == pytest.approx(2.0 * ridge.posterior_sd(1, probe[0]), rel=0.05)


def test_load_restores_a_snapshot_and_refuses_a_wrong_shape():
    x, arms, rewards = _rows(4, n=20)
    ridge = RidgeArms(len(ARMS), 4, 1.0)
    for row, arm, reward in zip(x, arms, rewards):
        ridge.fit(int(arm), row.reshape(1, -1), reward)
    fresh = RidgeArms(len(ARMS), 4, 1.0)
    fresh.load(ridge.arrays())
    assert fresh.mean(0, x[0]) == ridge.mean(0, x[0])
    with pytest.raises(ValueError, match="'A_inv'"):
        fresh.load(ridge.arrays() | {"A_inv": np.zeros((len(ARMS), 3, 3))})

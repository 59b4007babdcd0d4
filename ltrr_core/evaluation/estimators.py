"""Off-policy estimators for logged bandit feedback, after Open Bandit Pipeline's conventions.

Each estimator is a frozen dataclass holding only hyperparameters, with
``estimate_policy_value(reward, action, pscore, action_dist, ...) -> float`` and a bootstrap
``estimate_interval(...) -> {"mean", "95.0% CI (lower)", "95.0% CI (upper)"}``, as in
``obp/ope/estimators.py``. Arrays, for ``n`` logged rounds and ``n_actions`` actions:

* ``reward`` (n,) observed rewards; ``action`` (n,) logged action ids in ``0..n_actions-1``;
* ``pscore`` (n,) probability the logging policy gave the logged action, in (0, 1];
* ``action_dist`` (n, n_actions, len_list) target-policy action probabilities (n, n_actions) also
  accepted; ``position`` (n,) slot of each round, needed only when ``len_list > 1``;
* ``estimated_rewards_by_reg_model`` (n, n_actions, len_list) or (n, n_actions): predicted
  expected reward of every action in every round (DM, DR), e.g. from :func:`fit_reward_model`.

Every estimate is ``sum(numerator) / sum(denominator)`` over per-round terms, so the bootstrap
resamples rounds and recomputes the ratio (correct for SNIPS, exact for the others).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable, ClassVar, NamedTuple

import numpy as np
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold

_SUM_TOLERANCE = 1e-6
_BOOTSTRAP_CELLS = 2_000_000  # resampled indices held in memory at once


class _Rounds(NamedTuple):
    reward: np.ndarray  # (n,)
    action: np.ndarray  # (n,) int
    pscore: np.ndarray  # (n,)
    action_dist: np.ndarray  # (n, n_actions, len_list)
    position: np.ndarray  # (n,) int
    estimated_rewards: np.ndarray | None  # (n, n_actions, len_list)

    @property
    def rows(self) -> np.ndarray:
        return np.arange(len(self.reward))

    def target_prob_of_logged(self) -> np.ndarray:
        return self.action_dist[self.rows, self.action, self.position]


def _as_3d(name: str, array: np.ndarray) -> np.ndarray:
    array = np.asarray(array, dtype=np.float64)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3:
        raise ValueError(f"{name} must have shape (n, n_actions) or (n, n_actions, len_list), got {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return array


def _as_1d(name: str, array: np.ndarray, n: int) -> np.ndarray:
    array = np.asarray(array)
    if array.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},) to match action_dist's n rounds, got {array.shape}")
    if array.dtype.kind not in "iub" and not np.isfinite(array.astype(np.float64)).all():
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return array


def _as_ids(name: str, array: np.ndarray, n: int, upper: int, upper_name: str) -> np.ndarray:
    array = _as_1d(name, array, n)
    if array.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integers, got dtype {array.dtype}")
    if n and (array.min() < 0 or array.max() >= upper):
        raise ValueError(f"{name} must lie in 0..{upper - 1} ({upper_name} = {upper}), got {array.min()}..{array.max()}")
    return array.astype(np.int64)


def _check_rounds(
    reward: np.ndarray,
    action: np.ndarray,
    pscore: np.ndarray,
    action_dist: np.ndarray,
    position: np.ndarray | None,
    estimated_rewards_by_reg_model: np.ndarray | None,
) -> _Rounds:
    dist = _as_3d("action_dist", action_dist)
    n, n_actions, len_list = dist.shape
    if n == 0:
        raise ValueError("action_dist must hold at least one round")
    if (dist < 0).any():
        raise ValueError("action_dist must be non-negative")
    sums = dist.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1.0).max(axis=1) > _SUM_TOLERANCE)
    if bad.size:
        raise ValueError(f"action_dist must sum to 1 over actions (axis 1); round {bad[0]} sums to {sums[bad[0]].tolist()}")
    reward = _as_1d("reward", reward, n).astype(np.float64)
    action = _as_ids("action", action, n, n_actions, "n_actions")
    pscore = _as_1d("pscore", pscore, n).astype(np.float64)
    for bad, rule in ((pscore <= 0, "positive"), (pscore > 1, "a probability (<= 1)")):
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise ValueError(f"pscore must be {rule}; round {first} has {pscore[first]}")
    if position is None:
        if len_list > 1:
            raise ValueError(f"position is required when action_dist has len_list = {len_list} > 1")
        position = np.zeros(n, dtype=np.int64)
    else:
        position = _as_ids("position", position, n, len_list, "len_list")
    estimated = None
    if estimated_rewards_by_reg_model is not None:
        estimated = _as_3d("estimated_rewards_by_reg_model", estimated_rewards_by_reg_model)
        if estimated.shape != dist.shape:
            raise ValueError(
                f"estimated_rewards_by_reg_model must have the shape of action_dist {dist.shape}, got {estimated.shape}"
            )
    return _Rounds(reward, action, pscore, dist, position, estimated)


def _interval_keys(alpha: float) -> tuple[str, str]:
    level = 100 * (1.0 - alpha)
    return f"{level}% CI (lower)", f"{level}% CI (upper)"


def _bootstrap(
    numerator: np.ndarray, denominator: np.ndarray, alpha: float, n_bootstrap_samples: int, random_state: int | None
) -> dict[str, float]:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    if isinstance(n_bootstrap_samples, bool) or not isinstance(n_bootstrap_samples, (int, np.integer)) or n_bootstrap_samples < 1:
        raise ValueError(f"n_bootstrap_samples must be a positive integer, got {n_bootstrap_samples!r}")
    rng = np.random.default_rng(random_state)
    n = len(numerator)
    samples = np.empty(n_bootstrap_samples)
    chunk = max(1, _BOOTSTRAP_CELLS // n)
    with np.errstate(divide="ignore", invalid="ignore"):
        for start in range(0, n_bootstrap_samples, chunk):
            stop = min(start + chunk, n_bootstrap_samples)
            rows = rng.integers(0, n, size=(stop - start, n))
            samples[start:stop] = numerator[rows].sum(axis=1) / denominator[rows].sum(axis=1)
    lower, upper = _interval_keys(alpha)
    return {
        "mean": float(np.nanmean(samples)),
        lower: float(np.nanpercentile(samples, 100 * alpha / 2)),
        upper: float(np.nanpercentile(samples, 100 * (1 - alpha / 2))),
    }


class _Estimator(ABC):
    """Shared entry points; subclasses define the per-round terms of their estimate."""

    estimator_name: ClassVar[str]
    needs_reg_model: ClassVar[bool] = False

    @abstractmethod
    def _terms(self, rounds: _Rounds) -> tuple[np.ndarray, np.ndarray]:
        """Per-round numerator and denominator: the estimate is ``sum(num) / sum(den)``."""

    def _checked_terms(self, reward, action, pscore, action_dist, position, estimated_rewards_by_reg_model):
        rounds = _check_rounds(reward, action, pscore, action_dist, position, estimated_rewards_by_reg_model)
        if self.needs_reg_model and rounds.estimated_rewards is None:
            raise ValueError(
                f"estimated_rewards_by_reg_model is required by {type(self).__name__}; fit one with fit_reward_model"
            )
        return self._terms(rounds)

    def estimate_policy_value(
        self,
        reward: np.ndarray,
        action: np.ndarray,
        pscore: np.ndarray,
        action_dist: np.ndarray,
        position: np.ndarray | None = None,
        estimated_rewards_by_reg_model: np.ndarray | None = None,
    ) -> float:
        """The estimated expected reward of the target policy ``action_dist``."""
        numerator, denominator = self._checked_terms(
            reward, action, pscore, action_dist, position, estimated_rewards_by_reg_model
        )
        total = denominator.sum()
        if total == 0:
            raise ValueError(
                f"{type(self).__name__} is undefined: action_dist gives probability 0 to every logged action"
            )
        return float(numerator.sum() / total)

    def estimate_interval(
        self,
        reward: np.ndarray,
        action: np.ndarray,
        pscore: np.ndarray,
        action_dist: np.ndarray,
        position: np.ndarray | None = None,
        estimated_rewards_by_reg_model: np.ndarray | None = None,
        alpha: float = 0.05,
        n_bootstrap_samples: int = 1000,
        random_state: int | None = None,
    ) -> dict[str, float]:
        """Bootstrap percentile interval: ``{"mean", "95.0% CI (lower)", "95.0% CI (upper)"}`` (OBP keys)."""
        numerator, denominator = self._checked_terms(
            reward, action, pscore, action_dist, position, estimated_rewards_by_reg_model
        )
        return _bootstrap(numerator, denominator, alpha, n_bootstrap_samples, random_state)


def _check_lambda(lambda_: float) -> None:
    if not lambda_ > 0:
        raise ValueError(f"lambda_ must be positive (np.inf = no clipping), got {lambda_!r}")


def _weights(rounds: _Rounds, lambda_: float) -> np.ndarray:
    return np.minimum(rounds.target_prob_of_logged() / rounds.pscore, lambda_)


@dataclass(frozen=True)
class InverseProbabilityWeighting(_Estimator):
    """IPS: ``mean(w * reward)`` with ``w = pi(a|x) / pscore``, clipped at ``lambda_``.

    Unbiased when ``lambda_ = inf`` and the logging policy covers the target's actions.
    """

    lambda_: float = np.inf
    estimator_name: ClassVar[str] = "ips"

    def __post_init__(self) -> None:
        _check_lambda(self.lambda_)

    def _terms(self, rounds: _Rounds) -> tuple[np.ndarray, np.ndarray]:
        return _weights(rounds, self.lambda_) * rounds.reward, np.ones_like(rounds.reward)


@dataclass(frozen=True)
class SelfNormalizedInverseProbabilityWeighting(_Estimator):
    """SNIPS: ``sum(w * reward) / sum(w)``; slightly biased, bounded by the reward range, lower variance."""

    estimator_name: ClassVar[str] = "snips"

    def _terms(self, rounds: _Rounds) -> tuple[np.ndarray, np.ndarray]:
        weights = _weights(rounds, np.inf)
        return weights * rounds.reward, weights


@dataclass(frozen=True)
class DirectMethod(_Estimator):
    """DM: ``mean over rounds of sum_a pi(a|x) * q_hat(x, a)``; as good as the reward model."""

    estimator_name: ClassVar[str] = "dm"
    needs_reg_model: ClassVar[bool] = True

    def _terms(self, rounds: _Rounds) -> tuple[np.ndarray, np.ndarray]:
        return _model_value(rounds), np.ones_like(rounds.reward)


@dataclass(frozen=True)
class DoublyRobust(_Estimator):
    """DR: DM plus the IPS-weighted residual ``w * (reward - q_hat(x, a))`` (``w`` clipped at ``lambda_``).

    Unbiased if either the propensities or the reward model are right.
    """

    lambda_: float = np.inf
    estimator_name: ClassVar[str] = "dr"
    needs_reg_model: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _check_lambda(self.lambda_)

    def _terms(self, rounds: _Rounds) -> tuple[np.ndarray, np.ndarray]:
        logged_estimate = rounds.estimated_rewards[rounds.rows, rounds.action, rounds.position]
        residual = _weights(rounds, self.lambda_) * (rounds.reward - logged_estimate)
        return _model_value(rounds) + residual, np.ones_like(rounds.reward)


def _model_value(rounds: _Rounds) -> np.ndarray:
    at_position = rounds.rows, slice(None), rounds.position
    return (rounds.action_dist[at_position] * rounds.estimated_rewards[at_position]).sum(axis=1)


ESTIMATORS: dict[str, Callable[[], _Estimator]] = {
    cls.estimator_name: cls
    for cls in (InverseProbabilityWeighting, SelfNormalizedInverseProbabilityWeighting, DirectMethod, DoublyRobust)
}


def estimate_all(
    reward: np.ndarray,
    action: np.ndarray,
    pscore: np.ndarray,
    action_dist: np.ndarray,
    estimated_rewards: np.ndarray,
    alpha: float = 0.05,
    n_bootstrap_samples: int = 1000,
    random_state: int | None = 0,
    position: np.ndarray | None = None,
) -> dict[str, dict[str, float]]:
    """Every registered estimator (default settings): ``{"ips": {"value", "ci_low", "ci_high"}, ...}``.

    All estimators share ``random_state``, so their intervals come from the same resamples.
    """
    lower, upper = _interval_keys(alpha)
    results = {}
    for name, build in ESTIMATORS.items():
        estimator = build()
        args = (reward, action, pscore, action_dist, position, estimated_rewards)
        interval = estimator.estimate_interval(
            *args, alpha=alpha, n_bootstrap_samples=n_bootstrap_samples, random_state=random_state
        )
        results[name] = {
            "value": estimator.estimate_policy_value(*args),
            "ci_low": interval[lower],
            "ci_high": interval[upper],
        }
    return results


def fit_reward_model(
    context: np.ndarray,
    action: np.ndarray,
    reward: np.ndarray,
    n_actions: int,
    random_state: int | None = 0,
    n_folds: int = 2,
    ridge: float = 1.0,
) -> np.ndarray:
    """Predicted reward of every action in every round, shape (n, n_actions, 1), for DM and DR.

    One scikit-learn ridge regression per action on ``context`` (n, d). With ``n_folds >= 2`` the predictions
    are cross-fitted: each round's predictions come from models that never saw that round
    (``random_state`` shuffles the folds). An action absent from the training rounds predicts
    their mean reward. Predictions are clipped to the observed reward range.
    """
    context = np.asarray(context, dtype=np.float64)
    if context.ndim != 2 or not np.isfinite(context).all():
        raise ValueError(f"context must be a finite 2-D array (n, d), got shape {context.shape}")
    n = context.shape[0]
    if n == 0:
        raise ValueError("context must hold at least one round")
    if isinstance(n_actions, bool) or not isinstance(n_actions, (int, np.integer)) or n_actions < 1:
        raise ValueError(f"n_actions must be a positive integer, got {n_actions!r}")
    action = _as_ids("action", action, n, n_actions, "n_actions")
    reward = _as_1d("reward", reward, n).astype(np.float64)
    if isinstance(n_folds, bool) or not isinstance(n_folds, (int, np.integer)) or not 1 <= n_folds <= n:
        raise ValueError(f"n_folds must lie in 1..n (n = {n} rounds), got {n_folds!r}")
    if not ridge >= 0:
        raise ValueError(f"ridge must be >= 0, got {ridge!r}")
    rows = np.arange(n)
    splits = [(rows, rows)] if n_folds == 1 else KFold(n_folds, shuffle=True, random_state=random_state).split(rows)
    predicted = np.empty((n, n_actions))
    for train, fold in splits:
        for arm in range(n_actions):
            seen = train[action[train] == arm]
            if seen.size == 0:
                predicted[fold, arm] = reward[train].mean()
                continue
            model = Ridge(alpha=ridge).fit(context[seen], reward[seen])  # the intercept is not penalised
            predicted[fold, arm] = model.predict(context[fold])
    return np.clip(predicted, reward.min(), reward.max())[:, :, None]

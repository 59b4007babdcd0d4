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
  expected reward of every action in every round (DM and the DR family), e.g. from
  :func:`ltrr_core.evaluation.reward_model.cross_fitted_rewards`.

Every estimate is a smooth function of per-round means (``mean(w r)``, ``mean(w r) / mean(w)``,
...), so the bootstrap resamples rounds and recomputes that function. These intervals hold the
reward model fixed; :mod:`ltrr_core.evaluation.ope` refits it inside the bootstrap.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable, ClassVar, NamedTuple

import numpy as np

_SUM_TOLERANCE = 1e-6
_BOOTSTRAP_CELLS = 2_000_000  # resampled indices held in memory at once


class Rounds(NamedTuple):
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


def check_rounds(
    reward: np.ndarray,
    action: np.ndarray,
    pscore: np.ndarray,
    action_dist: np.ndarray,
    position: np.ndarray | None,
    estimated_rewards_by_reg_model: np.ndarray | None,
) -> Rounds:
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
    return Rounds(reward, action, pscore, dist, position, estimated)


def _interval_keys(alpha: float) -> tuple[str, str]:
    level = 100 * (1.0 - alpha)
    return f"{level}% CI (lower)", f"{level}% CI (upper)"


def _check_bootstrap(alpha: float, n_bootstrap_samples: int) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    if isinstance(n_bootstrap_samples, bool) or not isinstance(n_bootstrap_samples, (int, np.integer)) or n_bootstrap_samples < 1:
        raise ValueError(f"n_bootstrap_samples must be a positive integer, got {n_bootstrap_samples!r}")


def percentile_interval(samples: np.ndarray, alpha: float) -> dict[str, float]:
    """OBP's interval dict from bootstrap replicates: ``{"mean", "95.0% CI (lower)", "95.0% CI (upper)"}``."""
    lower, upper = _interval_keys(alpha)
    return {
        "mean": float(np.nanmean(samples)),
        lower: float(np.nanpercentile(samples, 100 * alpha / 2)),
        upper: float(np.nanpercentile(samples, 100 * (1 - alpha / 2))),
    }


def _bootstrap(estimator: _Estimator, terms: tuple[np.ndarray, ...], alpha: float, n_bootstrap_samples: int,
               random_state: int | None) -> dict[str, float]:
    _check_bootstrap(alpha, n_bootstrap_samples)
    rng = np.random.default_rng(random_state)
    n = len(terms[0])
    samples = np.empty(n_bootstrap_samples)
    chunk = max(1, _BOOTSTRAP_CELLS // n)
    with np.errstate(divide="ignore", invalid="ignore"):
        for start in range(0, n_bootstrap_samples, chunk):
            stop = min(start + chunk, n_bootstrap_samples)
            rows = rng.integers(0, n, size=(stop - start, n))
            samples[start:stop] = estimator.combine(*(term[rows].mean(axis=1) for term in terms))
    return percentile_interval(samples, alpha)


class _Estimator(ABC):
    """Shared entry points; subclasses define per-round terms and how their means combine."""

    estimator_name: ClassVar[str]
    needs_reg_model: ClassVar[bool] = False

    @abstractmethod
    def terms(self, rounds: Rounds) -> tuple[np.ndarray, ...]:
        """Per-round arrays whose means :meth:`combine` turns into the estimate."""

    def combine(self, *means):
        """The estimate from the means of :meth:`terms` (scalars, or arrays of bootstrap replicates)."""
        return means[0]

    def per_round_terms(self, reward, action, pscore, action_dist, position=None,
                        estimated_rewards_by_reg_model=None) -> tuple[np.ndarray, ...]:
        """The checked inputs' per-round terms; :meth:`value_of_terms` turns them into the estimate."""
        rounds = check_rounds(reward, action, pscore, action_dist, position, estimated_rewards_by_reg_model)
        if self.needs_reg_model and rounds.estimated_rewards is None:
            raise ValueError(
                f"estimated_rewards_by_reg_model is required by {type(self).__name__}; fit one with "
                "ltrr_core.evaluation.reward_model.cross_fitted_rewards"
            )
        return self.terms(rounds)

    def value_of_terms(self, terms: tuple[np.ndarray, ...]) -> float:
        """The estimate from per-round terms; ValueError when a self-normalised weight sum is 0."""
        with np.errstate(divide="ignore", invalid="ignore"):
            value = float(self.combine(*(term.mean() for term in terms)))
        if not np.isfinite(value):
            raise ValueError(
                f"{type(self).__name__} is undefined: action_dist gives probability 0 to every logged action"
            )
        return value

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
        return self.value_of_terms(
            self.per_round_terms(reward, action, pscore, action_dist, position, estimated_rewards_by_reg_model)
        )

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
        """Bootstrap percentile interval: ``{"mean", "95.0% CI (lower)", "95.0% CI (upper)"}`` (OBP keys).

        The reward model is held fixed here (as OBP does); see :mod:`ltrr_core.evaluation.ope` for
        intervals that refit it on every resample."""
        terms = self.per_round_terms(reward, action, pscore, action_dist, position, estimated_rewards_by_reg_model)
        return _bootstrap(self, terms, alpha, n_bootstrap_samples, random_state)

def _check_lambda(lambda_: float) -> None:
    if not lambda_ > 0:
        raise ValueError(f"lambda_ must be positive (np.inf = no clipping), got {lambda_!r}")


def _weights(rounds: Rounds, lambda_: float) -> np.ndarray:
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

    def terms(self, rounds: Rounds) -> tuple[np.ndarray, np.ndarray]:
        return (_weights(rounds, self.lambda_) * rounds.reward,)


@dataclass(frozen=True)
class SelfNormalizedInverseProbabilityWeighting(_Estimator):
    """SNIPS: ``sum(w * reward) / sum(w)``; slightly biased, bounded by the reward range, lower variance."""

    estimator_name: ClassVar[str] = "snips"

    def terms(self, rounds: Rounds) -> tuple[np.ndarray, np.ndarray]:
        weights = _weights(rounds, np.inf)
        return weights * rounds.reward, weights

    def combine(self, weighted_reward, weight):
        return weighted_reward / weight


@dataclass(frozen=True)
class DirectMethod(_Estimator):
    """DM: ``mean over rounds of sum_a pi(a|x) * q_hat(x, a)``; as good as the reward model."""

    estimator_name: ClassVar[str] = "dm"
    needs_reg_model: ClassVar[bool] = True

    def terms(self, rounds: Rounds) -> tuple[np.ndarray, np.ndarray]:
        return (_model_value(rounds),)


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

    def terms(self, rounds: Rounds) -> tuple[np.ndarray, ...]:
        return (_model_value(rounds) + _weights(rounds, self.lambda_) * _residual(rounds),)


@dataclass(frozen=True)
class SelfNormalizedDoublyRobust(_Estimator):
    """SNDR: DM plus the self-normalised residual ``sum(w * (reward - q_hat)) / sum(w)``.

    Stays close to DR where weights average 1, and cannot be thrown far by a few huge weights.
    """

    estimator_name: ClassVar[str] = "sndr"
    needs_reg_model: ClassVar[bool] = True

    def terms(self, rounds: Rounds) -> tuple[np.ndarray, ...]:
        weights = _weights(rounds, np.inf)
        return _model_value(rounds), weights * _residual(rounds), weights

    def combine(self, model_value, weighted_residual, weight):
        return model_value + weighted_residual / weight


SWITCH_TAU = 100.0  # Switch-DR's default weight threshold


@dataclass(frozen=True)
class SwitchDoublyRobust(_Estimator):
    """Switch-DR (Wang et al. 2017): DR on rounds whose weight ``w <= lambda_`` (the threshold tau,
    default ``SWITCH_TAU``), the model alone on the others; ``lambda_ = inf`` is DR, ``0`` is DM."""

    lambda_: float = SWITCH_TAU
    estimator_name: ClassVar[str] = "switch-dr"
    needs_reg_model: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if not self.lambda_ >= 0:
            raise ValueError(f"lambda_ must be >= 0 (the Switch-DR threshold tau), got {self.lambda_!r}")

    def terms(self, rounds: Rounds) -> tuple[np.ndarray, ...]:
        weights = _weights(rounds, np.inf)
        return (_model_value(rounds) + np.where(weights <= self.lambda_, weights, 0.0) * _residual(rounds),)


def _residual(rounds: Rounds) -> np.ndarray:
    return rounds.reward - rounds.estimated_rewards[rounds.rows, rounds.action, rounds.position]


def _model_value(rounds: Rounds) -> np.ndarray:
    if rounds.action_dist.shape[2] == 1:  # one slot: no per-round gather (the refitting bootstrap's hot path)
        return np.einsum("ij,ij->i", rounds.action_dist[:, :, 0], rounds.estimated_rewards[:, :, 0])
    at_position = rounds.rows, slice(None), rounds.position
    return (rounds.action_dist[at_position] * rounds.estimated_rewards[at_position]).sum(axis=1)


ESTIMATORS: dict[str, Callable[[], _Estimator]] = {
    cls.estimator_name: cls
    for cls in (InverseProbabilityWeighting, SelfNormalizedInverseProbabilityWeighting, DirectMethod, DoublyRobust,
                SelfNormalizedDoublyRobust, SwitchDoublyRobust)
}

"""Off-policy evaluation of any logged bandit data, in Open Bandit Pipeline's shape.

``bandit_feedback`` is OBP's dict: ``n_rounds``, ``n_actions``, ``action`` (n,) ints,
``reward`` (n,), ``pscore`` (n,) the logging policy's probability of the logged action,
optionally ``position`` (n,) and ``context`` (n, d). A target policy is an ``action_dist``
(n, n_actions[, len_list]). :class:`OffPolicyEvaluation` mirrors ``obp.ope.OffPolicyEvaluation``
(``estimate_policy_values``, ``estimate_intervals``, ``summarize_off_policy_estimates``).

Model-based estimators (DM, DR, SNDR, Switch-DR) take their reward model cross-fitted
(:mod:`ltrr_core.evaluation.reward_model`), and their intervals **refit the model inside the
bootstrap**: each replicate resamples the rounds, refits every fold's model on the resample's
rows outside that fold, and recomputes the estimate, so the interval carries the model's own
variance (OBP's intervals hold the model fixed).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from ltrr_core.evaluation.estimators import (
    ESTIMATORS,
    check_rounds,
    percentile_interval,
)
from ltrr_core.evaluation.reward_model import (
    PerActionRidge,
    RewardModel,
    assign_folds,
    cross_fitted_rewards,
)

FEEDBACK_KEYS = ("n_rounds", "n_actions", "action", "reward", "pscore")


@dataclass(frozen=True)
class Estimate:
    """One estimator's estimated policy value and its bootstrap interval (NaN without a bootstrap)."""

    value: float
    ci_low: float
    ci_high: float


def check_feedback(bandit_feedback: dict) -> dict:
    """OBP's ``bandit_feedback`` with its arrays checked; a ValueError names a missing key."""
    missing = [k for k in FEEDBACK_KEYS if k not in bandit_feedback]
    if missing:
        raise ValueError(f"bandit_feedback lacks {missing[0]!r}; it needs {list(FEEDBACK_KEYS)} (OBP's keys)")
    n = int(bandit_feedback["n_rounds"])
    for key in ("action", "reward", "pscore", "position", "context"):
        value = bandit_feedback.get(key)
        if value is not None and len(value) != n:
            raise ValueError(f"bandit_feedback[{key!r}] has {len(value)} rows but n_rounds = {n}")
    return bandit_feedback


def reward_model_for(bandit_feedback: dict) -> RewardModel:
    """The default reward model of OBP-shaped data: a ridge regression per action on ``context``."""
    if bandit_feedback.get("context") is None:
        raise ValueError("bandit_feedback has no 'context': DM and DR need one to fit a reward model")
    return PerActionRidge(bandit_feedback["context"], bandit_feedback["action"], bandit_feedback["reward"],
                          int(bandit_feedback["n_actions"]))


def estimate_targets(
    bandit_feedback: dict,
    action_dists: dict[str, np.ndarray],
    reward_model: RewardModel | None,
    estimators: tuple[str, ...] = tuple(ESTIMATORS),
    n_folds: int = 2,
    alpha: float = 0.05,
    n_bootstrap_samples: int = 200,
    random_state: int | None = 0,
) -> dict[str, dict[str, Estimate]]:
    """``{target: {estimator: Estimate}}`` for several targets on one log.

    The targets share the cross-fitted reward model and every bootstrap replicate (resampled rows
    and refitted models). Without ``reward_model`` only IPS and SNIPS are computed; with
    ``n_bootstrap_samples = 0`` the intervals are NaN."""
    feedback = check_feedback(bandit_feedback)
    n = int(feedback["n_rounds"])
    built = {name: ESTIMATORS[name]() for name in estimators
             if reward_model is not None or not ESTIMATORS[name].needs_reg_model}
    folds = assign_folds(n, n_folds, random_state) if reward_model is not None else None
    fitted = cross_fitted_rewards(reward_model, folds) if reward_model is not None else None
    rounds = {target: check_rounds(feedback["reward"], feedback["action"], feedback["pscore"], dist,
                                   feedback.get("position"), _per_slot(fitted, dist))
              for target, dist in action_dists.items()}
    point = {t: {name: est.value_of_terms(est.terms(r)) for name, est in built.items()} for t, r in rounds.items()}
    samples = {t: {name: np.empty(n_bootstrap_samples) for name in built} for t in rounds}
    rng = np.random.default_rng(random_state)
    fixed_terms = {t: {name: est.terms(r) for name, est in built.items() if not est.needs_reg_model}
                   for t, r in rounds.items()}
    with np.errstate(divide="ignore", invalid="ignore"):
        for b in range(n_bootstrap_samples):
            rows = rng.integers(0, n, size=n)
            refitted = cross_fitted_rewards(reward_model, folds, rows) if reward_model is not None else None
            for t, r in rounds.items():
                for name, est in built.items():
                    terms = est.terms(r._replace(estimated_rewards=_per_slot(refitted, r.action_dist))) \
                        if est.needs_reg_model \
                        else fixed_terms[t][name]
                    samples[t][name][b] = est.combine(*(term[rows].mean() for term in terms))
    lower, upper = f"{100 * (1 - alpha)}% CI (lower)", f"{100 * (1 - alpha)}% CI (upper)"
    out = {}
    for t in rounds:
        out[t] = {}
        for name in built:
            interval = percentile_interval(samples[t][name], alpha) if n_bootstrap_samples else {}
            out[t][name] = Estimate(point[t][name], interval.get(lower, np.nan), interval.get(upper, np.nan))
    return out


def _per_slot(fitted: np.ndarray | None, action_dist: np.ndarray) -> np.ndarray | None:
    """The reward model's (n, n_actions, 1) predictions repeated for every slot of ``action_dist``."""
    if fitted is None or np.ndim(action_dist) < 3 or np.shape(action_dist)[2] == 1:
        return fitted
    return np.repeat(fitted, np.shape(action_dist)[2], axis=2)


@dataclass
class OffPolicyEvaluation:
    """OBP's ``OffPolicyEvaluation`` over ``bandit_feedback`` with the named ``ope_estimators``;
    ``reward_model`` defaults to :func:`reward_model_for` when the feedback has a context."""

    bandit_feedback: dict
    ope_estimators: tuple[str, ...] = tuple(ESTIMATORS)
    reward_model: RewardModel | None = None
    n_folds: int = 2
    _model: RewardModel | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        check_feedback(self.bandit_feedback)
        unknown = [name for name in self.ope_estimators if name not in ESTIMATORS]
        if unknown:
            raise ValueError(f"estimator {unknown[0]!r} is not one of {list(ESTIMATORS)}")
        self._model = self.reward_model
        if self._model is None and self.bandit_feedback.get("context") is not None:
            self._model = reward_model_for(self.bandit_feedback)

    def estimate_policy_values(self, action_dist: np.ndarray, random_state: int | None = 0) -> dict[str, float]:
        """``{estimator: estimated policy value}`` (model-based ones from the cross-fitted model)."""
        return {name: row.value for name, row in self._estimate(action_dist, 0, random_state).items()}

    def estimate_intervals(self, action_dist: np.ndarray, alpha: float = 0.05, n_bootstrap_samples: int = 200,
                           random_state: int | None = 0) -> dict[str, dict[str, float]]:
        """``{estimator: {"mean", "95.0% CI (lower)", "95.0% CI (upper)"}}``, the model refitted per replicate."""
        level = 100 * (1 - alpha)
        rows = self._estimate(action_dist, n_bootstrap_samples, random_state, alpha)
        return {name: {"mean": row.value, f"{level}% CI (lower)": row.ci_low, f"{level}% CI (upper)": row.ci_high}
                for name, row in rows.items()}

    def summarize_off_policy_estimates(self, action_dist: np.ndarray, alpha: float = 0.05,
                                       n_bootstrap_samples: int = 200, random_state: int | None = 0) -> pd.DataFrame:
        """One row per estimator: ``value``, ``ci_low``, ``ci_high``."""
        rows = self._estimate(action_dist, n_bootstrap_samples, random_state, alpha)
        return pd.DataFrame.from_dict({name: asdict(row) for name, row in rows.items()}, orient="index")

    def _estimate(self, action_dist, n_bootstrap_samples, random_state, alpha=0.05) -> dict[str, Estimate]:
        return estimate_targets(self.bandit_feedback, {"target": action_dist}, self._model, self.ope_estimators,
                                self.n_folds, alpha, n_bootstrap_samples, random_state)["target"]


def load_feedback(path: str) -> dict:
    """OBP-shaped ``bandit_feedback`` from an ``.npz`` (arrays named as OBP's keys; ``n_rounds`` and
    ``n_actions`` derived when absent) with the target's ``action_dist``; no pickles are read."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    for key in ("action", "reward", "pscore", "action_dist"):
        if key not in arrays:
            raise ValueError(f"{path}: no array {key!r}; save action, reward, pscore, action_dist "
                             "(and optionally position, context) with numpy.savez")
    arrays["n_rounds"] = int(arrays.get("n_rounds", len(arrays["action"])))
    arrays["n_actions"] = int(arrays.get("n_actions", arrays["action_dist"].shape[1]))
    return arrays

"""Reward models for DM and DR, cross-fitted: each round's predictions come from a model never fitted on it.

A :class:`RewardModel` maps training rows (indices into the logged rounds, repeats allowed) to a
predictor of every action's expected reward for other rows. :func:`cross_fitted_rewards` assigns
each logged round to one of ``n_folds`` folds and predicts the rounds of a fold with the model
fitted on the others. Folds belong to the *original* rounds, so in a bootstrap resample every
copy of a round falls in the same fold and cross-fitting stays out-of-fold.
"""

from __future__ import annotations

from typing import Callable, Protocol

import numpy as np

Predictor = Callable[[np.ndarray], np.ndarray]  # rows -> (len(rows), n_actions)


class RewardModel(Protocol):
    n_actions: int

    def fit(self, rows: np.ndarray) -> Predictor:
        """A predictor fitted on the logged rounds ``rows`` only."""


def assign_folds(n_rounds: int, n_folds: int, random_state: int | None = 0) -> np.ndarray:
    """A fold id in ``0..n_folds-1`` per logged round, balanced and shuffled."""
    if isinstance(n_folds, bool) or not isinstance(n_folds, (int, np.integer)) or not 2 <= n_folds <= n_rounds:
        raise ValueError(f"n_folds must lie in 2..n (n = {n_rounds} rounds) for cross-fitting, got {n_folds!r}")
    return np.random.default_rng(random_state).permutation(np.arange(n_rounds) % n_folds)


def cross_fitted_rewards(model: RewardModel, folds: np.ndarray, train: np.ndarray | None = None) -> np.ndarray:
    """(n, n_actions, 1) predictions for every logged round: the rounds of fold k from ``model``
    fitted on the training rows of the other folds.

    ``train`` (default: every round once) may repeat rounds, as a bootstrap resample does; since
    folds belong to rounds, no round is ever predicted by a model that saw it."""
    train = np.arange(len(folds)) if train is None else np.asarray(train)
    predicted = np.empty((len(folds), model.n_actions))
    for fold in np.unique(folds):
        predicted[folds == fold] = model.fit(train[folds[train] != fold])(np.flatnonzero(folds == fold))
    return predicted[:, :, None]


def ridge_means(x: np.ndarray, y: np.ndarray, ridge: float) -> Predictor | float:
    """Ridge regression of ``y`` on ``x`` (non-empty) with an unpenalised intercept: scikit-learn's
    ``Ridge(alpha=ridge)``, solved in closed form (``(Xc'Xc + ridge I) b = Xc'yc`` on centred data)
    because the refitting bootstrap fits thousands of them. One value seen: its constant mean."""
    if len(y) < 2 or y.min() == y.max():
        return float(y.mean())
    x_mean, y_mean = x.mean(axis=0), y.mean()
    centred = x - x_mean
    gram = centred.T @ centred + ridge * np.eye(x.shape[1])
    coef = np.linalg.lstsq(gram, centred.T @ (y - y_mean), rcond=None)[0]
    intercept = y_mean - x_mean @ coef
    return lambda at: at @ coef + intercept


class PerActionRidge:
    """One ridge regression of reward on ``context`` per action (OBP's ``RegressionModel`` with
    scikit-learn's ``Ridge`` as base model): any logged bandit data ``(context, action, reward)``. An action absent from
    the training rows predicts their mean reward; predictions are clipped to the reward range."""

    def __init__(self, context: np.ndarray, action: np.ndarray, reward: np.ndarray, n_actions: int,
                 ridge: float = 1.0) -> None:
        self.context = np.asarray(context, dtype=np.float64)
        if self.context.ndim != 2 or not np.isfinite(self.context).all():
            raise ValueError(f"context must be a finite 2-D array (n, d), got shape {self.context.shape}")
        if len(action) != len(self.context) or len(reward) != len(self.context):
            raise ValueError(f"action and reward must have one entry per context row ({len(self.context)})")
        if not ridge >= 0:
            raise ValueError(f"ridge must be >= 0, got {ridge!r}")
        self.action, self.reward = np.asarray(action), np.asarray(reward, dtype=np.float64)
        self.n_actions, self.ridge = n_actions, ridge
        self.bounds = (self.reward.min(), self.reward.max())

    def fit(self, rows: np.ndarray) -> Predictor:
        fallback = self.reward[rows].mean()
        models = []
        for arm in range(self.n_actions):
            seen = rows[self.action[rows] == arm]
            models.append(ridge_means(self.context[seen], self.reward[seen], self.ridge) if seen.size else fallback)

        def predict(at: np.ndarray) -> np.ndarray:
            out = np.column_stack([np.full(len(at), m) if isinstance(m, float) else m(self.context[at])
                                   for m in models])
            return np.clip(out, *self.bounds)

        return predict

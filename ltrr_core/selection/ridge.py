"""The linear bandit's math: one ridge regression per arm, its LinUCB bound and LinTS draw.

Per arm ``A = l2 I + X'X``, ``X'y`` and ``beta = A^-1 X'y``; a context ``x`` scores
``x . beta`` (the mean), ``x . beta + alpha sqrt(x' A^-1 x)`` (LinUCB) or ``x . b`` with
``b ~ N(beta, alpha^2 A^-1)`` (LinTS). The operations are those of mabwiser 2.7's linear
policies, one for one, so a seed gives the selections the studio made on mabwiser (recorded
in ``tests/selection/bandit_expected.json``); here the state is ours, public, and every arm
draws from one generator.
"""

from __future__ import annotations

import numpy as np

RIDGE_ARRAYS = ("A", "A_inv", "Xty", "beta")  # the state of every arm, stacked in arm order


class RidgeArms:
    """``n_arms`` ridge regressions over ``n_features`` context features."""

    def __init__(self, n_arms: int, n_features: int, l2_lambda: float) -> None:
        if l2_lambda <= 0:
            raise ValueError(f"l2_lambda: {l2_lambda} must be > 0")
        a = l2_lambda * np.identity(n_features)
        self.A = np.stack([a] * n_arms)
        self.A_inv = np.stack([np.linalg.inv(a)] * n_arms)
        self.Xty = np.zeros((n_arms, n_features))
        self.beta = np.zeros((n_arms, n_features))

    def mean(self, arm: int, x: np.ndarray) -> float:
        """``x . beta`` for a context vector ``x``."""
        return float(x @ self.beta[arm])

    def posterior_sd(self, arm: int, x: np.ndarray) -> float:
        """Standard deviation of ``x . b`` under LinTS's ``b ~ N(beta, alpha^2 A^-1)``, per unit alpha."""
        return float(np.sqrt(max(x @ self.A_inv[arm] @ x, 0.0)))

    def upper_bound(self, arm: int, x: np.ndarray, alpha: float) -> float:
        """LinUCB's ``x . beta + alpha sqrt(x' A^-1 x)`` for a (1, d) context row."""
        bonus = alpha * np.sqrt(np.sum(np.dot(x, self.A_inv[arm]) * x, axis=1))
        return float((np.dot(x, self.beta[arm]) + bonus)[0])

    def sample(self, arm: int, x: np.ndarray, alpha: float, rng: np.random.Generator) -> float:
        """LinTS's ``x . b`` for a (1, d) context row, ``b`` one draw from ``N(beta, alpha^2 A^-1)``."""
        b = np.squeeze(rng.multivariate_normal(self.beta[arm], np.square(alpha) * self.A_inv[arm], size=1,
                                               method="cholesky"))
        return float(np.sum(x * b, axis=1)[0])

    def fit(self, arm: int, x: np.ndarray, reward: float, weight: float = 1.0) -> None:
        """A rank-one update with a (1, d) context row counted ``weight`` times (the row and reward
        scaled by its square root: A += w x'x, X'y += w x y)."""
        root = np.sqrt(weight)
        row, y = x * root, np.array([reward * root])
        self.A[arm] = self.A[arm] + np.dot(row.T, row)
        self.A_inv[arm] = np.linalg.inv(self.A[arm])
        self.Xty[arm] = self.Xty[arm] + np.dot(row.T, y)
        self.beta[arm] = np.dot(self.A_inv[arm], self.Xty[arm])

    def arrays(self) -> dict[str, np.ndarray]:
        """Copies of every arm's state (a snapshot)."""
        return {name: getattr(self, name).copy() for name in RIDGE_ARRAYS}

    def load(self, arrays: dict[str, np.ndarray]) -> None:
        """Replace the state with :meth:`arrays` output; ValueError naming the array whose shape differs."""
        for name in RIDGE_ARRAYS:
            shape = getattr(self, name).shape
            if name not in arrays or np.shape(arrays[name]) != shape or not np.isfinite(arrays[name]).all():
                raise ValueError(f"bandit array {name!r}: expected finite values of shape {shape}")
        for name in RIDGE_ARRAYS:
            setattr(self, name, np.array(arrays[name], dtype=np.float64))

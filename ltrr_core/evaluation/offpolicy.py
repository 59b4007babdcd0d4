"""Off-policy "what if": value of another bandit policy, estimated from the logged searches.

Actions are the bandit's subsets (the logging policy's action space); the reward of a logged
search is its union-level hit (any picked arm held the confirmed item). Estimated rewards
for DM/DR come from per-arm logistic models on the per-arm rewards, combined as
``P(subset hit) = 1 - prod(1 - p_arm)`` (arms treated as independent given the context).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from sklearn.linear_model import LogisticRegression

from ltrr_core.evaluation.estimators import estimate_all
from ltrr_core.feedback.records import BanditLogRecord
from ltrr_core.selection.bandit import Bandit


def _arm_models(log: list[BanditLogRecord], arms: list[str]) -> dict[str, LogisticRegression | float]:
    """A logistic model per arm on its own pulls; the arm's mean (or 0) when one class is seen."""
    models: dict[str, LogisticRegression | float] = {}
    for arm in arms:
        rows = [(r.features, r.rewards[arm]) for r in log if arm in r.rewards]
        y = np.array([reward for _, reward in rows])
        if len(rows) < 2 or y.min() == y.max():
            models[arm] = float(y.mean()) if len(rows) else 0.0
        else:
            models[arm] = LogisticRegression(C=1.0, max_iter=500).fit(np.array([f for f, _ in rows]), y > 0.5)
    return models


def _subset_rewards(models, X: np.ndarray, bandit: Bandit) -> np.ndarray:
    """(n, n_subsets, 1) estimated hit probability of every subset for every logged context."""
    p_arm = {arm: (m.predict_proba(X)[:, 1] if isinstance(m, LogisticRegression) else np.full(len(X), m))
             for arm, m in models.items()}
    out = np.empty((len(X), len(bandit.subsets)))
    for j, subset in enumerate(bandit.subsets):
        miss = np.ones(len(X))
        for arm in subset:
            miss *= 1 - p_arm[arm]
        out[:, j] = 1 - miss
    return out[:, :, None]


def evaluate_policy(current: Bandit, logged: list[BanditLogRecord], target: str, n_bootstrap: int = 200,
                    seed: int = 7) -> dict:
    """IPS, SNIPS, DM and DR estimates of ``target`` from ``logged`` searches of the ``current`` bandit.

    The target shares the logging configuration's action space (depths, max arms). A
    learning target (linucb, ...) is evaluated as the policy it becomes after replaying the
    log: a greedy snapshot, an optimistic reading for policies that still learn.
    """
    target_bandit = current.with_config(replace(current.config, name=target))
    index = {tuple(sorted(s)): i for i, s in enumerate(current.subsets)}
    # Deterministic logging (fixed, all: propensity 1) gives no support to other actions, which
    # biases IPS towards 0; only searches logged by an exploring policy are used.
    log = [r for r in logged
           if len(r.features) == current.n_features and tuple(sorted(r.chosen_arms)) in index and r.propensity < 1.0]
    if not log:
        raise ValueError("no searches logged by an exploring policy (epsilon > 0) in this action space: "
                         "search with feedback or run `ltrr simulate` with linucb, egreedy or random first")
    X = np.array([r.features for r in log])
    if target_bandit.config.kind in ("linucb", "lints", "egreedy"):
        for r, x in zip(log, X):
            target_bandit.update(x, r.rewards)
    reward = np.array([max(r.rewards.values()) for r in log])
    action = np.array([index[tuple(sorted(r.chosen_arms))] for r in log])
    pscore = np.array([r.propensity for r in log])
    action_dist = np.stack([target_bandit.action_distribution(x) for x in X])[:, :, None]
    estimated = _subset_rewards(_arm_models(log, current.arms), X, current)
    estimates = estimate_all(reward, action, pscore, action_dist, estimated, n_bootstrap_samples=n_bootstrap,
                             random_state=seed)
    return {"target": target, "n": len(log), "estimates": estimates, "logged_policy_value": float(reward.mean()),
            "logged_policies": sorted({r.policy for r in log})}

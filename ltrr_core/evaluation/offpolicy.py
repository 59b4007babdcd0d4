"""Off-policy "what if" on the engine's own log: another bandit policy's value from the logged searches.

An action is a subset of arms. The action space is the logging configuration's subsets plus
every subset a target picks that the logging policy never could (``all`` takes every
strategy, more than ``max_arms``): such a target is representable, and its estimate is reported
as having **no support** instead of failing. The reward of a logged search is its union-level
hit (any picked arm held the confirmed item). The reward model for DM and the DR family is a
cross-fitted scikit-learn ridge regression per arm on that arm's own rewards, combined as
``P(subset hit) = 1 - prod(1 - p_arm)`` (arms treated as independent given the context); the
estimators and their refitting bootstrap are :mod:`ltrr_core.evaluation.ope`'s.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np

from ltrr_core.evaluation.ope import Estimate, estimate_targets
from ltrr_core.evaluation.reward_model import Predictor, ridge_means
from ltrr_core.evaluation.validation import Recommendation, recommend
from ltrr_core.base.records import BanditLogRecord
from ltrr_core.selection.bandit import Bandit

LEARNING_KINDS = ("linucb", "lints", "egreedy")


@dataclass(frozen=True)
class Support:
    """How much of a target the logs can speak for: ``share`` of its probability on actions the
    logging policy could pick, ``matched`` logged searches whose action the target might take, and
    the importance weights' effective sample size."""

    share: float
    matched: int
    effective_sample_size: float


@dataclass(frozen=True)
class PolicyEstimate:
    """A target policy's off-policy estimates from ``n`` logged searches: the logged policies and their
    value, the target's support, why it has none (``no_support``, then no ``estimates``), the
    estimates per estimator and the validation table's recommendation for a log of this size."""

    target: str
    n: int
    logged_policy_value: float
    logged_policies: tuple[str, ...]
    support: Support
    no_support: str | None = None
    estimates: dict[str, Estimate] = field(default_factory=dict)
    recommendation: Recommendation | None = None

    def to_json(self) -> dict:
        """As JSON (``ltrr ope --json``)."""
        return asdict(self)


@dataclass
class SubsetLog:
    """The exploring part of the engine's log as OBP-shaped arrays over an extensible subset action space."""

    arms: list[str]
    actions: list[tuple[str, ...]]  # action id -> subset; ids < n_logging are the logging policy's subsets
    n_logging: int
    context: np.ndarray  # (n, d)
    action: np.ndarray  # (n,)
    reward: np.ndarray  # (n,) union-level hit
    pscore: np.ndarray  # (n,)
    arm_rewards: np.ndarray  # (n, n_arms), NaN where the arm was not picked
    policies: list[str]

    @classmethod
    def of(cls, current: Bandit, logged: list[BanditLogRecord]) -> SubsetLog:
        index = {tuple(sorted(s)): i for i, s in enumerate(current.subsets)}
        # Deterministic logging (fixed, all: propensity 1) gives no support to other actions, which
        # biases IPS towards 0; only searches logged by an exploring policy are used.
        log = [r for r in logged
               if len(r.features) == current.n_features and tuple(sorted(r.chosen_arms)) in index and r.propensity < 1.0]
        if not log:
            raise ValueError("no searches logged by an exploring policy (epsilon > 0) in this action space: "
                             "search with feedback or run `ltrr simulate` with linucb, egreedy or random first")
        arm_index = {a: j for j, a in enumerate(current.arms)}
        arm_rewards = np.full((len(log), len(current.arms)), np.nan)
        for i, r in enumerate(log):
            for arm, value in r.rewards.items():
                arm_rewards[i, arm_index[arm]] = value
        return cls(list(current.arms), list(current.subsets), len(current.subsets),
                   np.array([r.features for r in log], dtype=np.float64),
                   np.array([index[tuple(sorted(r.chosen_arms))] for r in log]),
                   np.array([max(r.rewards.values()) for r in log], dtype=np.float64),
                   np.array([r.propensity for r in log]), arm_rewards, sorted({r.policy for r in log}))

    @property
    def n(self) -> int:
        return len(self.action)

    def action_id(self, subset: tuple[str, ...]) -> int:
        """The id of ``subset``, added to the action space when no logged policy could pick it."""
        key = tuple(sorted(subset))
        for i, s in enumerate(self.actions):
            if tuple(sorted(s)) == key:
                return i
        self.actions.append(tuple(subset))
        return len(self.actions) - 1

    def feedback(self) -> dict:
        """OBP's ``bandit_feedback`` dict of this log."""
        return {"n_rounds": self.n, "n_actions": len(self.actions), "action": self.action, "reward": self.reward,
                "pscore": self.pscore, "context": self.context}


class ArmRidgeSubsets:
    """The reward model of subsets: a ridge regression per arm on the rounds that picked it, each
    clipped to [0, 1], combined as ``1 - prod over the subset's arms of (1 - p_arm)``."""

    def __init__(self, log: SubsetLog, ridge: float = 1.0) -> None:
        self.log, self.ridge = log, ridge
        self.membership = np.array([[arm in subset for subset in log.actions] for arm in log.arms], dtype=np.float64)
        self.n_actions = len(log.actions)

    def fit(self, rows: np.ndarray) -> Predictor:
        models = []
        for j in range(len(self.log.arms)):
            seen = rows[~np.isnan(self.log.arm_rewards[rows, j])]
            y = self.log.arm_rewards[seen, j]
            models.append(ridge_means(self.log.context[seen], y, self.ridge) if seen.size else 0.0)

        def predict(at: np.ndarray) -> np.ndarray:
            p = np.column_stack([np.full(len(at), m) if isinstance(m, float) else m(self.log.context[at])
                                 for m in models])
            log_miss = np.log(np.clip(1.0 - p, 1e-12, 1.0))
            return 1.0 - np.exp(log_miss @ self.membership)

        return predict


def _target_distribution(target: Bandit, log: SubsetLog) -> np.ndarray:
    """(n, n_actions) probability the target gives every action in every logged context:
    ``epsilon / |subsets|`` on each subset plus ``1 - epsilon`` on its greedy pick (LinTS: its
    Monte Carlo distribution). A greedy pick beyond the subsets (``all``) gets its own action."""
    n_subsets, kind = len(target.subsets), target.config.kind
    eps = target.config.effective_epsilon
    if kind == "lints":
        return np.pad(np.stack([target.action_distribution(x) for x in log.context]),
                      ((0, 0), (0, len(log.actions) - n_subsets)))
    if kind in ("fixed", "all", "random"):  # the greedy pick ignores the scores (random never uses it)
        greedy = np.full(log.n, 0 if kind == "random" else log.action_id(target.greedy_subset({})[0]))
    else:
        greedy = np.array([log.action_id(target.greedy_subset(target.score(x))[0]) for x in log.context])
    dist = np.zeros((log.n, len(log.actions)))
    dist[:, :n_subsets] = eps / n_subsets
    dist[np.arange(log.n), greedy] += 1.0 - eps
    return dist


def support(log: SubsetLog, dist: np.ndarray) -> Support:
    """The target's :class:`Support` in ``log``."""
    share = float(dist[:, :log.n_logging].sum(axis=1).mean())
    matched = int((dist[np.arange(log.n), log.action] > 0).sum())
    weights = dist[np.arange(log.n), log.action] / log.pscore
    ess = float(weights.sum() ** 2 / (weights ** 2).sum()) if weights.any() else 0.0
    return Support(share, matched, ess)


def _no_support_message(target: str, log: SubsetLog, dist: np.ndarray, cover: Support, max_arms: int) -> str | None:
    """Why ``target`` has no support in ``log``, or None when it has."""
    if cover.share < 1.0 - 1e-9:
        outside = {len(log.actions[a]) for a in np.flatnonzero(dist[:, log.n_logging:].sum(axis=0)) + log.n_logging}
        return (f"no support: {target} picks {max(outside)} strategies in {1 - cover.share:.0%} of these searches, "
                f"and the logging policy picks at most {max_arms} (max_arms); log with max_arms >= {max(outside)} "
                "to estimate it")
    if cover.matched == 0:
        return (f"no support: {target} never picks what the logging policy picked in these {log.n} searches; "
                "log with more exploration (a larger epsilon, or the random policy)")
    return None


def evaluate_policies(current: Bandit, logged: list[BanditLogRecord], targets: list[str], n_bootstrap: int = 200,
                      seed: int = 7) -> dict[str, PolicyEstimate]:
    """IPS, SNIPS, DM, DR, SNDR and Switch-DR estimates of every target from ``logged`` searches of
    the ``current`` bandit, sharing one cross-fitted reward model and its bootstrap refits, with
    the validation table's recommendation for a log of this size.

    A target shares the logging configuration (depths, max arms). A learning target (linucb,
    ...) is evaluated as the policy it becomes after replaying the log: a greedy snapshot, an
    optimistic reading for policies that still learn. A target the logs cannot support gets
    no ``estimates`` and ``no_support`` saying why."""
    log = SubsetLog.of(current, logged)
    dists = {}
    for target in targets:
        target_bandit = current.with_config(replace(current.config, name=target))
        if target_bandit.config.kind in LEARNING_KINDS:
            for x, rewards in zip(log.context, log.arm_rewards):
                target_bandit.update(x, {a: float(v) for a, v in zip(log.arms, rewards) if not np.isnan(v)})
        dists[target] = _target_distribution(target_bandit, log)
    covers, refusals = {}, {}
    for target in targets:
        dists[target] = np.pad(dists[target], ((0, 0), (0, len(log.actions) - dists[target].shape[1])))
        covers[target] = support(log, dists[target])
        refusals[target] = _no_support_message(target, log, dists[target], covers[target], current.config.max_arms)
    supported = {t: dists[t] for t in targets if refusals[t] is None}
    estimates = {}
    if supported:
        model = ArmRidgeSubsets(log) if log.n >= 2 else None  # cross-fitting needs two rounds: IPS and SNIPS only
        estimates = estimate_targets(log.feedback(), supported, model, n_bootstrap_samples=n_bootstrap,
                                     random_state=seed)
    advice = recommend(log.n)
    return {target: PolicyEstimate(target, log.n, float(log.reward.mean()), tuple(log.policies), covers[target],
                                   refusals[target], estimates.get(target, {}), advice) for target in targets}


def evaluate_policy(current: Bandit, logged: list[BanditLogRecord], target: str, n_bootstrap: int = 200,
                    seed: int = 7) -> PolicyEstimate:
    """:func:`evaluate_policies` for one target."""
    return evaluate_policies(current, logged, [target], n_bootstrap, seed)[target]

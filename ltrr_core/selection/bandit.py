"""Strategy selection: a contextual bandit (mabwiser) that picks a SUBSET of retrieval arms.

An arm is a strategy at a candidate depth, written ``"semantic@100"``. Per search every arm
is scored once; the greedy subset takes, per strategy, the depth with the best net score
(score minus a per-candidate cost), then the best ``max_arms`` strategies whose net score
clears the cut. With probability ``epsilon`` the subset is instead drawn uniformly from
every valid subset (1..max_arms strategies, one depth each), so the propensity of the
chosen subset is known exactly::

    p(S | x) = (1 - epsilon) * [S == greedy(x)] + epsilon / |subsets|
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
from mabwiser.mab import MAB, LearningPolicy

POLICIES: dict[str, str] = {
    "linucb": "LinUCB: ridge regression per arm plus an upper-confidence exploration bonus (default)",
    "lints": "LinTS: Thompson sampling from each arm's ridge-regression posterior",
    "egreedy": "Epsilon-greedy: ridge-regression means, exploration only through random subsets",
    "random": "Random: a uniformly random subset every search",
    "all": "All strategies at full depth (the costly upper bound)",
    "fixed": "One fixed strategy at full depth, e.g. fixed:semantic",
}
_LEARNING = {
    "linucb": lambda c: LearningPolicy.LinUCB(alpha=c.alpha, l2_lambda=c.l2_lambda),
    "lints": lambda c: LearningPolicy.LinTS(alpha=c.alpha, l2_lambda=c.l2_lambda),
    "egreedy": lambda c: LearningPolicy.LinGreedy(epsilon=0.0, l2_lambda=c.l2_lambda),
    "random": lambda c: LearningPolicy.LinGreedy(epsilon=0.0, l2_lambda=c.l2_lambda),
    "all": lambda c: LearningPolicy.LinGreedy(epsilon=0.0, l2_lambda=c.l2_lambda),
    "fixed": lambda c: LearningPolicy.LinGreedy(epsilon=0.0, l2_lambda=c.l2_lambda),
}


@dataclass(frozen=True)
class PolicyConfig:
    """How the bandit chooses. ``name`` is a key of POLICIES, or ``fixed:<strategy>``."""

    name: str = "linucb"
    alpha: float = 0.5
    l2_lambda: float = 1.0
    epsilon: float = 0.03
    max_arms: int = 5
    cut: float = 0.05
    depth_cost: float = 0.0005
    depths: tuple[int, ...] = (25, 100)
    seed: int = 7

    def __post_init__(self) -> None:
        if self.kind not in POLICIES:
            raise ValueError(f"policy name: {self.name!r} is not one of {sorted(POLICIES)} (or fixed:<strategy>)")
        if self.kind == "fixed" and not self.fixed_strategy:
            raise ValueError("policy name: write fixed:<strategy>, e.g. fixed:semantic")
        if not 0.0 <= self.epsilon <= 1.0:
            raise ValueError(f"epsilon: {self.epsilon} is outside [0, 1]")
        if self.alpha < 0:
            raise ValueError(f"alpha: {self.alpha} must be >= 0")
        if self.max_arms < 1:
            raise ValueError(f"max_arms: {self.max_arms} must be >= 1")
        if not self.depths or any(d < 1 for d in self.depths) or list(self.depths) != sorted(set(self.depths)):
            raise ValueError(f"depths: {self.depths} must be distinct positive depths in increasing order")

    @property
    def kind(self) -> str:
        return self.name.split(":", 1)[0]

    @property
    def fixed_strategy(self) -> str:
        return self.name.split(":", 1)[1] if ":" in self.name else ""

    @property
    def effective_epsilon(self) -> float:
        return {"random": 1.0, "all": 0.0, "fixed": 0.0}.get(self.kind, self.epsilon)


def arm_name(strategy: str, depth: int) -> str:
    return f"{strategy}@{depth}"


def split_arm(arm: str) -> tuple[str, int]:
    strategy, depth = arm.rsplit("@", 1)
    return strategy, int(depth)


def arm_depths(arms: tuple[str, ...] | list[str]) -> dict[str, int]:
    """``("lexical@25", "semantic@100")`` -> ``{"lexical": 25, "semantic": 100}``."""
    return dict(split_arm(arm) for arm in arms)


@dataclass(frozen=True)
class ArmScore:
    """One arm's explanation for the UI: mean + bonus = score; net = score - depth cost."""

    arm: str
    strategy: str
    depth: int
    expected: float
    bonus: float
    score: float
    net: float
    picked: bool
    why: str
    pulls: int
    mean_reward: float


@dataclass(frozen=True)
class Selection:
    """The bandit's decision for one search, with everything needed to log and explain it."""

    policy: str
    arms: tuple[ArmScore, ...]
    chosen: tuple[str, ...]
    propensity: float
    explored: bool
    greedy: tuple[str, ...]
    warming: tuple[str, ...] = ()  # strategies left out while their indexes are built

    def to_trace(self) -> dict:
        return {
            "policy": self.policy,
            "chosen": list(self.chosen),
            "propensity": self.propensity,
            "explored": self.explored,
            "warming": list(self.warming),
            "arms": [a.__dict__ for a in self.arms],
        }


@dataclass
class ArmStats:
    """Pull counts and running reward per arm (mabwiser's linear policies keep none)."""

    pulls: dict[str, int] = field(default_factory=dict)
    reward: dict[str, float] = field(default_factory=dict)

    def add(self, arm: str, reward: float) -> None:
        self.pulls[arm] = self.pulls.get(arm, 0) + 1
        self.reward[arm] = self.reward.get(arm, 0.0) + reward

    def mean(self, arm: str) -> float:
        return self.reward.get(arm, 0.0) / self.pulls[arm] if self.pulls.get(arm) else 0.0


RIDGE_ARRAYS = ("A", "A_inv", "Xty", "beta")  # one ridge regression per arm: A = X'X + l2 I, beta = A^-1 X'y


class _RidgeArms:
    """The one adapter over mabwiser's internals: each arm's ridge model (mean = x . beta).

    mabwiser keeps these models private (``MAB._imp.arm_to_model``); reading the means there
    and fitting one arm at a time skips its per-call deep copy of every arm (8 ms a round for
    12 arms). The mabwiser version is bounded in pyproject.toml for this layout.
    """

    def __init__(self, mab: MAB) -> None:
        self._models = mab._imp.arm_to_model

    def mean(self, arm: str, x: np.ndarray) -> float:
        return float(x @ self._models[arm].beta)

    def fit(self, arm: str, x: np.ndarray, reward: float) -> None:
        """What ``MAB.partial_fit`` computes for one arm: a rank-one ridge update."""
        self._models[arm].fit(x, np.array([reward]))

    def arrays(self, arms: list[str]) -> dict[str, np.ndarray]:
        """Every arm's ridge state, stacked in ``arms`` order (a snapshot)."""
        return {name: np.stack([getattr(self._models[arm], name) for arm in arms]) for name in RIDGE_ARRAYS}

    def load(self, arms: list[str], arrays: dict[str, np.ndarray]) -> None:
        """Set every arm's ridge state from :meth:`arrays` output (shapes checked by the caller)."""
        for i, arm in enumerate(arms):
            for name in RIDGE_ARRAYS:
                setattr(self._models[arm], name, np.array(arrays[name][i], dtype=np.float64))


class Bandit:
    """Scores every arm once per search and picks a subset; learns from per-arm rewards."""

    def __init__(self, strategies: list[str], n_features: int, config: PolicyConfig = PolicyConfig()) -> None:
        if config.kind == "fixed" and config.fixed_strategy not in strategies:
            raise ValueError(f"policy name: unknown strategy {config.fixed_strategy!r}; choose from {strategies}")
        self.strategies = list(strategies)
        self.n_features = n_features
        self.config = config
        self.arms = [arm_name(s, d) for s in self.strategies for d in config.depths]
        self.subsets = self._enumerate_subsets()
        self._available: dict[frozenset[str], list[tuple[str, ...]]] = {}
        self.stats = ArmStats()
        self.rng = np.random.default_rng(config.seed)
        self.mab = MAB(self.arms, _LEARNING[config.kind](config), seed=config.seed, n_jobs=1)
        # A zero context adds nothing to A or X'y: this only initialises every arm's model.
        self.mab.fit(self.arms, [0.0] * len(self.arms), np.zeros((len(self.arms), n_features)))
        self._ridge = _RidgeArms(self.mab)

    def _enumerate_subsets(self) -> list[tuple[str, ...]]:
        subsets = []
        for size in range(1, min(self.config.max_arms, len(self.strategies)) + 1):
            for combo in itertools.combinations(self.strategies, size):
                for depths in itertools.product(self.config.depths, repeat=size):
                    subsets.append(tuple(arm_name(s, d) for s, d in zip(combo, depths)))
        return subsets

    def subset_index(self, chosen: tuple[str, ...]) -> int:
        """Position of a chosen subset in :attr:`subsets` (the action id for off-policy estimators)."""
        key = tuple(sorted(chosen))
        return next(i for i, s in enumerate(self.subsets) if tuple(sorted(s)) == key)

    # -- scoring -----------------------------------------------------------------------
    def score(self, x: np.ndarray) -> dict[str, tuple[float, float]]:
        """(expected reward, exploration bonus) per arm for context ``x``."""
        x = np.asarray(x, dtype=float).reshape(1, -1)
        totals = self.mab.predict_expectations(x)
        out = {}
        for arm in self.arms:
            mean = self._ridge.mean(arm, x[0])
            out[arm] = (mean, float(totals[arm]) - mean if self.config.kind in ("linucb", "lints") else 0.0)
        return out

    def available_subsets(self, warming: frozenset[str] = frozenset()) -> list[tuple[str, ...]]:
        """The subsets exploration draws from: those without a ``warming`` strategy."""
        if not warming:
            return self.subsets
        if warming not in self._available:
            self._available[warming] = [s for s in self.subsets if not any(split_arm(a)[0] in warming for a in s)]
        return self._available[warming]

    def greedy_subset(self, scores: dict[str, tuple[float, float]],
                      warming: frozenset[str] = frozenset()) -> tuple[tuple[str, ...], dict[str, str]]:
        """The deterministic subset for these scores, and a reason for every arm left out; arms of a
        ``warming`` strategy (its index is still being built) are left out as "warming up"."""
        cfg = self.config
        why: dict[str, str] = {a: "warming up" for a in self.arms if split_arm(a)[0] in warming}
        if cfg.kind == "fixed" and cfg.fixed_strategy in warming:
            raise ValueError(f"policy {cfg.name}: {cfg.fixed_strategy} is warming up; wait for it")
        if cfg.kind == "all":
            top = max(cfg.depths)
            return (tuple(arm_name(s, top) for s in self.strategies if s not in warming),
                    why | {a: "policy 'all' uses full depth" for a in self.arms if split_arm(a)[1] != top and a not in why})
        if cfg.kind == "fixed":
            pick = arm_name(cfg.fixed_strategy, max(cfg.depths))
            return (pick,), {a: "fixed policy" for a in self.arms if a != pick}
        net = {a: sum(scores[a]) - cfg.depth_cost * split_arm(a)[1] for a in self.arms}
        best_per_strategy = {}
        for arm in (a for a in self.arms if a not in why):
            s = split_arm(arm)[0]
            if s not in best_per_strategy or net[arm] > net[best_per_strategy[s]]:
                best_per_strategy[s] = arm
        for arm in self.arms:
            if arm not in why and best_per_strategy[split_arm(arm)[0]] != arm:
                why[arm] = "other depth scores higher"
        order = {s: i for i, s in enumerate(self.strategies)}  # ties (a cold start) keep the strategies' order
        ranked = sorted(best_per_strategy.values(), key=lambda a: (-net[a], order[split_arm(a)[0]]))
        chosen = [ranked[0]]
        for arm in ranked[1:]:
            if len(chosen) >= cfg.max_arms:
                why[arm] = f"not in top {cfg.max_arms}"
            elif net[arm] < cfg.cut:
                why[arm] = f"net score below the cut {cfg.cut:g}"
            else:
                chosen.append(arm)
        return tuple(chosen), why

    def select(self, x: np.ndarray, warming: frozenset[str] = frozenset()) -> Selection:
        """Score every arm and pick a subset; ``warming`` strategies are not available (never picked,
        so never rewarded or counted as a miss) and the propensity is over the subsets without them."""
        scores = self.score(x)
        greedy, why = self.greedy_subset(scores, warming)
        subsets = self.available_subsets(warming)
        eps = self.config.effective_epsilon
        explored = bool(eps > 0 and self.rng.random() < eps)
        chosen = subsets[int(self.rng.integers(len(subsets)))] if explored else greedy
        p = eps / len(subsets) + (1 - eps) * (tuple(sorted(chosen)) == tuple(sorted(greedy)))
        arms = []
        for arm in self.arms:
            mean, bonus = scores[arm]
            picked = arm in chosen
            strategy, depth = split_arm(arm)
            reason = "picked" if picked else "warming up" if strategy in warming else (
                "exploration draw" if explored else why.get(arm, "not picked"))
            if picked and explored:
                reason = "picked by exploration draw"
            arms.append(ArmScore(arm, strategy, depth, mean, bonus, mean + bonus,
                                 mean + bonus - self.config.depth_cost * depth, picked, reason,
                                 self.stats.pulls.get(arm, 0), self.stats.mean(arm)))
        return Selection(self.config.name, tuple(arms), tuple(chosen), float(p), explored, greedy,
                         tuple(s for s in self.strategies if s in warming))

    def action_distribution(self, x: np.ndarray) -> np.ndarray:
        """This policy's probability of every subset in :attr:`subsets` for context ``x``.

        Exact for deterministic scores (LinUCB, egreedy, random, fixed); for LinTS it is the
        distribution given one posterior draw.
        """
        eps = self.config.effective_epsilon
        dist = np.full(len(self.subsets), eps / len(self.subsets))
        greedy, _ = self.greedy_subset(self.score(x))
        key = tuple(sorted(greedy))
        for i, s in enumerate(self.subsets):
            if tuple(sorted(s)) == key:
                dist[i] += 1 - eps
        return dist

    # -- learning ----------------------------------------------------------------------
    def update(self, x: np.ndarray, rewards: dict[str, float]) -> None:
        """One row per picked arm: reward 1 if that arm's own candidates held the confirmed item."""
        if not rewards:
            return
        x = np.asarray(x, dtype=float).reshape(1, -1)
        for arm, reward in rewards.items():
            self._ridge.fit(arm, x, reward)
            self.stats.add(arm, reward)

    def arrays(self) -> dict[str, np.ndarray]:
        """The arms' ridge models as arrays (``A``, ``A_inv``, ``Xty``, ``beta``), arms in :attr:`arms` order."""
        return self._ridge.arrays(self.arms)

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore :meth:`arrays`; ValueError naming the array when a shape does not fit these arms."""
        d, n = self.n_features, len(self.arms)
        expected = {"A": (n, d, d), "A_inv": (n, d, d), "Xty": (n, d), "beta": (n, d)}
        for name, shape in expected.items():
            if name not in arrays or arrays[name].shape != shape or not np.isfinite(arrays[name]).all():
                raise ValueError(f"bandit array {name!r}: expected finite values of shape {shape}")
        self._ridge.load(self.arms, arrays)

    def with_config(self, config: PolicyConfig) -> "Bandit":
        """A fresh bandit with another policy over the same arms and features."""
        return Bandit(self.strategies, self.n_features, config)

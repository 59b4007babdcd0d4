"""Strategy selection: a contextual bandit (per-arm ridge regressions) that picks a SUBSET of retrieval arms.

An arm is a strategy at a candidate depth, written ``"semantic@100"``. Per search every arm
is scored once; the greedy subset takes, per strategy, the depth with the best net score
(score minus a per-candidate cost), the best strategy and every other whose net score clears
the cut. When more than ``max_arms`` do, the ones left out are those whose finds the others
cover: the fewest searches in which, picked with other arms, a strategy alone held the rewarded
result (:meth:`ArmStats.alone_rate`; ties, and a cold start, by net score). The goal is the
union's chance of holding the wanted item, and an arm with a low hit rate of its own may be the
only one that finds what it finds (``explore``), while an arm with a high one may add nothing the
others do not (``popular`` beside ``lexical``). With probability ``epsilon`` the subset is
instead drawn uniformly from every valid subset (1..max_arms strategies, one depth each), so
the propensity of the chosen subset is known exactly::

    p(S | x) = (1 - epsilon) * [S == greedy(x)] + epsilon / |subsets|

The arms' ridge regressions, LinUCB bounds and LinTS draws are :mod:`ltrr_core.selection.ridge`.
LinTS's greedy subset depends on its posterior draw, so its ``P(S == greedy)`` is estimated by
Monte Carlo: ``LINTS_DRAWS`` fresh draws of every arm's score (the realised draw counted as one
more). Each subset's probability then has binomial standard error
``sqrt(p (1 - p) / LINTS_DRAWS) <= 0.011`` and, by Hoeffding, lies within
``sqrt(ln(2 / 0.05) / (2 LINTS_DRAWS)) = 0.030`` of the truth with 95% confidence (plus at most
``1 / (LINTS_DRAWS + 1)`` from counting the realised draw, which keeps a chosen subset's
propensity positive).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import NamedTuple, Sequence

import numpy as np

from ltrr_core.base.strategy_depths import FIXED_PREFIX, StrategyDepthError, arm_name, parse_strategy_depths, split_arm
from ltrr_core.selection.ridge import RidgeArms

POLICIES: dict[str, str] = {
    "linucb": "LinUCB: ridge regression per arm plus an upper-confidence exploration bonus (default)",
    "lints": "LinTS: Thompson sampling from each arm's ridge-regression posterior",
    "egreedy": "Epsilon-greedy: ridge-regression means, exploration only through random subsets",
    "random": "Random: a uniformly random subset every search",
    "all": "All strategies at full depth (the costly upper bound)",
    "fixed": "Fixed strategies, at full depth unless given, e.g. fixed:semantic or fixed:lexical@25+semantic",
}


@dataclass(frozen=True)
class PolicyConfig:
    """How the bandit chooses. ``name`` is a key of POLICIES, or ``fixed:`` and a strategy list
    (:mod:`ltrr_core.base.strategy_depths`), each strategy at one of ``depths`` or at full depth."""

    name: str = "linucb"
    alpha: float = 0.5
    l2_lambda: float = 1.0
    epsilon: float = 0.03
    max_arms: int = 5
    cut: float = 0.05
    depth_cost: float = 0.0005
    depths: tuple[int, ...] = (25, 100)
    seed: int = 7
    replay_weight: float = 0.5  # what a round replayed from an imported log counts, a live round counting 1

    def __post_init__(self) -> None:
        if self.name not in POLICIES and not self.name.startswith(FIXED_PREFIX):
            raise ValueError(f"policy name: {self.name!r} is not one of {sorted(POLICIES)} (or fixed:<strategy>)")
        if not 0.0 <= self.epsilon <= 1.0:
            raise ValueError(f"epsilon: {self.epsilon} is outside [0, 1]")
        if self.alpha < 0:
            raise ValueError(f"alpha: {self.alpha} must be >= 0")
        if self.l2_lambda <= 0:
            raise ValueError(f"l2_lambda: {self.l2_lambda} must be > 0")
        if not 0.0 < self.replay_weight <= 1.0:
            raise ValueError(f"replay_weight: {self.replay_weight} must be in (0, 1]")
        if self.max_arms < 1:
            raise ValueError(f"max_arms: {self.max_arms} must be >= 1")
        if not self.depths or any(d < 1 for d in self.depths) or list(self.depths) != sorted(set(self.depths)):
            raise ValueError(f"depths: {self.depths} must be distinct positive depths in increasing order")
        for strategy, depth in self.fixed_depths().items():
            if depth is not None and depth not in self.depths:
                raise ValueError(f"policy name: depth {depth} of {strategy!r} is not one of depths {self.depths}")

    @property
    def kind(self) -> str:
        return self.name.partition(":")[0]

    def fixed_depths(self, strategies: Sequence[str] | None = None) -> dict[str, int | None]:
        """``fixed:lexical@25+semantic`` -> ``{"lexical": 25, "semantic": None}`` (None: full depth);
        ``{}`` for other policies. ValueError naming the field for a bad list, or a strategy not in
        ``strategies``."""
        if self.kind != "fixed":
            return {}
        try:
            return parse_strategy_depths(self.name.partition(":")[2], strategies)
        except StrategyDepthError as err:
            raise ValueError(f"policy name: {err.problem}; write fixed:<strategy>[@depth][+<strategy>...], "
                             "e.g. fixed:semantic") from err

    @property
    def fixed_strategies(self) -> tuple[str, ...]:
        """``fixed:lexical+semantic`` -> ``("lexical", "semantic")``; ``()`` for other policies."""
        return tuple(self.fixed_depths())

    @property
    def effective_epsilon(self) -> float:
        return {"random": 1.0, "all": 0.0, "fixed": 0.0}.get(self.kind, self.epsilon)


def arm_depths(arms: tuple[str, ...] | list[str]) -> dict[str, int]:
    """``("lexical@25", "semantic@100")`` -> ``{"lexical": 25, "semantic": 100}``."""
    return dict(split_arm(arm) for arm in arms)


REASONS: dict[str, str] = {  # why an arm was picked or left out: ArmScore.reason -> what it means
    "top": "the best net score of all strategies: always picked, so a search has one strategy at least",
    "cleared_cut": "its net score clears the cut",
    "below_cut": "its net score is below the cut",
    "other_depth": "another depth of the same strategy has the higher net score",
    "max_arms": "more strategies clear the cut than max_arms allows; the kept ones find alone more often or score higher",
    "warming": "its strategy's index is still being built (left out, not counted as a miss)",
    "explored": "this search's subset was drawn at random (exploration)",
    "policy": "the policy names its arms (all, fixed)",
}


class Reason(NamedTuple):
    """Why the greedy subset picks or leaves out one arm: a key of :data:`REASONS` and the detail in words."""

    code: str
    detail: str


WARMING = Reason("warming", "warming up, its index is still being built (not counted as a miss)")


@dataclass(frozen=True)
class ArmScore:
    """One arm's explanation for the UI: mean + bonus = score; net = score - depth cost. ``reason``
    (a key of :data:`REASONS`) and ``why`` (in words) are set where the bandit decides;
    ``uncertainty`` is alpha times the expected reward's posterior standard deviation (the
    interval ``expected +- uncertainty``); ``bonus_why`` says what the policy's bonus is."""

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
    reason: str
    uncertainty: float
    bonus_why: str


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
    exploration_rate: float = 0.0  # the share of searches whose subset is drawn at random (the policy's epsilon)

    def to_trace(self) -> dict:
        return {
            "policy": self.policy,
            "chosen": list(self.chosen),
            "propensity": self.propensity,
            "explored": self.explored,
            "exploration_rate": self.exploration_rate,
            "warming": list(self.warming),
            "arms": [a.__dict__ for a in self.arms],
        }


@dataclass
class ArmStats:
    """Pull counts and running reward per arm (the ridge regressions keep none); per arm, the
    rounds it was picked with other arms (``shared``) and of those the rounds in which it alone
    held the rewarded result (``alone``): what leaving it out would have lost."""

    pulls: dict[str, int] = field(default_factory=dict)
    reward: dict[str, float] = field(default_factory=dict)
    shared: dict[str, float] = field(default_factory=dict)
    alone: dict[str, float] = field(default_factory=dict)

    def add(self, arm: str, reward: float) -> None:
        self.pulls[arm] = self.pulls.get(arm, 0) + 1
        self.reward[arm] = self.reward.get(arm, 0.0) + reward

    def add_round(self, rewards: dict[str, float], weight: float = 1.0) -> None:
        """One settled round's picked arms and rewards (1: its candidates held the rewarded result);
        it counts ``weight`` rounds in ``shared`` and ``alone`` (pulls and rewards count it once)."""
        for arm, reward in rewards.items():
            self.add(arm, reward)
        if len(rewards) < 2:
            return
        for arm in rewards:
            self.shared[arm] = self.shared.get(arm, 0) + weight
        finders = [arm for arm, reward in rewards.items() if reward == 1.0]
        if len(finders) == 1 and sum(rewards.values()) == 1.0:  # one 1, the rest 0 (not a default reward)
            self.alone[finders[0]] = self.alone.get(finders[0], 0) + weight

    def mean(self, arm: str) -> float:
        return self.reward.get(arm, 0.0) / self.pulls[arm] if self.pulls.get(arm) else 0.0

    def alone_rate(self, arms: list[str]) -> float:
        """The share of ``arms``' (one strategy's depths) rounds with other arms in which they alone
        held the rewarded result, smoothed by one round (0 before any)."""
        return sum(self.alone.get(a, 0) for a in arms) / (sum(self.shared.get(a, 0) for a in arms) + 1)


LINTS_DRAWS = 2000  # posterior draws per LinTS propensity (error bound in the module docstring)


class Bandit:
    """Scores every arm once per search and picks a subset; learns from per-arm rewards."""

    def __init__(self, strategies: list[str], n_features: int, config: PolicyConfig = PolicyConfig()) -> None:
        config.fixed_depths(strategies)  # a fixed policy names only these strategies
        self.strategies = list(strategies)
        self.n_features = n_features
        self.config = config
        self.arms = [arm_name(s, d) for s in self.strategies for d in config.depths]
        self.subsets = self._enumerate_subsets()
        self._available: dict[frozenset[str], list[tuple[str, ...]]] = {}
        self.stats = ArmStats()
        self.rng = np.random.default_rng(config.seed)
        self._draw_rng = np.random.default_rng(config.seed + 1)  # LinTS propensities' Monte Carlo draws
        # LinTS's posterior draws (seeded like the exploration coin, as when mabwiser drew them)
        self._posterior_rng = np.random.default_rng(config.seed)
        self._subset_codes = {_code(s, self.arms): i for i, s in enumerate(self.subsets)}
        self._ridge = RidgeArms(len(self.arms), n_features, config.l2_lambda)

    def _enumerate_subsets(self) -> list[tuple[str, ...]]:
        subsets = []
        for size in range(1, min(self.config.max_arms, len(self.strategies)) + 1):
            for combo in itertools.combinations(self.strategies, size):
                for depths in itertools.product(self.config.depths, repeat=size):
                    subsets.append(tuple(arm_name(s, d) for s, d in zip(combo, depths)))
        return subsets

    # -- scoring -----------------------------------------------------------------------
    def score(self, x: np.ndarray) -> dict[str, tuple[float, float]]:
        """(expected reward, exploration bonus) per arm for context ``x``."""
        x = np.asarray(x, dtype=float).reshape(1, -1)
        kind, alpha = self.config.kind, self.config.alpha
        if kind == "lints":  # one uniform per scoring, as mabwiser drew, so a seed gives the recorded draws
            self._posterior_rng.random(1)
        out = {}
        for i, arm in enumerate(self.arms):
            mean = self._ridge.mean(i, x[0])
            if kind == "linucb":
                out[arm] = (mean, self._ridge.upper_bound(i, x, alpha) - mean)
            elif kind == "lints":
                out[arm] = (mean, self._ridge.sample(i, x, alpha, self._posterior_rng) - mean)
            else:
                out[arm] = (mean, 0.0)
        return out

    def available_subsets(self, warming: frozenset[str] = frozenset()) -> list[tuple[str, ...]]:
        """The subsets exploration draws from: those without a ``warming`` strategy."""
        if not warming:
            return self.subsets
        if warming not in self._available:
            self._available[warming] = [s for s in self.subsets if not any(split_arm(a)[0] in warming for a in s)]
        return self._available[warming]

    def greedy_subset(self, scores: dict[str, tuple[float, float]],
                      warming: frozenset[str] = frozenset()) -> tuple[tuple[str, ...], dict[str, Reason]]:
        """The deterministic subset for these scores, and the :class:`Reason` every arm is picked or
        left out; arms of a ``warming`` strategy (its index is still being built) are left out."""
        cfg = self.config
        why = {a: WARMING for a in self.arms if split_arm(a)[0] in warming}
        waiting = [s for s in cfg.fixed_strategies if s in warming]
        if cfg.kind == "fixed" and waiting:
            raise ValueError(f"policy {cfg.name}: {', '.join(waiting)} is warming up; wait for it")
        if cfg.kind == "all":
            top = max(cfg.depths)
            picks = tuple(arm_name(s, top) for s in self.strategies if s not in warming)
            return picks, why | {a: Reason("policy", f"policy 'all' takes every strategy at full depth {top}")
                                 for a in self.arms if a not in why}
        if cfg.kind == "fixed":
            fixed = cfg.fixed_depths()
            picks = tuple(arm_name(s, fixed[s] or max(cfg.depths)) for s in self.strategies if s in fixed)
            return picks, why | {a: _fixed_reason(a, picks, cfg.name) for a in self.arms if a not in why}
        net = np.array([[-np.inf if a in why else sum(scores[a]) - cfg.depth_cost * split_arm(a)[1]
                         for a in self.arms]])
        best_depth, keep = self._greedy_masks(net)
        order = {s: i for i, s in enumerate(self.strategies)}
        best = {s: self.arms[i * len(cfg.depths) + int(best_depth[0, i])] for i, s in enumerate(self.strategies)}
        kept = [best[s] for i, s in enumerate(self.strategies) if keep[0, i]]
        return (tuple(sorted(kept, key=lambda a: (-net[0, self.arms.index(a)], order[split_arm(a)[0]]))),
                why | self._net_reasons(dict(zip(self.arms, net[0].tolist())), best, kept, skip=why))

    def _net_reasons(self, net: dict[str, float], best: dict[str, str], kept: list[str],
                     skip: dict[str, Reason]) -> dict[str, Reason]:
        """Why the greedy subset picks or leaves out each arm not in ``skip``, from the arms' ``net``
        scores, each strategy's ``best`` depth and the ``kept`` arms (as :meth:`_greedy_masks` decided)."""
        cfg = self.config
        top = max(self.strategies, key=lambda s: net[best[s]])  # the first of equal ones, as np.argmax
        rates = dict(zip(self.strategies, self.leave_out_rates().tolist()))
        kept_net = {split_arm(a)[0]: net[a] for a in kept}
        reasons = {}
        for arm in (a for a in self.arms if a not in skip):
            strategy, value = split_arm(arm)[0], net[arm]
            if best[strategy] != arm:
                reasons[arm] = Reason("other_depth", f"{best[strategy]} is the better depth of {strategy} "
                                                     f"(net {net[best[strategy]]:.3f} against {value:.3f})")
            elif arm in kept and strategy == top:
                reasons[arm] = Reason("top", f"the best net score of all, {value:.3f}" + (
                    f" (kept below the cut {cfg.cut:g}: a search needs one strategy)" if value < cfg.cut else ""))
            elif arm in kept:
                reasons[arm] = Reason("cleared_cut", f"net {value:.3f} clears the cut {cfg.cut:g}")
            elif value < cfg.cut:
                reasons[arm] = Reason("below_cut", f"net {value:.3f} is below the cut {cfg.cut:g}")
            else:
                reasons[arm] = Reason("max_arms", self._max_arms_detail(strategy, value, rates, kept_net))
        return reasons

    def _max_arms_detail(self, strategy: str, value: float, rates: dict[str, float], kept_net: dict[str, float]) -> str:
        """Why ``strategy`` (net ``value``) was one too many for ``max_arms``: the kept strategies
        (``kept_net``: their net scores) held the wanted item alone more often (:meth:`ArmStats.alone_rate`),
        or as often with a higher net score, or an equal one and listed first."""
        rate = rates[strategy]
        more = [s for s in kept_net if rates[s] > rate]
        same = [s for s in kept_net if rates[s] == rate]
        parts = [f"{_names(more)} held the wanted item alone more often"] if more else []
        if same:
            parts.append(f"{_names(same)} held the wanted item alone as often and " + (
                "score higher" if all(kept_net[s] > value for s in same) else
                "score as high or higher, ties going to the strategy listed first"))
        shared = sum(self.stats.shared.get(arm_name(strategy, d), 0) for d in self.config.depths)
        alone = (f"it alone held the wanted item in {rate:.1%} of its searches with others" if shared else
                 "no search with others shows yet what only it finds")
        return (f"max_arms {self.config.max_arms} reached (its net {value:.3f} clears the cut)"
                + (" and the others cover it: " if more else ": ") + "; ".join(parts) + f" ({alone})")

    def leave_out_rates(self) -> np.ndarray:
        """Per strategy (in :attr:`strategies` order), :meth:`ArmStats.alone_rate` over its depths."""
        return np.array([self.stats.alone_rate([arm_name(s, d) for d in self.config.depths]) for s in self.strategies])

    def select(self, x: np.ndarray, warming: frozenset[str] = frozenset()) -> Selection:
        """Score every arm and pick a subset; ``warming`` strategies are not available (never picked,
        so never rewarded or counted as a miss) and the propensity is over the subsets without them."""
        scores = self.score(x)
        greedy, why = self.greedy_subset(scores, warming)
        subsets = self.available_subsets(warming)
        eps = self.config.effective_epsilon
        explored = bool(eps > 0 and self.rng.random() < eps)
        chosen = subsets[int(self.rng.integers(len(subsets)))] if explored else greedy
        if self.config.kind == "lints":
            p = self._sampled_distribution(x, greedy, warming)[self._subset_codes[_code(chosen, self.arms)]]
        else:
            p = eps / len(subsets) + (1 - eps) * (tuple(sorted(chosen)) == tuple(sorted(greedy)))
        arms = self._arm_scores(x, scores, why, chosen, greedy if explored else None)
        return Selection(self.config.name, arms, tuple(chosen), float(p), explored, greedy,
                         tuple(s for s in self.strategies if s in warming), eps)

    def _arm_scores(self, x: np.ndarray, scores: dict[str, tuple[float, float]], why: dict[str, Reason],
                    chosen: tuple[str, ...], explored_from: tuple[str, ...] | None) -> tuple[ArmScore, ...]:
        """Every arm's :class:`ArmScore`, its reason the greedy one (``why``) unless the subset was
        drawn at random instead of the greedy subset ``explored_from`` (a warming arm stays warming)."""
        cfg = self.config
        x = np.asarray(x, dtype=float).reshape(-1)
        # alpha x each arm's posterior sd (RidgeArms.posterior_sd, for all arms at once)
        uncertainty = cfg.alpha * np.sqrt(np.maximum(np.einsum("i,aij,j->a", x, self._ridge.A_inv, x), 0.0))
        bonus_why = _bonus_words(cfg)
        arms = []
        for i, arm in enumerate(self.arms):
            mean, bonus = scores[arm]
            strategy, depth = split_arm(arm)
            picked, reason = arm in chosen, why[arm]
            words = f"{'picked' if picked else 'left out'}: {reason.detail}"
            if explored_from is not None and reason.code != "warming":
                reason, words = Reason("explored", reason.detail), _explored_words(
                    picked, arm in explored_from, reason.detail, cfg.effective_epsilon, cfg.name)
            arms.append(ArmScore(arm, strategy, depth, mean, bonus, mean + bonus, mean + bonus - cfg.depth_cost * depth,
                                 picked, words, self.stats.pulls.get(arm, 0), self.stats.mean(arm), reason.code,
                                 float(uncertainty[i]), bonus_why))
        return tuple(arms)

    def action_distribution(self, x: np.ndarray) -> np.ndarray:
        """This policy's probability of every subset in :attr:`subsets` for context ``x``.

        Exact for deterministic scores (LinUCB, egreedy, random, fixed, all); for LinTS a Monte
        Carlo estimate over ``LINTS_DRAWS`` posterior draws (module docstring).
        """
        if self.config.kind == "lints":
            return self._sampled_distribution(x)
        eps = self.config.effective_epsilon
        dist = np.full(len(self.subsets), eps / len(self.subsets))
        greedy, _ = self.greedy_subset(self.score(x))
        key = tuple(sorted(greedy))
        for i, s in enumerate(self.subsets):
            if tuple(sorted(s)) == key:
                dist[i] += 1 - eps
        return dist

    def _sampled_distribution(self, x: np.ndarray, realised: tuple[str, ...] | None = None,
                              warming: frozenset[str] = frozenset()) -> np.ndarray:
        """LinTS: ``epsilon`` spread over the subsets without a ``warming`` strategy plus ``(1 - epsilon)``
        times each subset's share of the greedy picks over ``LINTS_DRAWS`` posterior draws (and the
        ``realised`` draw's pick, when given)."""
        x = np.asarray(x, dtype=float).reshape(-1)
        mean = np.array([self._ridge.mean(i, x) for i in range(len(self.arms))])
        sd = self.config.alpha * np.array([self._ridge.posterior_sd(i, x) for i in range(len(self.arms))])
        scores = mean + sd * self._draw_rng.standard_normal((LINTS_DRAWS, len(self.arms)))
        scores[:, [i for i, a in enumerate(self.arms) if split_arm(a)[0] in warming]] = -np.inf  # never picked
        counts = np.zeros(len(self.subsets))
        codes, hits = np.unique(self._greedy_codes(scores), return_counts=True)
        for code, hit in zip(codes.tolist(), hits):
            counts[self._subset_codes[code]] += hit
        if realised is not None:
            counts[self._subset_codes[_code(realised, self.arms)]] += 1
        available = np.zeros(len(self.subsets))
        available[[self._subset_codes[_code(s, self.arms)] for s in self.available_subsets(warming)]] = 1.0
        eps = self.config.effective_epsilon
        return eps * available / available.sum() + (1 - eps) * counts / counts.sum()

    def _greedy_masks(self, net: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The greedy subset for rows of net scores (arms in :attr:`arms` order; ``-inf``: not
        available) as, per row and strategy (in :attr:`strategies` order), the index of its best
        depth in ``config.depths`` and whether it is kept: the best strategy (ties: the strategies'
        order) and every other clearing the cut; of more than ``max_arms``, those others cover least."""
        cfg = self.config
        per_strategy = net.reshape(len(net), len(self.strategies), len(cfg.depths))  # arms are strategy-major
        best_depth = per_strategy.argmax(axis=2)  # the first of equal depths
        best_net = np.take_along_axis(per_strategy, best_depth[:, :, None], axis=2)[:, :, 0]
        keep = best_net >= cfg.cut
        keep[np.arange(len(net)), np.argmax(best_net, axis=1)] = True
        order = np.broadcast_to(np.arange(len(self.strategies)), best_net.shape)
        rate = np.broadcast_to(self.leave_out_rates(), best_net.shape)
        priority = np.lexsort((order, -best_net, -rate), axis=1)  # who stays when more than max_arms clear the cut
        kept = np.take_along_axis(keep, priority, axis=1)
        kept &= np.cumsum(kept, axis=1) <= cfg.max_arms
        np.put_along_axis(keep, priority, kept, axis=1)
        return best_depth, keep

    def _greedy_codes(self, scores: np.ndarray) -> np.ndarray:
        """:meth:`greedy_subset` for many score draws at once (rows of ``scores``, arms in
        :attr:`arms` order), each subset as its arm bitmask (:func:`_code`)."""
        cfg = self.config
        best_depth, keep = self._greedy_masks(scores - cfg.depth_cost * np.array([split_arm(a)[1] for a in self.arms]))
        arm_index = np.arange(len(self.strategies)) * len(cfg.depths) + best_depth
        return np.where(keep, np.left_shift(1, arm_index), 0).sum(axis=1)

    # -- learning ----------------------------------------------------------------------
    def update(self, x: np.ndarray, rewards: dict[str, float], weight: float = 1.0) -> None:
        """One row per picked arm: reward 1 if that arm's own candidates held the confirmed item; the
        round counts ``weight`` live rounds (a replayed one, :attr:`PolicyConfig.replay_weight`)."""
        if not rewards:
            return
        x = np.asarray(x, dtype=float).reshape(1, -1)
        for arm, reward in rewards.items():
            self._ridge.fit(self.arms.index(arm), x, reward, weight)
        self.stats.add_round(rewards, weight)

    def arrays(self) -> dict[str, np.ndarray]:
        """The arms' ridge models as arrays (``A``, ``A_inv``, ``Xty``, ``beta``), arms in :attr:`arms` order."""
        return self._ridge.arrays()

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore :meth:`arrays`; ValueError naming the array when a shape does not fit these arms."""
        self._ridge.load(arrays)

    def with_config(self, config: PolicyConfig) -> "Bandit":
        """A fresh bandit with another policy over the same arms and features."""
        return Bandit(self.strategies, self.n_features, config)


def _names(items: list[str]) -> str:
    """``["a", "b", "c"]`` -> ``"a, b and c"``."""
    return " and ".join([", ".join(items[:-1]), items[-1]] if len(items) > 1 else items)


def _fixed_reason(arm: str, picks: tuple[str, ...], policy: str) -> Reason:
    """Why fixed policy ``policy``, picking ``picks``, picks or leaves out ``arm``."""
    if arm in picks:
        return Reason("policy", f"policy '{policy}' names it")
    strategy = split_arm(arm)[0]
    taken = next((a for a in picks if split_arm(a)[0] == strategy), None)
    return Reason("policy", f"policy '{policy}' takes {taken}" if taken else
                  f"policy '{policy}' does not name {strategy}")


def _explored_words(picked: bool, greedy_picks: bool, greedy_detail: str, epsilon: float, policy: str) -> str:
    """An arm's reason when the subset was drawn at random, with what the greedy choice would have done."""
    verdict = "picked" if picked else "left out"
    if epsilon >= 1:
        return f"{verdict}: policy '{policy}' draws every search's subset at random"
    would = ("picked it" if greedy_picks else "left it out") + (" too" if picked == greedy_picks else "")
    return f"{verdict} by the exploration draw (a random subset); the greedy choice would have {would}: {greedy_detail}"


def _bonus_words(config: PolicyConfig) -> str:
    """What the exploration bonus added to an arm's expected reward is, under ``config``'s policy."""
    if config.kind == "linucb":
        return (f"upper-confidence bonus: alpha {config.alpha:g} x the expected reward's standard deviation, "
                "shrinking as the arm is pulled in contexts like this one")
    if config.kind == "lints":
        return "this search's draw from the arm's posterior minus the expected reward (Thompson sampling)"
    if config.effective_epsilon > 0:
        return f"none: policy '{config.name}' explores only by drawing random subsets"
    return f"none: policy '{config.name}' does not explore"


def _code(subset: tuple[str, ...], arms: list[str]) -> int:
    """A subset as a bitmask over ``arms`` (order-free)."""
    return sum(1 << arms.index(arm) for arm in subset)

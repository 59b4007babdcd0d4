"""Simulation: seeded simulated users search through the engine, click, engage, and teach the bandit.

A run happens in a sandbox (:meth:`Engine.sandbox`): its own database, learning state and
memory observations, so the live engine never changes. The engine learns only from the events
the simulated users produce (:mod:`ltrr_core.simulation.clicks`), settled like any search
(:mod:`ltrr_core.feedback.settlement`): a user's reward window closes after their response.
Every round also carries the truth (target, relevant set, which strategies could have found
it), used only to report hit rate, regret and how faithful the reward signal was::

    oracle_hit = any relevant item in the union of ALL strategies at full depth
    hit        = any relevant item in the union of the CHOSEN arms
    regret     = oracle_hit - hit
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from typing import Iterator

import numpy as np
import pandas as pd

from ltrr_core.engine import Engine
from ltrr_core.feedback.settlement import Settlement
from ltrr_core.results import SearchResult
from ltrr_core.retrieval.candidates import Candidates
from ltrr_core.selection.bandit import POLICIES, ArmStats, PolicyConfig
from ltrr_core.selection.context import Context, UserProfile
from ltrr_core.simulation.clicks import ClickModel, Response
from ltrr_core.simulation.intents import Intent
from ltrr_core.simulation.traffic import TrafficGenerator, validate_mix
from ltrr_core.understanding.query import QueryUnderstanding

COMPARE_POLICIES = ("linucb", "lints", "egreedy", "random", "all")


@dataclass(frozen=True)
class SimulationConfig:
    """One simulated run. ``mix_after`` replaces ``mix`` from round ``shift_at`` on (a traffic shift).

    Simulated users scan up to ``shown`` results, examining rank r with probability
    1 / sqrt(r): people looking for a topic scroll further than the first ten.
    """

    rounds: int = 500
    seed: int = 7
    policy: str = "linucb"
    mix: dict[str, float] | None = None
    mix_after: dict[str, float] | None = None
    shift_at: int | None = None
    shown: int = 30
    click_model: ClickModel = field(default_factory=lambda: ClickModel(eta=0.5))
    policy_params: dict = field(default_factory=dict)
    noiseless: bool = False  # the click model's truthful signal (engagement exactly on relevant clicks)

    def __post_init__(self) -> None:
        if not 1 <= self.rounds <= 1_000_000:
            raise ValueError(f"rounds: {self.rounds} must be between 1 and 1,000,000")
        if not 1 <= self.shown <= 200:
            raise ValueError(f"shown: {self.shown} must be between 1 and 200")
        if self.shift_at is not None and not 0 < self.shift_at < self.rounds:
            raise ValueError(f"shift_at: {self.shift_at} must fall inside 1..{self.rounds - 1}")
        validate_mix(self.mix)
        validate_mix(self.mix_after)
        PolicyConfig(name=self.policy, **self.policy_params)  # validates the policy name and params

    @property
    def run_name(self) -> str:
        """Names the run's sandbox database: policy, seed, and whether the signal is noiseless."""
        return f"{self.policy}-seed{self.seed}" + ("-noiseless" if self.noiseless else "")


@dataclass(frozen=True)
class RoundRecord:
    """One simulated search, with the truth."""

    round: int
    policy: str
    kind: str
    query: str
    target_id: str
    chosen: tuple[str, ...]
    propensity: float
    explored: bool
    candidates: int
    hit: bool
    oracle_hit: bool
    found_by: tuple[str, ...]
    rewarded_on: str | None  # the result whose positive event closed the window (None: default reward)
    rewarded_relevant: bool  # truth: that result was relevant
    relevant_shown: bool  # truth: the page showed a relevant result
    rewards: dict[str, float]
    search_id: int | None
    ms: float

    @property
    def regret(self) -> int:
        return int(self.oracle_hit) - int(self.hit)


@dataclass(frozen=True)
class RewardSignal:
    """How faithful the observed reward is to the truth. ``precision``: rounds rewarded on a relevant
    result / rounds rewarded on any; ``recall``: rounds rewarded on a relevant result / rounds whose
    page showed one; ``rate``: rounds with a positive event."""

    precision: float
    recall: float
    rate: float


@dataclass(frozen=True)
class ArmFigures:
    """One arm in one run: how often it was picked, and its mean reward (4 decimals)."""

    pulls: int
    mean_reward: float


@dataclass(frozen=True)
class SimulationSummary:
    """The figures of one simulated run (see :meth:`SimulationRun.summary`)."""

    rounds: int
    policy: str
    seed: int
    hit_rate: float
    oracle_hit_rate: float
    cumulative_regret: int
    candidates_per_search: float
    reward_signal: RewardSignal
    per_arm: dict[str, ArmFigures]
    searches_per_s: float
    prepare_s: float
    noiseless: bool
    database: str

    def to_json(self) -> dict:
        """What ``ltrr simulate --json`` prints."""
        return asdict(self)


@dataclass(frozen=True)
class UserTurn:
    """What one simulated user did (:func:`simulate_user_turn`): who, their intent's kind, query and
    target, their events (``"<kind> <entity id>"``), the result that closed the reward window (None:
    the default reward) and the arms' rewards."""

    user: str
    kind: str
    query: str
    target: str
    events: tuple[str, ...] = ()
    rewarded_on: str | None = None
    rewards: dict[str, float] = field(default_factory=dict)


class SimulationRun:
    """Runs a :class:`SimulationConfig` in a sandbox of ``engine``, a batch at a time (the UI polls
    ``history``); ``name`` names the sandbox's new database (default: policy and seed; a suffix
    when another run holds that name), which :meth:`summary` reports."""

    def __init__(self, engine: Engine, config: SimulationConfig, traffic: TrafficGenerator | None = None,
                 name: str | None = None) -> None:
        policy = PolicyConfig(name=config.policy, seed=config.seed, **config.policy_params)
        self.engine = engine.sandbox(name or config.run_name)
        self.engine.learning.set_policy(policy)
        self.config = config
        self.click_model = config.click_model.noiseless() if config.noiseless else config.click_model
        self.rng = np.random.default_rng(config.seed + 1)
        traffic = traffic or TrafficGenerator(self.engine.runtime.catalog, seed=config.seed)
        self.started = time.perf_counter()
        self.intents = _draw_traffic(traffic, config)
        self.records: list[RoundRecord] = []
        self._static: dict[tuple, Candidates] = {}
        self.elapsed = 0.0
        self._prefetch()
        self.prepare_s = time.perf_counter() - self.started

    @property
    def done(self) -> bool:
        return len(self.records) >= len(self.intents)

    def iter_batches(self, size: int = 50) -> Iterator[list[RoundRecord]]:
        while not self.done:
            yield self.step(size)

    def run(self) -> "SimulationRun":
        for _ in self.iter_batches(200):
            pass
        return self

    def step(self, n: int = 1) -> list[RoundRecord]:
        start = time.perf_counter()
        out = [self._round(self.intents[len(self.records)]) for _ in range(min(n, len(self.intents) - len(self.records)))]
        self.elapsed += time.perf_counter() - start
        if self.done:
            self.engine.learning.save_state()
        return out

    def _cache_key(self, name: str, understanding: QueryUnderstanding, context: Context) -> tuple | None:
        """Where a strategy's full-depth list is cached; None for one that learns (retrieved every round)."""
        strategy = self.engine.runtime.pipeline.strategy(name)
        if strategy.learns:
            return None
        return name, understanding.normalized, context if strategy.uses_context else None

    def _prefetch(self) -> None:
        """Every context-free strategy that does not learn, once per distinct query, up front: those
        with ``retrieve_many`` batched (semantic: one encoder call and one faiss call), the others one
        query at a time in this thread (handing each to the retrieval threads cost more than the work)."""
        rt = self.engine.runtime
        pipeline = rt.pipeline
        understood: dict[str, tuple[QueryUnderstanding, Context]] = {}
        for intent in self.intents:
            u = pipeline.understand(intent.query)
            understood.setdefault(u.normalized, (u, intent.context))
        queries = [u for u, _ in understood.values()]
        depth = max(rt.policy.depths)
        for name in rt.strategy_names:
            strategy = pipeline.strategy(name)
            if strategy.learns or strategy.uses_context:
                continue
            if hasattr(strategy, "retrieve_many"):
                found = pipeline.retrieve_many(name, queries, depth)
            else:
                found = [pipeline.retrieve(name, u, context, depth) for u, context in understood.values()]
            self._static.update(((name, u.normalized, None), c) for u, c in zip(queries, found))

    def _full_depth(self, understanding: QueryUnderstanding, context: Context) -> dict[str, Candidates]:
        """Every strategy at full depth (the oracle's view): static ones from the cache."""
        rt = self.engine.runtime
        depth = max(rt.policy.depths)
        keys = {name: self._cache_key(name, understanding, context) for name in rt.strategy_names}
        full = {name: self._static[key] for name, key in keys.items() if key in self._static}
        missing = {name: depth for name in rt.strategy_names if name not in full}
        for name, found in rt.pipeline.retrieve_all(missing, understanding, context).items():
            if keys[name]:
                self._static[keys[name]] = found
            full[name] = found
        return {name: full[name] for name in rt.strategy_names}

    def _round(self, intent: Intent) -> RoundRecord:
        engine, t0 = self.engine, time.perf_counter()
        u = engine.runtime.pipeline.understand(intent.query)
        full = self._full_depth(u, intent.context)
        res = engine.searching.search(intent.query, intent.context, k=self.config.shown, source="simulated",
                                      user_id=intent.context.user.id, retrieved=full)
        if res.search_id is None:  # an empty query: nothing to learn from
            return self._record(intent, res, False, False, (), None, False, {}, t0)
        found_by = tuple(s for s, c in full.items() if not intent.relevant.isdisjoint(c.ids))
        hit = not intent.relevant.isdisjoint(res.pool.ids)
        _, settlement = answer(engine, res, intent, self.click_model, self.rng)
        return self._record(intent, res, hit, bool(found_by), found_by, settlement,
                            any(i.id in intent.relevant for i in res.items), t0)

    def _record(self, intent, res, hit, oracle_hit, found_by, settlement, relevant_shown, t0) -> RoundRecord:
        sel = res.selection
        on = settlement.entity_id if settlement else None
        record = RoundRecord(
            len(self.records) + 1, self.config.policy, intent.kind, intent.query, intent.target_id,
            sel.chosen if sel else (), sel.propensity if sel else 1.0, sel.explored if sel else False,
            len(res.pool), hit, oracle_hit, found_by, on, on in intent.relevant, relevant_shown,
            settlement.rewards if settlement else {}, res.search_id, (time.perf_counter() - t0) * 1000)
        self.records.append(record)
        return record

    @property
    def history(self) -> pd.DataFrame:
        """One row per round with running aggregates (cumulative regret, hit rates)."""
        frame = pd.DataFrame([{**{k: v for k, v in r.__dict__.items() if k != "rewards"},
                               "chosen": ",".join(r.chosen), "found_by": ",".join(r.found_by),
                               "regret": r.regret, **{f"reward:{a}": v for a, v in r.rewards.items()}}
                              for r in self.records])
        if frame.empty:
            return frame
        frame["cum_regret"] = frame["regret"].cumsum()
        frame["hit_rate"] = frame["hit"].expanding().mean()
        frame["oracle_hit_rate"] = frame["oracle_hit"].expanding().mean()
        return frame

    def summary(self) -> SimulationSummary:
        """The figures ``ltrr simulate --json`` prints. ``searches_per_s`` counts the whole run:
        the preparation (``prepare_s``: drawing the traffic, then understanding, encoding and
        dense search of every distinct query in batches) and the rounds. Loading the engine
        (indexes, model) comes before and is not counted."""
        n = len(self.records)
        hits = sum(r.hit for r in self.records)
        stats = ArmStats()  # this run's own pulls (the engine's bandit may have moved on to another run)
        for record in self.records:
            for arm, reward in record.rewards.items():
                stats.add(arm, reward)
        return SimulationSummary(
            rounds=n,
            policy=self.config.policy,
            seed=self.config.seed,
            hit_rate=hits / n if n else 0.0,
            oracle_hit_rate=sum(r.oracle_hit for r in self.records) / n if n else 0.0,
            cumulative_regret=sum(r.regret for r in self.records),
            candidates_per_search=float(np.mean([r.candidates for r in self.records])) if n else 0.0,
            reward_signal=self.reward_signal(),
            per_arm={a: ArmFigures(stats.pulls[a], round(stats.mean(a), 4)) for a in sorted(stats.pulls)},
            searches_per_s=n / (self.prepare_s + self.elapsed) if self.elapsed else 0.0,
            prepare_s=round(self.prepare_s, 3),
            noiseless=self.config.noiseless,
            database=str(self.engine.runtime.settings.db_path),
        )

    def reward_signal(self) -> RewardSignal:
        """How faithful the observed reward is to the truth (see :class:`RewardSignal`)."""
        rewarded = [r for r in self.records if r.rewarded_on is not None]
        true_positive = sum(r.rewarded_relevant for r in rewarded)
        shown = sum(r.relevant_shown for r in self.records)
        return RewardSignal(true_positive / len(rewarded) if rewarded else 0.0,
                            true_positive / shown if shown else 0.0,
                            len(rewarded) / len(self.records) if self.records else 0.0)


def answer(engine: Engine, result: SearchResult, intent: Intent, click_model: ClickModel,
           rng: np.random.Generator) -> tuple[Response, Settlement | None]:
    """The simulated user reacts to a logged result with events only (the click model decides
    from the hidden intent); the engine settles on them like any search. The user's session
    moves on, so a window their events did not close closes with the default reward."""
    response = click_model.respond([i.id for i in result.items], intent, rng)
    user = intent.context.user.id
    return response, engine.searching.respond(result.search_id, list(response.events), "simulated", user,
                                              then_close="next_search")


def simulate_user_turn(engine: Engine, seed: int, profile: UserProfile | None = None,
                       k: int = 10) -> tuple[SearchResult, UserTurn]:
    """One simulated user (``profile``, or one drawn) searches the live engine with their own intent
    and answers through the default click model. Returns the result and what the user did."""
    traffic = TrafficGenerator(engine.runtime.catalog, seed=seed, profiles=[profile] if profile else None)
    intent = traffic.draw(1)[0]
    user = intent.context.user.id
    result = engine.searching.search(intent.query, intent.context, k=k, source="simulated", user_id=user)
    turn = UserTurn(user, intent.kind, intent.query, intent.target_id)
    if result.search_id is not None:
        response, settlement = answer(engine, result, intent, ClickModel(eta=0.5), np.random.default_rng(seed))
        turn = replace(turn, events=tuple(f"{kind} {entity_id}" for entity_id, kind in response.events))
        if settlement:
            turn = replace(turn, rewarded_on=settlement.entity_id, rewards=settlement.rewards)
    return result, turn


def _draw_traffic(traffic: TrafficGenerator, config: SimulationConfig) -> list[Intent]:
    if config.shift_at is None:
        return traffic.draw(config.rounds, config.mix)
    return traffic.draw(config.shift_at, config.mix) + traffic.draw(config.rounds - config.shift_at, config.mix_after)


def compare(engine: Engine, config: SimulationConfig, policies: tuple[str, ...] = COMPARE_POLICIES,
            progress=None) -> dict[str, SimulationRun]:
    """Every policy on the same seeded traffic (same intents, same click randomness)."""
    runs = {}
    for policy in policies:
        if policy.split(":")[0] not in POLICIES:
            raise ValueError(f"policy: {policy!r} is not one of {sorted(POLICIES)}")
        one = replace(config, policy=policy)
        run = SimulationRun(engine, one, name=f"compare-{one.run_name}")
        for _ in run.iter_batches(100):
            if progress:
                progress(policy, len(run.records) / config.rounds)
        runs[policy] = run
    return runs

"""Warm-starting the bandit by replaying imported result pages: the rewards a page reveals.

An imported page has no arms: another system produced it. But the engine's strategies are
functions of the query (and, for ``memory``, of the feedback so far), so for a logged page every
strategy's candidates can be recomputed through :meth:`Pipeline.run`, and an arm's reward follows
the live reward window (:mod:`ltrr_core.feedback.settlement`) where the page reveals it.

Live, only the picked arms learn: their candidates made the page, so the user's response grades
them. A replayed page grades the arms it *exposed*: those of a strategy with one of its
``EXPOSED_TOP`` best candidates on the page (a page built with the strategy shows at least one of
them), and those of a strategy that retrieved nothing (0 whatever the user wanted). The page's
first positive event (engage, thumbs up) on a result it showed gives each exposed arm 1 if its own
candidates hold that result, else 0; a page without one gives them the default reward, as a live
window that closes without one (so replayed means are on the live scale). The other arms are not
updated: the log says nothing about them, as live about the arms not picked.

The same holds for depth: a strategy's deeper arm is graded only where the page shows one of the
candidates its extra depth adds (ranks 26-100 for ``@100`` beside ``@25``), or the strategy has
none there. Graded on every page that exposed the strategy, the deeper arm is credited only for
finds the logger happened to show, and it rarely showed a strategy's deep candidates: replayed,
``lexical@100`` added +0.03 hit rate to ``lexical@25`` where live it adds +0.09, below the
depth cost that makes the deeper arm pay, so a warm-started bandit drew too shallow.

Grading every arm instead (as if every strategy had made the page) is biased by selection: a page
can carry a positive event only on an item the other system showed, so an arm whose finds other
strategies also find is credited on pages it did not make, while an arm with unique finds is
credited for them only on pages that used it; the bandit, confident from the replay, then drops
the latter. Graded only where it was exposed, an arm is credited on the pages that could show its
finds. The arms replayed least are therefore those whose best candidates no other strategy ranks
high: ``explore`` (fresh, long-tail items) above all, then ``semantic``; ``lexical``, ``popular``
and ``structured`` overlap the others and are graded on nearly every page.

A replayed round counts the policy's ``replay_weight`` (default 0.5) of a live round in what
the bandit learns from it (:meth:`LearningState.apply`): the grading above only approximates the
live one (a page rewards only what the logger chose to show), and a lighter weight lets live
rounds outvote its bias sooner, the remedy of warm-started contextual bandits whose warm-start
data is biased (Zhang et al., ICML 2019). In the warm-start benchmark 0.5 measured no worse than
1 on either seed range, the differences within noise (``benchmarks/RESULTS.md``).

``memory`` cannot be replayed against the memory of today, which has already seen the whole
log (it would be rewarded for remembering the future). It is replayed against its own past
instead: a fork of the memory's cold start that absorbs each page's impressions and events
right after the page is replayed, so page *t* sees exactly what the log held before it. The
context of a page is its time (weekday, hour in UTC) and session; the log carries no user
tastes, so those features are 0. The hit-history features evolve over the replay like live.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterable, Iterator

import numpy as np

from ltrr_core.base.examination import ExaminationCurve
from ltrr_core.feedback.learning_state import LearningState
from ltrr_core.feedback.loop import MEMORY_COUNTS
from ltrr_core.base.records import REPLAYED, LoggedPage, SettledRound
from ltrr_core.feedback.settlement import RewardWindow
from ltrr_core.pipeline import Pipeline
from ltrr_core.retrieval.candidates import Candidates
from ltrr_core.selection.bandit import PolicyConfig, split_arm
from ltrr_core.selection.context import Context, UserProfile, category, featurize

EXPOSED_TOP = 3  # a page exposed a strategy when it showed one of the strategy's this many best candidates


def log_context(timestamp: float, session: str) -> Context:
    """The context a logged event carries: its session as the user, its UTC weekday and hour."""
    when = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return Context(UserProfile(id=session), weekday=when.weekday(), hour=when.hour)


@dataclass(frozen=True)
class ReplaySummary:
    """What a warm start replayed: pages, those with a positive event, the bandit's rounds (pages that
    exposed an arm), what each counts of a live round, and per arm the rounds that graded it and its
    mean reward on them."""

    pages: int
    rewarded: int
    rounds: int
    weight: float
    arm_rounds: dict[str, int]
    arm_means: dict[str, float]

    def to_json(self) -> dict:
        return {"pages": self.pages, "rewarded_pages": self.rewarded, "rounds": self.rounds,
                "replay_weight": self.weight,
                "arm_rounds": self.arm_rounds,
                "arm_means": {arm: round(mean, 4) for arm, mean in self.arm_means.items()}}


class Replayer:
    """Replays pages through ``pipeline`` (give it sandboxed resources: its memory is the past's)."""

    def __init__(self, pipeline: Pipeline, policy: PolicyConfig, n_features: int, window: RewardWindow,
                 curve: ExaminationCurve) -> None:
        self.pipeline, self.policy, self.window, self.curve = pipeline, policy, window, curve
        self.strategies = list(pipeline.strategy_names)
        self.state = LearningState.fresh(self.strategies, n_features, policy)
        self.depth = max(policy.depths)
        self._static: dict[tuple[str, str], Candidates] = {}
        self.replayed = 0  # pages replayed (with a query), rewarded or not
        self.rewarded = 0  # of those, pages with a positive event

    def _prefetch(self, pages: list[LoggedPage]) -> None:
        """Strategies that batch and neither learn nor read the context run once per distinct query."""
        understood = {}
        for page in pages:
            u = self.pipeline.understand(page.query)
            understood.setdefault(u.normalized, u)
        queries = list(understood.values())
        for name in self.strategies:
            strategy = self.pipeline.strategy(name)
            if hasattr(strategy, "retrieve_many") and not (strategy.learns or strategy.uses_context):
                found = self.pipeline.retrieve_many(name, queries, self.depth)
                self._static.update(((name, u.normalized), c) for u, c in zip(queries, found))

    def _candidates(self, name: str, u, context: Context) -> Candidates:
        strategy = self.pipeline.strategy(name)
        if strategy.learns or strategy.uses_context:
            return self.pipeline.retrieve(name, u, context, self.depth)
        key = (name, u.normalized)
        if key not in self._static:
            self._static[key] = self.pipeline.retrieve(name, u, context, self.depth)
        return self._static[key]

    @staticmethod
    def exposed(shown: set[str], candidates: dict[str, Candidates]) -> set[str]:
        """The strategies whose reward a page that showed ``shown`` reveals (see the module docstring)."""
        return {name for name, found in candidates.items()
                if not len(found) or not shown.isdisjoint(found.ids[:EXPOSED_TOP])}

    def rewards(self, page: LoggedPage, candidates: dict[str, Candidates]) -> tuple[dict[str, float], bool]:
        """The rewards of the arms ``page`` exposed (none: the page teaches the bandit nothing), and
        whether it had a positive event."""
        shown = {entity_id for entity_id, _ in page.shown}
        exposed = self.exposed(shown, candidates)
        positive = self.window.first_positive(e for e in page.events if e[0] in shown)
        rewards = {}
        for arm in self.state.bandit.arms:
            strategy, depth = split_arm(arm)
            if strategy in exposed and self.depth_exposed(shown, candidates[strategy], depth):
                rewards[arm] = (float(positive[0] in candidates[strategy].prefix(depth).ids) if positive
                                else self.window.default_reward)
        return rewards, positive is not None

    def depth_exposed(self, shown: set[str], found: Candidates, depth: int) -> bool:
        """Whether a page that showed ``shown`` reveals the strategy's arm at ``depth``: the shallowest
        always, a deeper one where the page shows a candidate its extra depth adds (or adds none)."""
        shallower = [d for d in self.policy.depths if d < depth]
        extra = found.ids[max(shallower):depth] if shallower else ()
        return not len(extra) or not shown.isdisjoint(extra)

    def replay(self, pages: Iterable[LoggedPage],
               progress: Callable[[int, int], None] | None = None) -> Iterator[SettledRound]:
        """The replayed rounds of the pages that exposed an arm, in log order; each is folded into
        :attr:`state` as it is produced. Every page then reaches the memory."""
        pages = list(pages)
        self._prefetch(pages)
        memory = self.pipeline.resources.memory
        for i, page in enumerate(pages, start=1):
            u = self.pipeline.understand(page.query)
            if u.is_empty:
                continue
            self.replayed += 1
            context = log_context(page.created_at, page.session)
            key = category(u)
            x = featurize(u, context, self.state.history.rates(key))
            candidates = {name: self._candidates(name, u, context) for name in self.strategies}
            rewards, positive = self.rewards(page, candidates)
            self.rewarded += positive
            if rewards:
                self.state.apply(x, key, rewards, i, replayed=True)
            for entity_id, position in sorted(page.shown, key=lambda shown: shown[1]):
                memory.record(u.normalized, entity_id, examined=self.curve(position))
            for entity_id, kind in page.events:
                if kind in MEMORY_COUNTS:
                    memory.record(u.normalized, entity_id, **{MEMORY_COUNTS[kind]: 1})
            if progress and (i % 100 == 0 or i == len(pages)):
                progress(i, len(pages))
            if rewards:
                yield SettledRound(i, page.page, tuple(np.asarray(x, dtype=float).tolist()), key, rewards, REPLAYED)

    def summary(self, rounds: list[SettledRound]) -> ReplaySummary:
        """The pages replayed so far, ``rounds`` and per arm the rounds that graded it and its mean reward on them."""
        graded = {arm: [r.rewards[arm] for r in rounds if arm in r.rewards] for arm in self.state.bandit.arms}
        return ReplaySummary(self.replayed, self.rewarded, len(rounds), self.policy.replay_weight,
                             {arm: len(g) for arm, g in graded.items()},
                             {arm: float(np.mean(g)) if g else 0.0 for arm, g in graded.items()})

"""Warm-starting the bandit by replaying imported result pages: every arm's reward is known.

An imported page has no arms: another system produced it. But the engine's strategies are
functions of the query (and, for ``memory``, of the feedback so far), so for a logged page every
strategy's candidates can be recomputed through :meth:`Pipeline.run`, and every arm's reward
follows the live reward window (:mod:`ltrr_core.feedback.settlement`): the page's first positive
event (engage, thumbs up) on a result it showed rewards each arm whose own candidates hold that
result with 1, the others with 0.

A page without a positive event teaches the bandit nothing and is skipped (its impressions still
reach the memory). Live, such a window gives the default reward only to the arms that were
picked: they produced the page and it satisfied no one. A replayed page's arms were not picked
by us and the log does not say which the other system used, so the default reward would charge
every arm, including those that would have found the wanted item; with the target unknown, no
arm's reward is known. Skipping keeps the arms' order (charging every arm scales every arm's mean
by the same share of rewarded pages) but puts the replayed means on the scale "found, given a
positive event", above live means, which count the windows without one.

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

from ltrr_core.feedback.examination import ExaminationCurve
from ltrr_core.feedback.learning_state import LearningState
from ltrr_core.feedback.loop import MEMORY_COUNTS
from ltrr_core.feedback.records import LoggedPage, SettledRound
from ltrr_core.feedback.settlement import RewardWindow
from ltrr_core.pipeline import Pipeline
from ltrr_core.retrieval.candidates import Candidates
from ltrr_core.selection.bandit import PolicyConfig, split_arm
from ltrr_core.selection.context import Context, UserProfile, category, featurize

def log_context(timestamp: float, session: str) -> Context:
    """The context a logged event carries: its session as the user, its UTC weekday and hour."""
    when = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return Context(UserProfile(id=session), weekday=when.weekday(), hour=when.hour)


@dataclass(frozen=True)
class ReplaySummary:
    """What a warm start replayed: pages, the rewarded ones (the bandit's rounds) and each arm's mean reward on them."""

    pages: int
    rewarded: int
    arm_means: dict[str, float]

    def to_json(self) -> dict:
        return {"pages": self.pages, "rewarded_pages": self.rewarded,
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

    def rewards(self, page: LoggedPage, candidates: dict[str, Candidates]) -> dict[str, float] | None:
        """Every arm's reward on ``page``, or None for a page without a positive event (see the module docstring)."""
        shown = {entity_id for entity_id, _ in page.shown}
        positive = self.window.first_positive(e for e in page.events if e[0] in shown)
        if positive is None:
            return None
        rewards = {}
        for arm in self.state.bandit.arms:
            strategy, depth = split_arm(arm)
            rewards[arm] = float(positive[0] in candidates[strategy].prefix(depth).ids)
        return rewards

    def replay(self, pages: Iterable[LoggedPage],
               progress: Callable[[int, int], None] | None = None) -> Iterator[SettledRound]:
        """The replayed rounds of the pages with a positive event, in log order; each is folded into
        :attr:`state` as it is produced. Every page, rewarded or not, then reaches the memory."""
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
            rewards = self.rewards(page, candidates)
            if rewards is not None:
                self.state.apply(x, key, rewards, i)
            for entity_id, position in sorted(page.shown, key=lambda shown: shown[1]):
                memory.record(u.normalized, entity_id, examined=self.curve(position))
            for entity_id, kind in page.events:
                if kind in MEMORY_COUNTS:
                    memory.record(u.normalized, entity_id, **{MEMORY_COUNTS[kind]: 1})
            if progress and (i % 100 == 0 or i == len(pages)):
                progress(i, len(pages))
            if rewards is not None:
                yield SettledRound(i, page.page, tuple(np.asarray(x, dtype=float).tolist()), key, rewards, "replayed")

    def summary(self, rounds: list[SettledRound]) -> ReplaySummary:
        """The pages replayed so far, ``rounds`` (the rewarded ones) and each arm's mean reward over them."""
        arms = self.state.bandit.arms
        means = {arm: float(np.mean([r.rewards[arm] for r in rounds])) if rounds else 0.0 for arm in arms}
        return ReplaySummary(self.replayed, len(rounds), means)

"""Warm-starting the bandit by replaying imported result pages: every arm's reward is known.

An imported page has no arms: another system produced it. But the engine's strategies are
functions of the query (and, for ``memory``, of the feedback so far), so for a logged page every
strategy's candidates can be recomputed through :meth:`Pipeline.run`, and every arm's reward
follows the live reward window (:mod:`ltrr_core.feedback.settlement`): the page's first positive
event (engage, thumbs up) on a result it showed rewards each arm whose own candidates hold that
result with 1, the others with 0; a page without one gives every arm the default reward, as a
live window that closes without a positive event does.

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
    """What a warm start replayed: pages, rewarded ones, and the reward each arm earned on average."""

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

    def rewards(self, page: LoggedPage, candidates: dict[str, Candidates]) -> dict[str, float]:
        """Every arm's reward on ``page`` (see the module docstring)."""
        shown = {entity_id for entity_id, _ in page.shown}
        positive = self.window.first_positive(e for e in page.events if e[0] in shown)
        arms = self.state.bandit.arms
        if positive is None:
            return {arm: self.window.default_reward for arm in arms}
        rewards = {}
        for arm in arms:
            strategy, depth = split_arm(arm)
            rewards[arm] = float(positive[0] in candidates[strategy].prefix(depth).ids)
        return rewards

    def replay(self, pages: Iterable[LoggedPage],
               progress: Callable[[int, int], None] | None = None) -> Iterator[SettledRound]:
        """The replayed rounds, in log order; each is folded into :attr:`state` as it is produced."""
        pages = list(pages)
        self._prefetch(pages)
        memory = self.pipeline.resources.memory
        for i, page in enumerate(pages, start=1):
            u = self.pipeline.understand(page.query)
            if u.is_empty:
                continue
            context = log_context(page.created_at, page.session)
            key = category(u)
            x = featurize(u, context, self.state.history.rates(key))
            candidates = {name: self._candidates(name, u, context) for name in self.strategies}
            rewards = self.rewards(page, candidates)
            self.state.apply(x, key, rewards, i)
            for entity_id, position in sorted(page.shown, key=lambda shown: shown[1]):
                memory.record(u.normalized, entity_id, examined=self.curve(position))
            for entity_id, kind in page.events:
                if kind in MEMORY_COUNTS:
                    memory.record(u.normalized, entity_id, **{MEMORY_COUNTS[kind]: 1})
            if progress and (i % 100 == 0 or i == len(pages)):
                progress(i, len(pages))
            yield SettledRound(i, page.page, tuple(np.asarray(x, dtype=float).tolist()), key, rewards, "replayed")

    def summary(self, rounds: list[SettledRound]) -> ReplaySummary:
        arms = self.state.bandit.arms
        means = {arm: float(np.mean([r.rewards[arm] for r in rounds])) if rounds else 0.0 for arm in arms}
        return ReplaySummary(len(rounds), sum(max(r.rewards.values()) > 0 for r in rounds), means)

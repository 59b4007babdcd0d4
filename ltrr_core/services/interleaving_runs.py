"""Online interleaving on simulated users: seeded traffic searches through an interleaving experiment.

The run happens in a sandbox (:meth:`Engine.sandbox`) that borrows a copy of the live engine's
learned bandit and its ranker, so ``bandit`` and ``ltr`` configurations are the live ones. Each
simulated user's query is served by :meth:`ExperimentService.search_interleaved
<ltrr_core.services.experiments.ExperimentService.search_interleaved>`; the click model answers
from the hidden intent, the events go to the log like any user's, and each click is credited to
the team that placed the result. The run stops at ``rounds`` or, with ``stop_at_winner``, as soon
as the sequential test names a winner (the test is anytime-valid, so stopping there is sound).
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from ltrr_core.engine import Engine
from ltrr_core.evaluation.configurations import Configuration
from ltrr_core.evaluation.interleaving import InterleavingTally, TallyReport, credit
from ltrr_core.evaluation.sequential import DEFAULT_ALPHA
from ltrr_core.retrieval.strategies.semantic import query_text
from ltrr_core.simulation.clicks import ClickModel
from ltrr_core.simulation.traffic import TrafficGenerator


@dataclass(frozen=True)
class InterleavingConfig:
    """One simulated interleaving experiment: ``shown`` results per page, examined by ``click_model``."""

    rounds: int = 1000
    seed: int = 7
    alpha: float = DEFAULT_ALPHA
    shown: int = 10
    stop_at_winner: bool = True
    click_model: ClickModel = field(default_factory=lambda: ClickModel(eta=0.5))

    def __post_init__(self) -> None:
        if not 1 <= self.rounds <= 1_000_000:
            raise ValueError(f"rounds: {self.rounds} must be between 1 and 1,000,000")
        if not 1 <= self.shown <= 200:
            raise ValueError(f"shown: {self.shown} must be between 1 and 200")
        if not 0.0 < self.alpha < 1.0:
            raise ValueError(f"alpha: {self.alpha!r} is not in (0, 1)")


@dataclass(frozen=True)
class InterleavingSummary:
    """A simulated interleaving run: its experiment and configuration specs, the searches it served of
    the most ``rounds``, its seed, the tally, its speed and its sandbox database."""

    experiment: str
    configurations: tuple[str, ...]
    searches: int
    rounds: int
    seed: int
    tally: TallyReport
    searches_per_s: float
    database: str

    def to_json(self) -> dict:
        """What ``ltrr interleave --json`` prints: the run, the tally's figures, its speed and database."""
        return {"experiment": self.experiment, "configurations": list(self.configurations),
                "searches": self.searches, "rounds": self.rounds, "seed": self.seed, **self.tally.to_json(),
                "searches_per_s": self.searches_per_s, "database": self.database}


def prefetch_query_vectors(engine: Engine, queries: list[str]) -> None:
    """Encode every distinct query in one batched model call: each configuration's semantic retrieval
    and features then read the encoder's cache instead of encoding one query at a time."""
    pipeline = engine.runtime.pipeline
    texts = {query_text(pipeline.understand(q)) for q in queries}
    pipeline.resources.embedder.encode_queries(sorted(t for t in texts if t))


class InterleavingRun:
    """Runs ``configs`` against each other on simulated users (see the module docstring), a batch at a time."""

    def __init__(self, engine: Engine, configs: list[Configuration], config: InterleavingConfig | None = None) -> None:
        self.config = config or InterleavingConfig()
        self.configs = list(configs)
        self.engine = engine.sandbox(f"interleave-seed{self.config.seed}")
        sandbox, live = self.engine.runtime, engine.runtime
        sandbox.loop.state = copy.deepcopy(live.loop.state)  # the live bandit, read-only here
        sandbox.rankers.current = live.rankers.current
        self.experiment = self.engine.experiments.start_interleaving(self.configs)
        self.tally = InterleavingTally(tuple(c.name for c in self.configs), self.config.alpha)
        self.rng = np.random.default_rng(self.config.seed + 1)
        self.intents = TrafficGenerator(sandbox.catalog, seed=self.config.seed).draw(self.config.rounds)
        prefetch_query_vectors(self.engine, [intent.query for intent in self.intents])
        self.searches = 0
        self.elapsed = 0.0

    @property
    def done(self) -> bool:
        stopped = self.config.stop_at_winner and self.tally.winner is not None
        return stopped or self.searches >= len(self.intents)

    def step(self, n: int = 1) -> int:
        """Serve up to ``n`` more simulated searches; returns how many ran."""
        start, ran = time.perf_counter(), 0
        while ran < n and not self.done:
            intent = self.intents[self.searches]
            self.searches += 1
            ran += 1
            user = intent.context.user.id
            result = self.engine.experiments.search_interleaved(intent.query, self.experiment, intent.context,
                                                                k=self.config.shown, source="simulated", user_id=user,
                                                                rng=self.rng)
            if result.search_id is None:
                continue
            response = self.config.click_model.respond([i.id for i in result.items], intent, self.rng)
            self.engine.searching.respond(result.search_id, list(response.events), "simulated", user)
            teams = [self.tally.names.index(i.team) for i in result.items]
            self.tally.add(credit(teams, [rank for _, rank in response.clicks], len(self.configs)))
        self.elapsed += time.perf_counter() - start
        return ran

    def iter_batches(self, size: int = 25) -> Iterator[int]:
        while not self.done:
            yield self.step(size)

    def run(self) -> "InterleavingRun":
        for _ in self.iter_batches(200):
            pass
        return self

    def summary(self) -> InterleavingSummary:
        """The run so far: the tally's report, the run's size and speed, its database."""
        return InterleavingSummary(self.experiment, tuple(c.spec for c in self.configs), self.searches,
                                   self.config.rounds, self.config.seed, self.tally.report(),
                                   self.searches / self.elapsed if self.elapsed else 0.0,
                                   str(self.engine.runtime.settings.db_path))

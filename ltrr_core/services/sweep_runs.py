"""One sweep run and what says which runs: a (policy, seed) simulation in a worker process.

Each run is exactly the sequential ``ltrr simulate --policy P --seed S``: an engine over a
fresh database and a freshly built memory index; the heavy read-only parts (catalog, indexes,
model) load once per worker process and are shared, so where and in which order a run
happens cannot change it.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, replace

from ltrr_core.base.config import Settings
from ltrr_core.engine import Engine
from ltrr_core.feedback.store.feedback_store import FeedbackStore
from ltrr_core.pipeline import Pipeline
from ltrr_core.services.simulation_runs import SimulationConfig, SimulationRun
from ltrr_core.simulation.sweep_reports import SweepFigures

RETRIES = 2  # a run whose worker dies reruns this many times (it is deterministic), then the sweep fails naming it


class SweepError(RuntimeError):
    """A sweep could not finish (a worker died past its retries); names the runs affected."""


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"1-8"`` -> 1..8, ``"1,4,9"`` -> (1, 4, 9); ranges and lists mix (``"1-3,7"``)."""
    seeds: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not match or (match[2] and int(match[2]) < int(match[1])):
            raise ValueError(f"seeds: {part!r} is not a seed or an ascending range like 1-8")
        seeds += range(int(match[1]), int(match[2] or match[1]) + 1)
    if not seeds:
        raise ValueError("seeds: give at least one seed, e.g. 1-8")
    return tuple(dict.fromkeys(seeds))


@dataclass(frozen=True)
class SweepConfig:
    """Which runs: every policy x every seed, ``rounds`` each, on catalog ``source``."""

    policies: tuple[str, ...]
    seeds: tuple[int, ...]
    rounds: int
    source: str = "default"

    def __post_init__(self) -> None:
        if not self.policies:
            raise ValueError("policies: give at least one, e.g. linucb,lints,random")
        if not self.seeds:
            raise ValueError("seeds: give at least one seed, e.g. 1-8")
        for policy in self.policies:
            SimulationConfig(rounds=self.rounds, seed=self.seeds[0], policy=policy)  # validates policy and rounds

    @property
    def runs(self) -> list[tuple[str, int]]:
        return [(policy, seed) for policy in self.policies for seed in self.seeds]

    @property
    def name(self) -> str:
        """The report's default file name: policies, seeds and rounds."""
        seeds = f"{self.seeds[0]}-{self.seeds[-1]}" if len(self.seeds) > 1 else str(self.seeds[0])
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{self.source}-{'+'.join(self.policies)}-s{seeds}-r{self.rounds}")


@dataclass(frozen=True)
class SeedRun:
    """One (policy, seed) run of a sweep: its figures, per round its regret, hit and candidates, and
    the worker process that ran it."""

    policy: str
    seed: int
    figures: SweepFigures
    regret: tuple[int, ...]
    hit: tuple[int, ...]
    candidates: tuple[int, ...]
    pid: int


# -- one run ---------------------------------------------------------------------------
_BASES: dict[tuple[str, Settings], Engine] = {}  # per process: the loaded catalog, indexes and model


def _base(source: str, settings: Settings) -> Engine:
    key = (source, settings)
    if key not in _BASES:
        base = Engine.open(source, settings)
        base.runtime.pipeline.warm_up()
        _BASES[key] = base
    return _BASES[key]


def run_seed(source: str, settings: Settings, policy: str, seed: int, rounds: int) -> SeedRun:
    """One sequential simulation (``ltrr simulate``'s) in this process: its summary figures and
    per-round regret, hit and candidates. ``settings.db_path``'s folder holds its databases; a
    retried run first removes what a killed attempt left there, so it starts as fresh as the first."""
    base = _base(source, settings)
    folder = settings.db_path.parent / "runs" / f"{policy.replace(':', '_')}-seed{seed}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    db = folder / "feedback.db"
    resources = base.runtime.pipeline.resources.with_parts()  # shared indexes and model, a memory index of its own
    resources.settings = replace(settings, db_path=db)
    engine = Engine(Pipeline(resources, base.runtime.strategy_names), FeedbackStore(db))
    run = SimulationRun(engine, SimulationConfig(rounds=rounds, seed=seed, policy=policy)).run()
    summary = run.summary()
    figures = SweepFigures(summary.cumulative_regret, summary.hit_rate, summary.candidates_per_search)
    return SeedRun(policy, seed, figures, tuple(r.regret for r in run.records), tuple(int(r.hit) for r in run.records),
                   tuple(r.candidates for r in run.records), os.getpid())

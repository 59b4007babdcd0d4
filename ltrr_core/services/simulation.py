"""The simulation face: simulated users teaching a sandboxed copy of the engine (one policy, or
every policy on the same traffic), interleaving on simulated users, seeded sweeps and their saved
reports (read on the learning face), the example interaction log, and the search latency benchmark.

Every run happens in a sandbox (its own database beside the live one); the live engine is never
touched. ``progress(label, fraction)`` hears of each batch.
"""

from __future__ import annotations

from pathlib import Path

from ltrr_core.base.progress import Progress
from ltrr_core.base.cluster import ClusterError
from ltrr_core.base.config import Settings
from ltrr_core.catalog.schema import Catalog
from ltrr_core.engine import Engine
from ltrr_core.evaluation.configurations import Configuration
from ltrr_core.results import SearchResult
from ltrr_core.selection.context import UserProfile
from ltrr_core.services import latency
from ltrr_core.services.example_log import ExampleLog, write_example_log
from ltrr_core.services.interleaving_runs import InterleavingConfig, InterleavingRun, InterleavingSummary
from ltrr_core.services.learning import policy_names
from ltrr_core.services.simulation_runs import (
    SimulationConfig,
    SimulationRun,
    SimulationSummary,
    UserTurn,
    compare,
    simulate_user_turn,
)
from ltrr_core.services import sweeps
from ltrr_core.services.sweep_runs import SweepConfig, SweepError, parse_seeds
from ltrr_core.simulation.profiles import make_profiles
from ltrr_core.simulation.sweep_reports import SweepReport, save_report, sweeps_dir

SWEEP_ERRORS = (SweepError, ClusterError)  # a sweep that cannot run (bad seeds, a worker lost, no cluster)


def user_profiles(catalog: Catalog, n: int = 12, seed: int = 0) -> list[UserProfile]:
    """``n`` simulated user profiles for ``catalog`` (deterministic for a seed)."""
    return make_profiles(catalog, n=n, seed=seed)


def run_sweep(config: SweepConfig, settings: Settings, backend: str = "local", workers: int | None = None,
          address: str | None = None, out: str | Path | None = None,
          progress: Progress | None = None) -> tuple[SweepReport, Path]:
    """Every run of ``config`` in parallel (``local`` processes or ``ray``); the report, saved at
    ``out`` (default: ``sweeps/<name>.json`` beside ``settings``' database), and its path."""
    report = sweeps.run_sweep(config, settings, backend, workers, address, progress)
    return report, save_report(report, Path(out) if out else sweeps_dir(settings) / f"{config.name}.json")


def bench_search(source: str, n_queries: int, settings: Settings, seed: int = 7) -> dict:
    """Search latency on catalog ``source``: start-up, then ``n_queries`` seeded searches (percentiles)."""
    return latency.bench_search(source, n_queries, settings, seed=seed)


class SimulationService:
    """Sandboxed simulated runs beside one engine (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def new_run(self, config: SimulationConfig, name: str | None = None) -> SimulationRun:
        """A sandboxed run of ``config`` (its database named ``name``, default from the config), not
        started: its caller steps it with ``iter_batches`` (a job that can pause and stop)."""
        return SimulationRun(self._engine, config, name=name)

    def simulate(self, config: SimulationConfig, progress: Progress | None = None, batch: int = 50) -> SimulationRun:
        """One run of ``config`` to its end; ``progress`` after every ``batch`` rounds."""
        run = self.new_run(config)
        for _ in run.iter_batches(batch):
            if progress:
                progress(f"simulate {config.policy}", len(run.records) / config.rounds)
        return run

    def compare(self, config: SimulationConfig, progress: Progress | None = None) -> dict[str, SimulationRun]:
        """Every policy (:func:`~ltrr_core.services.learning.policy_names`) on the same seeded traffic."""
        return compare(self._engine, config, tuple(policy_names(self._engine.runtime.strategy_names)), progress)

    def interleave(self, configs: list[Configuration], config: InterleavingConfig,
                   progress: Progress | None = None, batch: int = 25) -> InterleavingSummary:
        """Interleave ``configs`` on simulated users until a winner is significant (or ``config.rounds``);
        the run's summary (:meth:`~ltrr_core.services.interleaving_runs.InterleavingRun.summary`)."""
        run = InterleavingRun(self._engine, configs, config)
        for _ in run.iter_batches(batch):
            if progress:
                progress(f"interleave {len(configs)} configurations", run.searches / config.rounds)
        return run.summary()

    def simulate_user_turn(self, seed: int, profile: UserProfile | None = None,
                           k: int = 10) -> tuple[SearchResult, UserTurn]:
        """One simulated user searches the live engine and answers through the click model."""
        return simulate_user_turn(self._engine, seed, profile, k)

    def user_profiles(self, n: int = 12, seed: int = 0) -> list[UserProfile]:
        """:func:`user_profiles` of this catalog."""
        return user_profiles(self._engine.runtime.catalog, n, seed)

    def write_example_log(self, path: str | Path, rounds: int, seed: int) -> ExampleLog:
        """Simulate ``rounds`` searches under random strategy subsets and write their log to ``path`` (CSV)."""
        return write_example_log(self._engine, path, rounds=rounds, seed=seed)


__all__ = ["SWEEP_ERRORS", "ExampleLog", "InterleavingConfig", "InterleavingSummary", "SimulationConfig",
           "SimulationRun", "SimulationService", "SimulationSummary", "SweepConfig", "SweepReport", "UserTurn",
           "bench_search", "parse_seeds", "run_sweep", "user_profiles"]

"""The report face: stakeholder reports (:mod:`ltrr_core.reporting`) made from what is stored — a
simulation's run record (written beside its sandbox databases when the run ends), a saved sweep, an
experiment snapshot, an interleaving experiment's logged clicks — and their one-file HTML."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ltrr_core.engine import SIMULATIONS_DIR, Engine
from ltrr_core.reporting.experiments import experiment_report
from ltrr_core.reporting.html import render_html
from ltrr_core.reporting.interleaving import interleaving_report
from ltrr_core.reporting.report import Interval, Report, interval_text, mean_interval
from ltrr_core.reporting.simulated import (RECORD_SUFFIX, PolicyRun, RunRecord, RunSetup, load_record, save_record,
                                           simulation_report)
from ltrr_core.reporting.sweeps import sweep_report
from ltrr_core.services.simulation_runs import SimulationRun

CURVE_POINTS = 500  # points kept of each run's learning curves


def policy_run(run: SimulationRun) -> PolicyRun:
    """What a finished ``run`` stores for reports: its summary's figures, the counts behind them, and
    what its truth says (each strategy alone; the curves)."""
    summary, records = run.summary(), run.records
    n = len(records)
    keep = np.unique(np.linspace(0, n - 1, min(n, CURVE_POINTS)).round().astype(int)) if n else np.array([], int)
    regret = np.cumsum([r.regret for r in records])
    hit_rate = np.cumsum([r.hit for r in records]) / np.arange(1, n + 1)
    strategies = run.engine.runtime.strategy_names
    return PolicyRun(
        summary.policy, summary.database, n, sum(r.hit for r in records), summary.hit_rate, summary.oracle_hit_rate,
        summary.cumulative_regret, summary.candidates_per_search,
        mean_interval(np.array([r.candidates for r in records]), "searches"),
        {s: sum(s in r.found_by for r in records) / n if n else 0.0 for s in strategies},
        tuple(int(i) + 1 for i in keep), tuple(int(regret[i]) for i in keep),
        tuple(round(float(hit_rate[i]), 4) for i in keep))


def run_record(runs: dict[str, SimulationRun]) -> RunRecord:
    """The record of ``runs`` (one policy, or several on the same traffic)."""
    first = next(iter(runs.values()))
    config = first.config
    setup = RunSetup(first.engine.runtime.catalog.source, config.seed, config.rounds, config.policy, config.shown,
                     config.noiseless, config.shift_at, time.time())
    return RunRecord(setup, {policy: policy_run(run) for policy, run in runs.items()})


def run_report(database: str | Path) -> Report:
    """The report of the simulated run whose sandbox database is ``database`` (needs no engine);
    FileNotFoundError when the database or its record is missing."""
    return simulation_report(load_record(database))


class ReportService:
    """Reports on the runs, sweeps, snapshots and experiments stored beside one engine's database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record_runs(self, runs: dict[str, SimulationRun]) -> list[Path]:
        """Store the record of finished ``runs`` beside each one's database; the files written."""
        return save_record(run_record(runs))

    def simulation_runs(self) -> list[str]:
        """The recorded simulated runs' databases beside this one, newest first."""
        folder = self._engine.runtime.settings.db_path.parent / SIMULATIONS_DIR
        found = sorted(folder.glob(f"*{RECORD_SUFFIX}"), key=lambda p: (-p.stat().st_mtime, p.name)) \
            if folder.is_dir() else []
        return [str(p.with_name(p.name.removesuffix(RECORD_SUFFIX) + ".db")) for p in found]

    def of_run(self, database: str | Path) -> Report:
        """:func:`run_report`."""
        return run_report(database)

    def of_sweep(self, name: str) -> Report:
        """The report of the saved sweep ``name`` (KeyError when none is saved under it)."""
        return sweep_report(self._engine.learning.load_sweep(name))

    def of_experiment(self, snapshot_id: int) -> Report:
        """The report of experiment snapshot ``snapshot_id``."""
        return experiment_report(self._engine.experiments.experiment_snapshot(snapshot_id))

    def of_interleaving(self, experiment: str) -> Report:
        """The report of interleaving ``experiment`` from its logged clicks."""
        standing = self._engine.experiments.interleaving_report(experiment)
        return interleaving_report(standing.experiment, standing.configurations, standing.tally)

    @staticmethod
    def render_html(report: Report) -> str:
        """``report`` as one self-contained HTML file (:func:`~ltrr_core.reporting.html.render_html`)."""
        return render_html(report)

    @staticmethod
    def interval_text(interval: Interval) -> str:
        """``"88.1% to 94.3% (95% Wilson interval, 300 searches)"``."""
        return interval_text(interval)


__all__ = ["Report", "ReportService", "render_html", "run_record", "run_report"]

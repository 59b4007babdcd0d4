"""Sweeps: many seeded simulations per policy, run in parallel, summarized with 95% intervals.

Each (policy, seed) run is the sequential ``ltrr simulate`` run (:mod:`ltrr_core.services.sweep_runs`).
Backends: ``local`` (a process pool) and ``ray`` (remote
tasks on a local or existing cluster, :mod:`ltrr_core.services.ray_sweeps`). The report has,
per policy, the mean and 95% t-interval over seeds of cumulative regret, hit rate and
candidates per search, and the per-round mean cumulative regret with its band (a
:class:`~ltrr_core.simulation.sweep_reports.SweepReport`, saved as JSON for the Live learning page).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from typing import Sequence

import numpy as np

from ltrr_core.base import intervals
from ltrr_core.base.progress import Progress
from ltrr_core.base.config import Settings
from ltrr_core.base.intervals import LEVEL
from ltrr_core.feedback.store.feedback_store import FeedbackStore
from ltrr_core.services import sweep_runs
from ltrr_core.services.sweep_runs import SeedRun, SweepConfig, SweepError, run_seed
from ltrr_core.simulation.sweep_reports import FIGURES, SWEEPS_DIR, Interval, PolicySweep, RegretBand, SweepReport

SWEEP_ENGINES = ("local", "ray")


# -- summaries -------------------------------------------------------------------------
def mean_interval(values: Sequence[float], level: float = LEVEL) -> Interval:
    """Mean and Student-t ``level`` interval over seeds (one seed: a zero-width interval)."""
    return Interval(*intervals.mean_interval(values, level))


def _band(series: list[Sequence[int]]) -> RegretBand:
    """Per round: the mean cumulative series over seeds and its interval."""
    cumulative = np.cumsum(np.asarray(series, dtype=np.float64), axis=1)
    mean, low, high = intervals.mean_intervals(cumulative, LEVEL)
    return RegretBand(tuple(range(1, cumulative.shape[1] + 1)), tuple(mean.round(4).tolist()),
                      tuple(low.round(4).tolist()), tuple(high.round(4).tolist()))


def report(config: SweepConfig, results: Sequence[SeedRun], backend: str, workers: int, seconds: float) -> SweepReport:
    """The sweep's report (see the module docstring)."""
    by_policy: dict[str, list[SeedRun]] = {p: [] for p in config.policies}
    for result in sorted(results, key=lambda r: (config.policies.index(r.policy), r.seed)):
        by_policy[result.policy].append(result)
    policies = {policy: PolicySweep(**{figure: mean_interval([getattr(r.figures, figure) for r in runs])
                                       for figure in FIGURES}, seeds={r.seed: r.figures for r in runs})
                for policy, runs in by_policy.items()}
    return SweepReport(config.name, config.seeds, config.rounds, config.source, backend, workers, round(seconds, 3),
                       LEVEL, policies, {policy: _band([r.regret for r in runs]) for policy, runs in by_policy.items()})


# -- backends --------------------------------------------------------------------------
def _run_local(config: SweepConfig, settings: Settings, workers: int, progress: Progress | None) -> list[SeedRun]:
    """The runs in a process pool. A worker process that dies breaks the pool: the unfinished runs
    rerun in a fresh pool (``sweep_runs.RETRIES`` times; each run is deterministic), then the sweep
    fails naming them."""
    done: dict[tuple[str, int], SeedRun] = {}
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no forked torch or faiss threads
    for _ in range(sweep_runs.RETRIES + 1):
        todo = [run for run in config.runs if run not in done]
        if not todo:
            break
        with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=context) as pool:
            futures = {pool.submit(run_seed, config.source, settings, p, s, config.rounds): (p, s) for p, s in todo}
            for future in as_completed(futures):
                if isinstance(future.exception(), BrokenProcessPool):  # every unfinished run, once a worker dies
                    continue
                done[futures[future]] = future.result()
                if progress:
                    progress("sweep", len(done) / len(config.runs))
    lost = [f"{p} seed {s}" for p, s in config.runs if (p, s) not in done]
    if lost:
        raise SweepError(f"a sweep worker process died in each of {sweep_runs.RETRIES + 1} attempt(s) (killed, or out "
                         f"of memory?); unfinished runs: {', '.join(lost)}")
    return list(done.values())


def run_sweep(config: SweepConfig, settings: Settings, backend: str = "local", workers: int | None = None,
              address: str | None = None, progress: Progress | None = None) -> SweepReport:
    """Every run of ``config`` on ``backend`` with ``workers`` parallel workers (default: the
    cores); the report. ``settings.db_path``'s folder gets a ``sweeps/<name>/`` work folder."""
    if backend not in SWEEP_ENGINES:
        raise ValueError(f"backend: {backend!r} is not one of {SWEEP_ENGINES}")
    workers = workers or os.cpu_count() or 1
    if workers < 1:
        raise ValueError(f"workers: {workers} must be >= 1")
    work = replace(settings, db_path=settings.db_path.parent / SWEEPS_DIR / config.name / "base.db")
    FeedbackStore(work.db_path).close()  # created here, once: the workers then open an existing database
    start = time.perf_counter()
    if backend == "ray":
        from ltrr_core.services.ray_sweeps import run_on_ray

        results = run_on_ray(config, work, workers, address, progress)
    else:
        results = _run_local(config, work, workers, progress)
    return report(config, results, backend, workers, time.perf_counter() - start)

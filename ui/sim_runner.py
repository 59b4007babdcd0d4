"""A per-session simulation run as a job: start / pause / resume / stop, polled by the page.

The runs execute on the process-wide job runner (one simulation at a time; another session's
waits in the queue, saying for which): the job first waits for the catalog's semantic index if
it is still warming (saying how far along), then runs one batch at a time and publishes a copy
of the combined history; the page's ``st.fragment(run_every=...)`` reads
:meth:`SimulationRunner.snapshot` and never blocks. The worker never calls Streamlit.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Mapping

import pandas as pd

from ltrr_core.services.jobs import Job, JobContext, job_runner
from ltrr_core.services.search import SearchService
from ltrr_core.services.simulation import SimulationConfig, SimulationRun, SimulationSummary
from ltrr_core.vocabulary import DEFAULT_MIX, INTENT_KINDS
from ui.jobs import wait_for_semantic

__all__ = ["DEFAULT_MIX", "INTENT_KINDS", "SimulationConfig", "SimulationRun", "SimulationRunner", "Snapshot"]

PUBLISH_EVERY_S = 0.25  # the page redraws every 0.5 s


@dataclass(frozen=True)
class Snapshot:
    """What the page draws: the history so far, each run's summary (by label) and the runner's status."""

    history: pd.DataFrame
    summaries: dict[str, SimulationSummary]
    status: str  # "queued" | "running" | "paused" | "done" | "stopped" | "error"
    done_rounds: int
    total_rounds: int
    elapsed_s: float
    current: str = ""
    error: str = ""
    waiting_for: str = ""  # what a queued or blocked run waits for (another simulation, the semantic index)

    @property
    def fraction(self) -> float:
        return self.done_rounds / self.total_rounds if self.total_rounds else 0.0


class SimulationRunner:
    """Runs ``configs`` (label -> SimulationConfig) one after the other as one job, each built by
    ``make_run(config)`` once ``search``'s semantic index is ready (the sandboxes share it); once
    every run has ended, ``record(runs)`` keeps what reports read of them.

    Runs are built lazily in the job because a run takes over the sandbox's policy when it is
    created; compared policies therefore run in sequence on the same seeded traffic, and the
    chart fills policy by policy.
    """

    def __init__(self, make_run: Callable[[SimulationConfig], SimulationRun], configs: Mapping[str, SimulationConfig],
                 search: SearchService, name: str = "simulation", batch_size: int = 10,
                 record: Callable[[dict[str, SimulationRun]], object] | None = None) -> None:
        if not configs:
            raise ValueError("configs: give at least one simulation config")
        if batch_size < 1:
            raise ValueError(f"batch_size: {batch_size} must be >= 1")
        self.make_run, self.search, self.name, self.record = make_run, search, name, record
        self.configs = dict(configs)
        self.batch_size = batch_size
        self.finished: dict[str, SimulationRun] = {}
        self.job: Job | None = None
        self._lock = threading.Lock()
        self._go = threading.Event()
        self._history = pd.DataFrame()
        self._summaries: dict[str, SimulationSummary] = {}
        self._done = 0
        self._state = "running"
        self._current = ""
        self._error = ""
        self._started = 0.0
        self._elapsed = 0.0

    @property
    def total_rounds(self) -> int:
        return sum(c.rounds for c in self.configs.values())

    def start(self) -> "SimulationRunner":
        """Submit the runs as one job (queued behind another simulation, if one runs)."""
        self._go.set()
        self.job = job_runner().submit("simulation", self.name, self._work)
        return self

    def pause(self) -> None:
        with self._lock:
            if self._state == "running":
                self._go.clear()
                self._state = "paused"

    def resume(self) -> None:
        with self._lock:
            if self._state == "paused":
                self._state = "running"
                self._go.set()

    def stop(self, wait_s: float = 10.0) -> None:
        """Cancel the job and wait for it (the current batch finishes first)."""
        if self.job is not None:
            job_runner().cancel(self.job.id)
            self._go.set()
            job_runner().wait(self.job.id, wait_s)

    def wait(self, timeout_s: float) -> bool:
        """Block until the job ends (True) or ``timeout_s`` passes (False)."""
        job = job_runner().wait(self.job.id, timeout_s) if self.job else None
        return job is None or job.finished

    def snapshot(self) -> Snapshot:
        """The history so far, with the job's view: queued, stopped, failed, and what it waits for."""
        job = job_runner().get(self.job.id) if self.job else None
        with self._lock:
            status, error = self._state, self._error
        if job is not None and job.status == "queued":
            status = "queued"
        elif job is not None and job.status == "cancelled" and status in ("running", "paused"):
            status = "stopped"
        elif job is not None and job.status == "failed":
            status, error = "error", job.error
        with self._lock:
            return Snapshot(self._history, self._summaries, status, self._done, self.total_rounds, self._elapsed,
                            self._current, error, job.waiting_for if job is not None and not job.finished else "")

    def _publish(self, runs: Mapping[str, SimulationRun], done: int, state: str | None = None, error: str = "") -> None:
        started = {label: run for label, run in runs.items() if run.records}
        frames = [run.history.assign(run=label) for label, run in started.items()]
        history = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        summaries = {label: run.summary() for label, run in started.items()}
        with self._lock:
            self._history = history
            self._summaries = summaries
            self._done = done
            self._elapsed = time.perf_counter() - self._started
            self._state = state or self._state
            self._error = error or self._error

    def _work(self, ctx: JobContext) -> dict[str, SimulationRun]:
        wait_for_semantic(self.search, ctx)  # a sandbox shares the semantic index: it must exist first
        self._started = time.perf_counter()
        done, runs = 0, {}
        try:
            for label, config in self.configs.items():
                with self._lock:
                    self._current = label
                run = runs[label] = self.make_run(config)
                published = 0.0
                for batch in run.iter_batches(size=self.batch_size):
                    done += len(batch)
                    ctx.report(done, self.total_rounds, f"{label}: {done:,} / {self.total_rounds:,} rounds")
                    if time.perf_counter() - published >= PUBLISH_EVERY_S or run.done:
                        self._publish(runs, done)  # rebuilding the history costs O(rounds): not every batch
                        published = time.perf_counter()
                    self._go.wait()
                    if ctx.cancelled:
                        self._publish(runs, done, "stopped")
                        return self.finished
                self.finished[label] = run
            if self.record is not None:
                self.record(self.finished)  # e.g. the runs' report record, once every run has ended
            self._publish(runs, done, "done")
        except Exception as exc:  # shown in the page as a message, not a traceback
            self._publish(runs, done, "error", f"{type(exc).__name__}: {exc}")
        return self.finished

"""A per-session background runner for simulations: start / pause / resume / stop, polled by the page.

The worker thread runs one batch at a time and publishes a copy of the combined history
after each batch; the page's
``st.fragment(run_every=...)`` reads :meth:`SimulationRunner.snapshot` and never blocks.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Mapping

import pandas as pd

from ltrr_core.simulation.intents import DEFAULT_MIX
from ltrr_core.services.simulation_runs import (
    COMPARE_POLICIES,
    SimulationConfig,
    SimulationRun,
    simulate_user_turn,
)
from ltrr_core.simulation.traffic import INTENT_KINDS

__all__ = ["COMPARE_POLICIES", "DEFAULT_MIX", "INTENT_KINDS", "SimulationConfig", "SimulationRun", "SimulationRunner",
           "Snapshot", "simulate_user_turn"]

PUBLISH_EVERY_S = 0.25  # the page redraws every 0.5 s


@dataclass(frozen=True)
class Snapshot:
    """What the page draws: the history so far and the runner's status."""

    history: pd.DataFrame
    status: str  # "running" | "paused" | "done" | "stopped" | "error"
    done_rounds: int
    total_rounds: int
    elapsed_s: float
    current: str = ""
    error: str = ""

    @property
    def fraction(self) -> float:
        return self.done_rounds / self.total_rounds if self.total_rounds else 0.0


class SimulationRunner:
    """Owns the worker thread that runs ``configs`` (label -> SimulationConfig) one after the other.

    Runs are built lazily in the worker with ``make_run(config)`` because a run takes over the
    engine's policy when it is created; compared policies therefore run in sequence on the same
    seeded traffic, and the chart fills policy by policy.
    """

    def __init__(self, make_run: Callable[[SimulationConfig], SimulationRun], configs: Mapping[str, SimulationConfig],
                 batch_size: int = 10) -> None:
        if not configs:
            raise ValueError("configs: give at least one simulation config")
        if batch_size < 1:
            raise ValueError(f"batch_size: {batch_size} must be >= 1")
        self.make_run = make_run
        self.configs = dict(configs)
        self.batch_size = batch_size
        self.finished: dict[str, SimulationRun] = {}
        self._lock = threading.Lock()
        self._go = threading.Event()
        self._stop = threading.Event()
        self._history = pd.DataFrame()
        self._done = 0
        self._state = "running"
        self._current = ""
        self._error = ""
        self._started = time.perf_counter()
        self._elapsed = 0.0
        self._thread = threading.Thread(target=self._work, name="ltrr-simulation", daemon=True)

    @property
    def total_rounds(self) -> int:
        return sum(c.rounds for c in self.configs.values())

    def start(self) -> "SimulationRunner":
        self._go.set()
        self._thread.start()
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
        """Stop the worker and wait for it (the current batch finishes first)."""
        self._stop.set()
        self._go.set()
        if self._thread.is_alive():
            self._thread.join(wait_s)

    def wait(self, timeout_s: float) -> bool:
        """Block until the worker ends (True) or ``timeout_s`` passes (False)."""
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    @property
    def active(self) -> bool:
        return self._thread.is_alive() and not self._stop.is_set()

    def snapshot(self) -> Snapshot:
        with self._lock:
            return Snapshot(self._history, self._state, self._done, self.total_rounds, self._elapsed, self._current,
                            self._error)

    def _publish(self, runs: Mapping[str, SimulationRun], done: int, state: str | None = None, error: str = "") -> None:
        frames = [run.history.assign(run=label) for label, run in runs.items() if run.records]
        history = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        with self._lock:
            self._history = history
            self._done = done
            self._elapsed = time.perf_counter() - self._started
            self._state = state or self._state
            self._error = error or self._error

    def _work(self) -> None:
        done, runs = 0, {}
        try:
            for label, config in self.configs.items():
                with self._lock:
                    self._current = label
                run = runs[label] = self.make_run(config)
                published = 0.0
                for batch in run.iter_batches(size=self.batch_size):
                    done += len(batch)
                    if time.perf_counter() - published >= PUBLISH_EVERY_S or run.done:
                        self._publish(runs, done)  # rebuilding the history costs O(rounds): not every batch
                        published = time.perf_counter()
                    self._go.wait()
                    if self._stop.is_set():
                        self._publish(runs, done, "stopped")
                        return
                self.finished[label] = run
            self._publish(runs, done, "done")
        except Exception as exc:  # shown in the page as a message, not a traceback
            self._publish(runs, done, "error", f"{type(exc).__name__}: {exc}")

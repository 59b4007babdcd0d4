"""The Live learning runner as a job: a run says what it waits for (the semantic index, how far
along; another session's simulation) instead of sitting at 0 rounds, then runs and stops on request."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pandas as pd

from ltrr_core.services.search import WarmingStatus
from ui.sim_runner import SimulationConfig, SimulationRunner

WAIT_S = 20


class WarmingSearch:
    """The search face's warming API, warming until ``ready`` is set."""

    def __init__(self) -> None:
        self.ready = threading.Event()

    def semantic_status(self) -> WarmingStatus:
        if self.ready.is_set():
            return WarmingStatus("ready", "ready", 1.0)
        return WarmingStatus("warming", "embedding catalog · 420 docs/s · 01:10 left", 0.45)

    def wait_until_ready(self, timeout: float | None = None) -> bool:
        return self.ready.wait(timeout)


@dataclass
class CountingRun:
    """Stands in for a SimulationRun: ``rounds`` rounds in batches, each waiting for ``gate``."""

    rounds: int
    gate: threading.Event
    done_rounds: int = 0

    @property
    def done(self) -> bool:
        return self.done_rounds >= self.rounds

    def iter_batches(self, size: int):
        while not self.done:
            self.gate.wait(WAIT_S)
            self.done_rounds += min(size, self.rounds - self.done_rounds)
            yield [None] * size

    @property
    def history(self) -> pd.DataFrame:
        return pd.DataFrame({"round": range(1, self.done_rounds + 1)})

    @property
    def records(self) -> list:
        return [None] * self.done_rounds

    def summary(self) -> str:
        return f"{self.done_rounds} rounds"


def eventually(check, seconds: float = WAIT_S) -> bool:
    stop = threading.Event()
    for _ in range(int(seconds / 0.05)):
        if check():
            return True
        stop.wait(0.05)
    return check()


def test_a_run_says_it_waits_for_the_semantic_index_and_how_far_along_then_runs():
    search, gate, built = WarmingSearch(), threading.Event(), []
    gate.set()

    def make_run(config: SimulationConfig) -> CountingRun:
        built.append(config.policy)
        return CountingRun(config.rounds, gate)

    runner = SimulationRunner(make_run, {"linucb": SimulationConfig(rounds=30)}, search, name="warming").start()
    try:
        assert eventually(lambda: "semantic" in runner.snapshot().waiting_for)
        snap = runner.snapshot()
        assert snap.status == "running" and snap.done_rounds == 0 and built == []
        assert snap.waiting_for == ("the semantic index to finish warming: embedding catalog · 420 docs/s · "
                                    "01:10 left (45%)")
        search.ready.set()
        assert runner.wait(WAIT_S)
        snap = runner.snapshot()
        assert (snap.status, snap.done_rounds, snap.waiting_for, built) == ("done", 30, "", ["linucb"])
    finally:
        search.ready.set()
        runner.stop()


def test_a_second_sessions_simulation_is_queued_naming_the_one_it_waits_for_and_stop_ends_both():
    search, gate = WarmingSearch(), threading.Event()
    search.ready.set()
    configs = {"linucb": SimulationConfig(rounds=1000)}
    first = SimulationRunner(lambda c: CountingRun(c.rounds, gate), configs, search, name="session A").start()
    second = SimulationRunner(lambda c: CountingRun(c.rounds, gate), configs, search, name="session B").start()
    try:
        assert eventually(lambda: second.snapshot().waiting_for.startswith("the running simulation"))
        snap = second.snapshot()
        assert snap.status == "queued" and "session A" in snap.waiting_for and snap.done_rounds == 0
    finally:
        gate.set()
        first.stop()
        second.stop()
    assert first.snapshot().status == "stopped" and second.snapshot().status in ("stopped", "done")


def test_finished_runs_are_recorded_once_every_run_has_ended_and_a_stopped_one_is_not():
    search, gate, recorded = WarmingSearch(), threading.Event(), []
    search.ready.set()
    gate.set()
    configs = {"linucb": SimulationConfig(rounds=20), "random": SimulationConfig(policy="random", rounds=20)}
    runner = SimulationRunner(lambda c: CountingRun(c.rounds, gate), configs, search, name="recorded",
                              record=lambda runs: recorded.append(sorted(runs))).start()
    assert runner.wait(WAIT_S) and runner.snapshot().status == "done"
    assert recorded == [["linucb", "random"]]

    stopped_gate, recorded = threading.Event(), []
    stopped = SimulationRunner(lambda c: CountingRun(c.rounds, stopped_gate), {"linucb": SimulationConfig(rounds=1000)},
                               search, name="stopped", record=recorded.append).start()
    stopped.stop()
    stopped_gate.set()
    assert stopped.wait(WAIT_S) and stopped.snapshot().status == "stopped" and recorded == []

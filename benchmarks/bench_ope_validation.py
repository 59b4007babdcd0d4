"""Off-policy estimators graded against the simulator, as Open Bandit Pipeline reports them.

A uniformly random policy over a small action space (``--max-arms 2``, one depth: 21 subsets of
the six strategies) logs ``--rounds`` searches per seed; every target is a fixed subset whose
true value is its on-policy rewarded rate, measured by running that target in the simulator on
``--truth-rounds`` searches of fresh traffic. For every estimator, target and log size (the
first 5k and all 20k rounds of each log): the median relative error ``|estimate - truth| / truth``
over seeds and the share of seeds whose 95% interval covers the truth. ``all`` (six strategies,
more than the logging policy's ``max_arms``) is reported without support.

Run (the full table: 10 seeds x 20k rounds, about 30 minutes of one core)::

    LTRR_CACHE_DIR=/tmp/ltrr_test_cache nice -n 10 .venv/bin/python benchmarks/bench_ope_validation.py \\
        --seeds 0-9 --rounds 20000 --work /tmp/ope_bench --out benchmarks/ope_validation.json

Simulated logs and truths are cached in ``--work`` (npz/json), so a run can be split over several
invocations (``--seeds 0-2``, then ``--seeds 3-5``, ...) and the table recomputed without simulating.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from ltrr_core.engine import Engine
from ltrr_core.feedback.records import BanditLogRecord
from ltrr_core.simulation.runs import SimulationConfig, SimulationRun

SUPPORTED = ("fixed:lexical", "fixed:semantic", "fixed:structured", "fixed:lexical+semantic")
TARGETS = SUPPORTED + ("all",)  # all: six strategies, beyond the logging policy's max_arms
LOGGING = "random"


def _seeds(text: str) -> list[int]:
    if "-" in text:
        low, high = text.split("-")
        return list(range(int(low), int(high) + 1))
    return [int(s) for s in text.split(",")]


def _save_log(path: Path, log: list[BanditLogRecord]) -> None:
    np.savez_compressed(
        path,
        search_id=np.array([r.search_id for r in log]),
        features=np.array([r.features for r in log]),
        chosen=np.array(["|".join(r.chosen_arms) for r in log]),
        propensity=np.array([r.propensity for r in log]),
        rewards=np.array([json.dumps(r.rewards, sort_keys=True) for r in log]),
        policy=np.array([r.policy for r in log]),
    )


def load_log(path: Path) -> list[BanditLogRecord]:
    data = np.load(path)
    return [BanditLogRecord(int(i), tuple(f), tuple(c.split("|")), float(p), json.loads(r), str(pol))
            for i, f, c, p, r, pol in zip(data["search_id"], data["features"], data["chosen"], data["propensity"],
                                          data["rewards"], data["policy"])]


def _simulate(engine: Engine, config: SimulationConfig, label: str) -> SimulationRun:
    run = SimulationRun(engine, config, name=f"opeval-{label}")
    start = time.perf_counter()
    for _ in run.iter_batches(500):
        done = len(run.records)
        rate = done / (time.perf_counter() - start)
        print(f"\r{label}: {done}/{config.rounds} searches, {rate:.0f}/s, "
              f"{(config.rounds - done) / rate:.0f} s left", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return run


def simulate_logs(engine: Engine, seeds: list[int], rounds: int, params: dict, work: Path) -> None:
    for seed in seeds:
        path = work / f"log-{LOGGING}-n{rounds}-seed{seed}.npz"
        if path.exists():
            continue
        config = SimulationConfig(rounds=rounds, seed=seed, policy=LOGGING, policy_params=params)
        run = _simulate(engine, config, f"log seed {seed}")
        _save_log(path, run.engine.bandit_log())


def simulate_truths(engine: Engine, rounds: int, params: dict, work: Path, seed: int = 1000) -> dict[str, float]:
    truths = {}
    for target in SUPPORTED:
        path = work / f"truth-{target.replace(':', '_')}-n{rounds}.json"
        if not path.exists():
            config = SimulationConfig(rounds=rounds, seed=seed, policy=target, policy_params=params)
            run = _simulate(engine, config, f"truth {target}")
            values = [max(r.rewards.values()) for r in run.records if r.rewards]
            path.write_text(json.dumps({"value": float(np.mean(values)), "n": len(values)}))
        truths[target] = json.loads(path.read_text())["value"]
    return truths

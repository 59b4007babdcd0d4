"""Warm start by replay vs a cold bandit: regret over the next live rounds, same seeds.

Per seed: simulated users search a sandbox whose bandit picks random strategy subsets (the
"other system" whose log we import) for ``--logged`` searches; the sandbox's log is written as an
interaction log. Then two LinUCB runs serve the same ``--live`` simulated rounds (same traffic,
same click randomness): one cold, one that first imported the log and warm-started by replay
(which also warms the memory index). Regret is the simulator's truth (oracle hit - hit), used
only for reporting. Prints one line per seed and the paired difference with a t interval.

Run: ``nice -n 10 .venv/bin/python benchmarks/bench_warm_start.py --cache-dir /tmp/ltrr_test_cache
[--seeds 1 2 3] [--logged 5000] [--live 1000]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import stats

from ltrr_core.config import Settings
from ltrr_core.engine import Engine
from ltrr_core.simulation.runs import SimulationConfig, SimulationRun


def one_seed(engine: Engine, seed: int, logged: int, live: int, folder: Path) -> dict:
    started = time.perf_counter()
    log_run = SimulationRun(engine, SimulationConfig(rounds=logged, seed=1000 + seed, policy="random"),
                            name=f"bench-log-{seed}").run()
    log = folder / f"log-{seed}.csv"
    rows = log_run.engine.export_log(log)
    config = SimulationConfig(rounds=live, seed=seed, policy="linucb")
    cold = SimulationRun(engine, config, name=f"bench-cold-{seed}").run()
    warm = SimulationRun(engine, config, name=f"bench-warm-{seed}")
    imported = warm.engine.import_log(log)
    replay_start = time.perf_counter()
    summary = warm.engine.warm_start()
    replay_s = time.perf_counter() - replay_start
    warm.run()
    out = {"seed": seed, "log_rows": rows, "log_events": imported.events, "pages": summary["pages"],
           "replay_s": round(replay_s, 1), "replay_pages_per_s": round(summary["pages"] / replay_s, 1),
           "cold_regret": cold.summary()["cumulative_regret"], "warm_regret": warm.summary()["cumulative_regret"],
           "cold_hit_rate": round(cold.summary()["hit_rate"], 4), "warm_hit_rate": round(warm.summary()["hit_rate"], 4),
           "cold_candidates": round(cold.summary()["candidates_per_search"], 1),
           "warm_candidates": round(warm.summary()["candidates_per_search"], 1),
           "seconds": round(time.perf_counter() - started, 1)}
    print(json.dumps(out), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--logged", type=int, default=5000)
    parser.add_argument("--live", type=int, default=1000)
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(cache_dir=args.cache_dir, db_path=str(Path(tmp) / "bench.db"))
        engine = Engine.open("default", settings)
        engine.warm_up()
        results = [one_seed(engine, seed, args.logged, args.live, Path(tmp)) for seed in args.seeds]
    diff = np.array([r["cold_regret"] - r["warm_regret"] for r in results], dtype=float)
    cold = np.array([r["cold_regret"] for r in results], dtype=float)
    warm = np.array([r["warm_regret"] for r in results], dtype=float)
    half = stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else float("nan")
    print(json.dumps({"seeds": args.seeds, "logged": args.logged, "live": args.live,
                      "cold_regret_mean": cold.mean(), "warm_regret_mean": warm.mean(),
                      "regret_reduction_mean": diff.mean(), "regret_reduction_95ci": [diff.mean() - half, diff.mean() + half]}))


if __name__ == "__main__":
    main()

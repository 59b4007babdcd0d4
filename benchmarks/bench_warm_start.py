"""Warm start by replay vs a cold bandit: regret over the next live rounds, same seeds.

Per seed: simulated users search a sandbox whose bandit picks random strategy subsets (the
"other system" whose log we import) for ``--logged`` searches; the sandbox's log is written as an
interaction log (157 searches give about 5,000 events: impressions, clicks, engagements). Then
two LinUCB runs serve the same ``--live`` simulated rounds (same traffic, same click randomness,
same bandit seed): one cold, one that first imported the log and warm-started by replay (which
also warms the memory index; a replayed round counts ``--replay-weight`` of a live one). Regret
is the simulator's truth (oracle hit - hit), used only for reporting. Prints one line per seed
(with the share of replayed pages that graded each strategy: those that exposed it), then per
checkpoint round the mean cumulative regret of both and the paired saving (cold - warm) with a
95% t interval over seeds.

Run: ``nice -n 19 .venv/bin/python benchmarks/bench_warm_start.py --cache-dir /tmp/ltrr_bench_cache
[--seeds 1 2 3] [--logged 157] [--live 1000] [--replay-weight W]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import stats

from ltrr_core.base.config import Settings
from ltrr_core.engine import Engine
from ltrr_core.selection.bandit import PolicyConfig, split_arm
from ltrr_core.services.simulation_runs import SimulationConfig, SimulationRun

CHECKPOINTS = (100, 250, 500, 1000)


def one_seed(engine: Engine, seed: int, logged: int, live: int, folder: Path, policy_params: dict) -> dict:
    started = time.perf_counter()
    log_run = SimulationRun(engine, SimulationConfig(rounds=logged, seed=1000 + seed, policy="random"),
                            name=f"bench-log-{seed}").run()
    log = folder / f"log-{seed}.csv"
    log_run.engine.logs.export_log(log)
    config = SimulationConfig(rounds=live, seed=seed, policy="linucb", policy_params=policy_params)
    cold = SimulationRun(engine, config, name=f"bench-cold-{seed}").run()
    warm = SimulationRun(engine, config, name=f"bench-warm-{seed}")
    imported = warm.engine.logs.import_log(log)
    replay_start = time.perf_counter()
    summary = warm.engine.logs.warm_start()
    replay_s = time.perf_counter() - replay_start
    warm.run()
    graded = {split_arm(arm)[0]: n / summary.pages for arm, n in summary.arm_rounds.items()}
    out = {"seed": seed, "log_events": imported.events, "pages": summary.pages,
           "rewarded_pages": summary.rewarded, "rounds": summary.rounds,
           "graded": {name: round(share, 3) for name, share in graded.items()}, "replay_s": round(replay_s, 1)}
    for name, run in (("cold", cold), ("warm", warm)):
        result = run.summary()
        regret = np.cumsum([r.regret for r in run.records])
        out |= {f"{name}_regret": result.cumulative_regret, f"{name}_hit_rate": round(result.hit_rate, 4),
                f"{name}_candidates": round(result.candidates_per_search, 1),
                f"{name}_curve": {c: int(regret[c - 1]) for c in CHECKPOINTS if c <= len(regret)}}
    out["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(out), flush=True)
    return out


def interval(values: np.ndarray) -> list[float]:
    """The 95% t interval of the mean of ``values`` (nan with one value)."""
    if len(values) < 2:
        return [float("nan")] * 2
    half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return [round(values.mean() - half, 2), round(values.mean() + half, 2)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--logged", type=int, default=157, help="logged searches (157: about 5,000 events)")
    parser.add_argument("--live", type=int, default=1000)
    parser.add_argument("--replay-weight", type=float, default=None,
                        help="what a replayed round counts, a live one counting 1 (default: the policy's)")
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(cache_dir=args.cache_dir, db_path=str(Path(tmp) / "bench.db"))
        engine = Engine.open("default", settings)
        engine.searching.warm_up()
        params = {} if args.replay_weight is None else {"replay_weight": args.replay_weight}
        results = [one_seed(engine, seed, args.logged, args.live, Path(tmp), params) for seed in args.seeds]
    def column(key: str) -> np.ndarray:
        return np.array([r[key] for r in results], dtype=float)

    curves = {}
    for c in (c for c in CHECKPOINTS if c <= args.live):
        cold, warm = (np.array([r[f"{name}_curve"][c] for r in results], dtype=float) for name in ("cold", "warm"))
        curves[c] = {"cold": round(cold.mean(), 2), "warm": round(warm.mean(), 2),
                     "saving": round((cold - warm).mean(), 2), "saving_95ci": interval(cold - warm)}
    print(json.dumps({"seeds": args.seeds, "logged": args.logged, "live": args.live,
                      "replay_weight": PolicyConfig(**params).replay_weight,
                      "log_events_mean": column("log_events").mean(),
                      "rewarded_pages_mean": column("rewarded_pages").mean(), "rounds_mean": column("rounds").mean(),
                      "graded_mean": {name: round(float(np.mean([r["graded"][name] for r in results])), 3)
                                      for name in results[0]["graded"]},
                      **{f"{name}_{key}_mean": round(column(f"{name}_{key}").mean(), 4)
                         for name in ("cold", "warm") for key in ("regret", "hit_rate", "candidates")},
                      "regret_saving_mean": round((column("cold_regret") - column("warm_regret")).mean(), 2),
                      "regret_saving_95ci": interval(column("cold_regret") - column("warm_regret")),
                      "cumulative_regret_at": curves}))


if __name__ == "__main__":
    main()

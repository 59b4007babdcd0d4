"""Off-policy estimators graded against the simulator, as Open Bandit Pipeline reports them.

The simulated users (their tastes) are one fixed population; seeds vary the traffic and clicks.
A uniformly random policy over a small action space (``--max-arms 2``, one depth: 21 subsets of
the six strategies) logs ``--rounds`` searches per seed; every target is a fixed subset whose
true value is its on-policy rewarded rate, measured by running that target in the simulator on
``--truth-rounds`` searches of fresh traffic. For every estimator, target and log size (the
first 5k and all 20k rounds of each log): the median relative error ``|estimate - truth| / truth``
over seeds and the share of seeds whose 95% interval covers the truth. ``all`` (six strategies,
more than the logging policy's ``max_arms``) is reported without support.

Run (the committed table: 30 seeds x 20k rounds, truths of 20k searches; about 20 minutes of one
core per 10 seeds on an idle machine)::

    LTRR_CACHE_DIR=/tmp/ltrr_bench_cache nice -n 10 .venv/bin/python benchmarks/bench_ope_validation.py \\
        --seeds 0-29 --rounds 20000 --work /tmp/ope_bench --out benchmarks/ope_validation.json

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

from ltrr_core.base.config import Settings
from ltrr_core.engine import Engine
from ltrr_core.evaluation.estimators import ESTIMATORS
from ltrr_core.evaluation.offpolicy import evaluate_policies
from ltrr_core.base.records import BanditLogRecord
from ltrr_core.retrieval.registry import STRATEGY_ORDER
from ltrr_core.selection.bandit import Bandit, PolicyConfig
from ltrr_core.selection.context import context_feature_names
from ltrr_core.simulation.profiles import make_profiles
from ltrr_core.services.simulation_runs import SimulationConfig, SimulationRun
from ltrr_core.simulation.traffic import TrafficGenerator

SUPPORTED = ("fixed:lexical", "fixed:semantic", "fixed:structured", "fixed:lexical+semantic")
TARGETS = SUPPORTED + ("all",)  # all: six strategies, beyond the logging policy's max_arms
LOGGING = "random"
USERS_SEED = 0  # one population of simulated users for every log and truth (a seed's profiles are its tastes)


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


def _simulate(engine: Engine, config: SimulationConfig, label: str, users: int = USERS_SEED) -> SimulationRun:
    """One run with the population of users drawn with seed ``users``: seeds vary the traffic and clicks."""
    catalog = engine.runtime.catalog
    traffic = TrafficGenerator(catalog, seed=config.seed, profiles=make_profiles(catalog, seed=users))
    run = SimulationRun(engine, config, traffic=traffic, name=f"opeval-{label}")
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
        _save_log(path, run.engine.learning.bandit_log())


def truth_path(work: Path, target: str, rounds: int, users: int) -> Path:
    return work / f"truth-{target.replace(':', '_')}-n{rounds}-users{users}.json"


def simulate_truths(engine: Engine, rounds: int, params: dict, work: Path, users: int = USERS_SEED,
                    seed: int = 1000) -> dict[str, float]:
    truths = {}
    for target in SUPPORTED:
        path = truth_path(work, target, rounds, users)
        if not path.exists():
            config = SimulationConfig(rounds=rounds, seed=seed, policy=target, policy_params=params)
            run = _simulate(engine, config, f"truth {target}", users)
            values = [max(r.rewards.values()) for r in run.records if r.rewards]
            path.write_text(json.dumps({"value": float(np.mean(values)), "n": len(values)}))
        truths[target] = json.loads(path.read_text())["value"]
    return truths


def logging_bandit(params: dict) -> Bandit:
    strategies = list(STRATEGY_ORDER)
    return Bandit(strategies, len(context_feature_names(strategies)), PolicyConfig(name=LOGGING, **params))


def estimate_blocks(work: Path, rounds: int, sizes: list[int], params: dict, n_bootstrap: int) -> list[dict]:
    """Every cached log cut into disjoint blocks of each size: every target's estimates per block
    (cached in ``work`` as json, so a later run only estimates new logs)."""
    bandit, blocks = logging_bandit(params), []
    for path in sorted(work.glob(f"log-{LOGGING}-n{rounds}-seed*.npz")):
        log = None
        for size in sizes:
            for block in range(rounds // size):
                cached = work / f"est-{path.stem}-n{size}-b{block}-B{n_bootstrap}.json"
                if not cached.exists():
                    log = log or load_log(path)
                    start = time.perf_counter()
                    out = evaluate_policies(bandit, log[block * size:(block + 1) * size], list(TARGETS), n_bootstrap,
                                            seed=block)
                    cached.write_text(json.dumps({t: {key: r.to_json()[key] for key in ("estimates", "no_support")}
                                                  for t, r in out.items()}))
                    print(f"{path.stem} block {block} ({size:,}): {time.perf_counter() - start:.1f} s", file=sys.stderr)
                blocks.append({"log": path.stem, "n_logged": size, "block": block,
                               "targets": json.loads(cached.read_text())})
    return blocks


def grade(blocks: list[dict], truths: dict[str, float]) -> tuple[list[dict], list[dict]]:
    """Per log size, target and estimator: median relative error over blocks and 95% interval coverage."""
    rows, unsupported = [], {}
    sizes = sorted({b["n_logged"] for b in blocks})
    for size in sizes:
        mine = [b for b in blocks if b["n_logged"] == size]
        for target in TARGETS:
            for block in mine:
                if block["targets"][target]["no_support"]:
                    unsupported[target] = block["targets"][target]["no_support"]
            if target not in truths:
                continue
            truth = truths[target]
            for name in ESTIMATORS:
                found = [b["targets"][target]["estimates"][name] for b in mine if b["targets"][target]["estimates"]]
                if not found:
                    continue
                errors = [abs(r["value"] - truth) / truth for r in found]
                rows.append({"n_logged": size, "target": target, "estimator": name, "truth": round(truth, 4),
                             "replicates": len(found), "median_relative_error": round(float(np.median(errors)), 4),
                             "coverage": round(float(np.mean([r["ci_low"] <= truth <= r["ci_high"] for r in found])), 3),
                             "mean_interval_width": round(float(np.mean([r["ci_high"] - r["ci_low"] for r in found])), 4)})
    return rows, [{"target": t, "no_support": why} for t, why in sorted(unsupported.items())]


def table(rows: list[dict]) -> str:
    """Markdown: one line per (log size, estimator), one column per target: median rel. error / coverage."""
    targets = sorted({r["target"] for r in rows})
    lines = ["| logged | estimator | " + " | ".join(targets) + " |", "| --- | --- |" + " --- |" * len(targets)]
    for size in sorted({r["n_logged"] for r in rows}):
        for name in ESTIMATORS:
            cells = {r["target"]: f"{r['median_relative_error']:.3f} / {r['coverage']:.0%}"
                     for r in rows if r["n_logged"] == size and r["estimator"] == name}
            if cells:
                lines.append(f"| {size:,} | {name} | " + " | ".join(cells.get(t, "-") for t in targets) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0-9", help="logging seeds: 0-9 or 0,3,5")
    parser.add_argument("--rounds", type=int, default=20_000, help="logged searches per seed")
    parser.add_argument("--sizes", default="5000,20000", help="log sizes graded (disjoint blocks of each log)")
    parser.add_argument("--truth-rounds", type=int, default=20_000,
                        help="on-policy searches per target's truth (standard error about 0.0035 at 20,000)")
    parser.add_argument("--truth-users", type=int, default=USERS_SEED,
                        help="seed of the users' population for the truths (the logs use USERS_SEED's)")
    parser.add_argument("--max-arms", type=int, default=2)
    parser.add_argument("--bootstrap", type=int, default=100, help="bootstrap replicates (each refits the reward model)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/ope_bench"))
    parser.add_argument("--out", type=Path, default=None, help="write the table as JSON (benchmarks/ope_validation.json)")
    parser.add_argument("--no-simulate", action="store_true", help="grade the cached logs and truths only")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    params = {"max_arms": args.max_arms, "depths": (100,)}
    if not args.no_simulate:
        engine = Engine.open("default", Settings.from_env(db_path=args.work / "live.db"))
        engine.searching.warm_up()
        simulate_logs(engine, _seeds(args.seeds), args.rounds, params, args.work)
        truths = simulate_truths(engine, args.truth_rounds, params, args.work, args.truth_users)
    else:
        paths = {t: truth_path(args.work, t, args.truth_rounds, args.truth_users) for t in SUPPORTED}
        truths = {t: json.loads(p.read_text())["value"] for t, p in paths.items() if p.exists()}
    sizes = [int(s) for s in args.sizes.split(",")]
    blocks = estimate_blocks(args.work, args.rounds, sizes, params, args.bootstrap)
    rows, unsupported = grade(blocks, truths)
    seeds = sorted({p.stem for p in args.work.glob(f"log-{LOGGING}-n{args.rounds}-seed*.npz")})
    result = {
        "command": " ".join(["benchmarks/bench_ope_validation.py", *sys.argv[1:]]),
        "setup": (f"{len(seeds)} logs of {args.rounds:,} searches by the uniformly random policy over "
                  f"{len(logging_bandit(params).subsets)} subsets (max_arms {args.max_arms}, depth 100) on the default "
                  f"catalog (users of seed {USERS_SEED}); a log size's replicates are the disjoint blocks of that size; "
                  f"truths: each target run on-policy for {args.truth_rounds:,} searches (users of seed "
                  f"{args.truth_users}); {args.bootstrap} bootstrap replicates, reward model "
                  "refitted in each"),
        "logs": seeds, "truths": {t: v for t, v in truths.items() if t in SUPPORTED},
        "rows": rows, "unsupported": unsupported,
    }
    print(table(rows))
    for row in unsupported:
        print(f"{row['target']}: {row['no_support']}")
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()

"""Position bias estimated vs the simulator's truth, and naive vs debiased LTR on simulated clicks.

Simulated users (position-based examination ``1 / rank**0.5``, the simulator's default) search a
sandbox whose bandit picks random strategy subsets, so results land at different ranks across
searches. The examination curve is estimated from that log by intervention harvesting
(:mod:`ltrr_core.feedback.position_bias`) the way the engine does it (pages the click-learning
``memory`` strategy helped rank left out) and, to show why, harvesting every page; both are
compared with the truth. The log is then imported and LambdaMART is trained on its clicks: naive
(clicks as labels), IPS-weighted with the engine's estimated curve, with the every-page curve and
with the true curve, and position-aware (LightGBM's unbiased lambdarank, no curve). Each is scored
by nDCG@10 on the simulator's true relevance for held-out simulated intents (the truth is used
only here).

Run: ``PYTHONPATH=. nice -n 10 .venv/bin/python benchmarks/bench_position_bias.py --cache-dir /tmp/ltrr_test_cache
[--rounds 6000] [--test 300] [--seed 5]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from ltrr_core.base.config import Settings
from ltrr_core.engine import Engine
from ltrr_core.base.metrics import per_query
from ltrr_core.base.examination import ExaminationCurve, examination
from ltrr_core.feedback.position_bias import estimate_from_impressions
from ltrr_core.feedback.click_training import MAX_WEIGHT, click_groups
from ltrr_core.ranking.ltr import LTRParams, LTRRanker
from ltrr_core.ranking.rankers import InterleaveRanker
from ltrr_core.services.simulation_runs import SimulationConfig, SimulationRun
from ltrr_core.simulation.traffic import TrafficGenerator

SHOWN = 20
DEPTH = 100


def ndcg_by_query(engine: Engine, rankers: dict, intents) -> dict[str, dict[str, float]]:
    runs: dict[str, dict] = {name: {} for name in rankers}
    qrels = {}
    for i, intent in enumerate(intents):
        replayed = engine.runtime.pipeline.replay(intent.query, {s: DEPTH for s in engine.runtime.strategy_names})
        if not len(replayed.pool):
            continue
        qid = f"q{i}"
        qrels[qid] = {e: 1 for e in intent.relevant}
        for name, ranker in rankers.items():
            scores = ranker.score(replayed.features)
            runs[name][qid] = dict(zip(replayed.pool.ids, map(float, scores)))
    return {name: per_query(qrels, run, "ndcg@10") for name, run in runs.items()}


def paired_ci(a: np.ndarray, b: np.ndarray, seed: int = 0, n: int = 2000) -> list[float]:
    rng = np.random.default_rng(seed)
    d = a - b
    means = [d[rng.integers(0, len(d), len(d))].mean() for _ in range(n)]
    return [round(float(np.quantile(means, 0.025)), 4), round(float(np.quantile(means, 0.975)), 4)]


def ips(groups, curve):
    """The naive groups reweighted: each clicked row by the inverse examination of the rank it was shown at."""
    return [replace(g, weights=np.where(g.labels > 0, np.minimum(1.0 / np.array([curve(int(p)) for p in g.positions]),
                                                                 MAX_WEIGHT), 1.0)) for g in groups]


def summary(estimate, truth) -> dict:
    error = np.abs(np.array(estimate.theta) - np.array(truth))
    return {"eta": round(estimate.eta, 4), "eta_interval": [round(v, 4) for v in estimate.eta_interval],
            "max_abs_error_1_10": round(float(error[:10].max()), 4), "max_abs_error_1_20": round(float(error.max()), 4),
            "pairs": estimate.pairs, "pages": estimate.pages, "pages_left_out": estimate.pages_left_out,
            "rank_shift": None if estimate.rank_shift is None else round(estimate.rank_shift, 3),
            "rank_shift_interval": [round(v, 3) for v in estimate.rank_shift_interval],
            "applied": estimate.usable, "refusals": estimate.refusals}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=6000)
    parser.add_argument("--test", type=int, default=300)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(cache_dir=args.cache_dir, db_path=str(Path(tmp) / "bench.db"))
        engine = Engine.open("default", settings)
        engine.searching.warm_up()
        config = SimulationConfig(rounds=args.rounds, seed=args.seed, policy="random", shown=SHOWN)
        run = SimulationRun(engine, config, name="bench-bias").run()
        eta = config.click_model.eta
        truth = [r ** -eta for r in range(1, SHOWN + 1)]
        estimate = run.engine.logs.estimate_position_bias(max_rank=SHOWN)  # applied only if trustworthy
        store = run.engine.runtime.store
        everything = estimate_from_impressions(store.position_impressions(), SHOWN)  # memory pages too
        print(json.dumps({"rounds": args.rounds, "truth_eta": eta, "engine (memory pages left out)": summary(estimate, truth),
                          "every page harvested": summary(everything, truth),
                          "curve in use": store.curve.source}))
        print("rank | truth 1/r^0.5 | estimate | 95% interval | per-rank factor | every page harvested | "
              "prior 1/log2(r+1) | harvested impressions")
        for r in range(SHOWN):
            print(f"{r + 1} | {truth[r]:.3f} | {estimate.theta[r]:.3f} | {estimate.lower[r]:.3f}-{estimate.upper[r]:.3f} | "
                  f"{estimate.raw[r]:.3f} | {everything.theta[r]:.3f} | {examination(r + 1):.3f} | {estimate.impressions[r]}")
        log = Path(tmp) / "log.csv"
        run.engine.logs.export_log(log)
        learner = engine.sandbox("bench-bias-import")
        learner.logs.import_log(log)
        naive = click_groups(learner.runtime.pipeline, learner.runtime.store.logged_pages(), DEPTH, None)
        trainings = {
            "naive": (naive, LTRParams()),
            "ips_estimated": (ips(naive, ExaminationCurve(estimate.theta)), LTRParams()),
            "ips_every_page_estimate": (ips(naive, ExaminationCurve(everything.theta)), LTRParams()),
            "ips_true": (ips(naive, ExaminationCurve(tuple(truth))), LTRParams()),
            "position_aware_lambdarank": (naive, LTRParams(position_aware=True)),
        }
        rankers = {"interleave (logging ranker)": InterleaveRanker()}
        for name, (groups, params) in trainings.items():
            ranker = LTRRanker(params)
            report = ranker.train(groups, seed=0)
            rankers[name] = ranker
            print(json.dumps({"ranker": name, "groups": report.groups_used, "best_iteration": report.best_iteration}))
        intents = TrafficGenerator(engine.runtime.catalog, seed=args.seed + 1000).draw(args.test)
        scores = ndcg_by_query(learner, rankers, intents)
        qids = sorted(scores["naive"])
        table = {name: np.array([s[q] for q in qids]) for name, s in scores.items()}
        print(f"ranker | nDCG@10 on true relevance ({len(qids)} intents) | vs naive (95% paired bootstrap)")
        for name, values in table.items():
            print(f"{name} | {values.mean():.4f} | {paired_ci(values, table['naive'])}")
    print(json.dumps({"seconds": round(time.perf_counter() - started, 1)}))


if __name__ == "__main__":
    main()

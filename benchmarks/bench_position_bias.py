"""Position bias estimated vs the simulator's truth, and naive vs debiased LTR on simulated clicks.

Simulated users (position-based examination ``1 / rank**0.5``, the simulator's default) search a
sandbox whose bandit picks random strategy subsets, so results land at different ranks across
searches. The examination curve is estimated from that log by intervention harvesting
(:mod:`ltrr_core.feedback.position_bias`) and compared with the truth. The log is then imported
and LambdaMART is trained on its clicks three ways: naive (clicks as labels), IPS-weighted with
the estimated curve, IPS-weighted with the true curve. Each is scored by nDCG@10 on the
simulator's true relevance for held-out simulated intents (the truth is used only here).

Run: ``PYTHONPATH=. nice -n 10 .venv/bin/python benchmarks/bench_position_bias.py --cache-dir /tmp/ltrr_test_cache
[--rounds 2000] [--test 300] [--seed 5]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from ltrr_core.config import Settings
from ltrr_core.engine import Engine
from ltrr_core.evaluation.metrics import per_query
from ltrr_core.feedback.examination import ExaminationCurve, examination
from ltrr_core.ranking.click_training import click_groups
from ltrr_core.ranking.ltr import LTRRanker
from ltrr_core.ranking.rankers import InterleaveRanker
from ltrr_core.simulation.runs import SimulationConfig, SimulationRun
from ltrr_core.simulation.traffic import TrafficGenerator

SHOWN = 20
DEPTH = 100


def ndcg_by_query(engine: Engine, rankers: dict, intents) -> dict[str, dict[str, float]]:
    runs: dict[str, dict] = {name: {} for name in rankers}
    qrels = {}
    for i, intent in enumerate(intents):
        replayed = engine.pipeline.replay(intent.query, {s: DEPTH for s in engine.strategy_names})
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--test", type=int, default=300)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(cache_dir=args.cache_dir, db_path=str(Path(tmp) / "bench.db"))
        engine = Engine.open("default", settings)
        engine.warm_up()
        config = SimulationConfig(rounds=args.rounds, seed=args.seed, policy="random", shown=SHOWN)
        run = SimulationRun(engine, config, name="bench-bias").run()
        eta = config.click_model.eta
        truth = [r ** -eta for r in range(1, SHOWN + 1)]
        estimate = run.engine.estimate_position_bias(max_rank=SHOWN, apply=False)
        error = np.abs(np.array(estimate.theta) - np.array(truth))
        print(json.dumps({"rounds": args.rounds, "pairs": estimate.pairs, "truth_eta": eta, "eta": estimate.eta,
                          "max_abs_error_1_10": round(float(error[:10].max()), 4),
                          "max_abs_error_1_20": round(float(error.max()), 4)}))
        print("rank | truth 1/r^0.5 | estimated (power law) | per-rank factor | prior 1/log2(r+1) | harvested")
        for r in range(SHOWN):
            print(f"{r + 1} | {truth[r]:.3f} | {estimate.theta[r]:.3f} | {estimate.raw[r]:.3f} | "
                  f"{examination(r + 1):.3f} | {estimate.impressions[r]}")
        log = Path(tmp) / "log.csv"
        run.engine.export_log(log)
        learner = engine.sandbox("bench-bias-import")
        learner.import_log(log)
        pages = learner.store.logged_pages()
        curves = {"naive": None, "ips_estimated": ExaminationCurve(estimate.theta), "ips_true": ExaminationCurve(tuple(truth))}
        rankers = {"interleave (logging ranker)": InterleaveRanker()}
        for name, curve in curves.items():
            groups = click_groups(learner.pipeline, pages, DEPTH, curve)
            ranker = LTRRanker()
            report = ranker.train(groups, seed=0)
            rankers[name] = ranker
            print(json.dumps({"ranker": name, "groups": report.groups_used, "best_iteration": report.best_iteration}))
        intents = TrafficGenerator(engine.catalog, seed=args.seed + 1000).draw(args.test)
        scores = ndcg_by_query(learner, rankers, intents)
        qids = sorted(scores["naive"])
        table = {name: np.array([s[q] for q in qids]) for name, s in scores.items()}
        print("ranker | nDCG@10 on true relevance | vs naive (95% paired bootstrap)")
        for name, values in table.items():
            print(f"{name} | {values.mean():.4f} | {paired_ci(values, table['naive'])}")


if __name__ == "__main__":
    main()

"""Ranking-tier timings on the default catalog: build_features, LTR predict, fusion, pred_contrib.

Run: ``.venv/bin/python benchmarks/bench_ranker.py [--queries 50] [--depth 100]``.
Prints medians and p95 in ms per query; pool sizes are the real union of every strategy.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from ltrr_core.catalog.sources import load_catalog
from ltrr_core.base.config import Settings
from ltrr_core.ranking.features import FEATURE_NAMES, build_features, catalog_features
from ltrr_core.ranking.ltr import LTRRanker, TrainingGroup
from ltrr_core.ranking.pool import CandidatePool
from ltrr_core.ranking.rankers import FusionRanker
from ltrr_core.retrieval.resources import Resources
from ltrr_core.retrieval.strategies.semantic import query_text
from ltrr_core.selection.context import Context

QUERIES = [
    "love songs", "podcasts about bread", "80s rock", "taylor swift", "chill jazz for studying",
    "workout playlist", "spanish pop", "sad piano", "news podcast", "beyonce", "lofi beats",
    "classical music", "hip hop 90s", "summer hits", "country roads", "techno berlin",
    "acoustic covers", "true crime podcast", "kids songs", "metal", "reggae", "rainy day",
]


def timed(fn, repeat: int) -> tuple[object, list[float]]:
    out, times = None, []
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - start) * 1000)
    return out, times


def line(label: str, ms: list[float]) -> str:
    return f"{label:<34} median {np.median(ms):8.3f} ms   p95 {np.percentile(ms, 95):8.3f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--catalog", default="default")
    parser.add_argument("--depth", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    resources = Resources(load_catalog(args.catalog), Settings.from_env())
    resources.warm_up()
    start = time.perf_counter()
    catalog_features(resources.catalog)
    print(f"catalog features (field BM25, dates, types) built once: {(time.perf_counter() - start) * 1000:.1f} ms")
    context, rng = Context(), np.random.default_rng(0)
    prepared = []
    for text in QUERIES:
        query = resources.understander.understand(text)
        pool = CandidatePool.union([s.retrieve(query, context, args.depth) for s in resources.strategies().values()])
        prepared.append((query, pool, resources.embedder.encode_query(query_text(query))))
    sizes = [len(p) for _, p, _ in prepared]
    print(f"{len(prepared)} queries, pool rows: median {np.median(sizes):.0f}, max {max(sizes)}, {len(FEATURE_NAMES)} features")

    feats, feature_ms = [], []
    for query, pool, vector in prepared:
        x, ms = timed(lambda: build_features(pool, query, resources, vector), args.repeat)
        feats.append(x)
        feature_ms += ms
    print(line("build_features", feature_ms))

    groups = [TrainingGroup(x, (rng.random(len(x)) < 0.1).astype(int) * rng.integers(1, 4, len(x)), str(i))
              for i, x in enumerate(feats * 5)]
    ranker = LTRRanker()
    report = ranker.train(groups, seed=0)
    print(f"LTR train on {report.rows} rows: {report.seconds * 1000:.0f} ms ({report.best_iteration} trees)")
    fusion = FusionRanker()
    print(line("fusion rank", sum((timed(lambda: fusion.rank(p, x), args.repeat)[1] for (_, p, _), x in zip(prepared, feats)), [])))
    print(line("ltr rank (1 thread)", sum((timed(lambda: ranker.rank(p, x), args.repeat)[1] for (_, p, _), x in zip(prepared, feats)), [])))
    print(line("ltr explain, 10 shown rows", sum((timed(lambda: ranker.explain(x[:10]), args.repeat)[1] for x in feats), [])))
    print(line("ltr explain, whole pool", sum((timed(lambda: ranker.explain(x), 3)[1] for x in feats), [])))


if __name__ == "__main__":
    main()

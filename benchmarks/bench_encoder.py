"""The encoder backends side by side, in one run: corpus docs/s, query encoding p50/p95, and
end-to-end search on the default catalog with all six strategies (policy ``all``). Prints one
JSON object; asserts nothing.

    nice -n 10 .venv/bin/python benchmarks/bench_encoder.py --cache-dir /tmp/ltrr_test_cache \
        [--backends torch,onnx,onnx-int8] [--texts 512] [--queries 200] [--searches 300]

Corpus rate: the first ``--texts`` default-catalog entity texts through ``Embedder.encode`` (the
length-sorted chunked path), after a warm-up batch. Query encoding: distinct generated queries,
one at a time, uncached. End-to-end: ``--searches`` generated queries (the ``ltrr bench search``
mix) after 20 warm-up ones, for each backend whose default-catalog embeddings are in the cache
(others are listed as skipped: embed them once with ``ltrr search x --encoder B --wait``);
``--searches 0`` skips it.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from ltrr_core.catalog.sources import load_catalog
from ltrr_core.base.config import ENCODER_BACKENDS, Settings
from ltrr_core.engine import Engine
from ltrr_core.services.latency import BENCH_MIX, WARM_UP_QUERIES
from ltrr_core.retrieval.indexes.embedder import Embedder, entity_text
from ltrr_core.retrieval.resources import Resources
from ltrr_core.selection.bandit import PolicyConfig
from ltrr_core.simulation.traffic import TrafficGenerator


def percentiles(values: list[float]) -> dict[str, float]:
    return {"p50": round(float(np.percentile(values, 50)), 2), "p95": round(float(np.percentile(values, 95)), 2)}


def corpus_rate(embedder: Embedder, texts: list[str]) -> float:
    embedder.encode(texts[:64])
    start = time.perf_counter()
    embedder.encode(texts)
    return len(texts) / (time.perf_counter() - start)


def query_latency(embedder: Embedder, queries: list[str]) -> dict[str, float]:
    times = []
    for query in queries:
        start = time.perf_counter()
        embedder.encode_query(query)
        times.append((time.perf_counter() - start) * 1000)
    return percentiles(times)


def end_to_end(catalog, settings: Settings, intents) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine.open("default", settings.with_(db_path=Path(tmp) / "bench.db"), PolicyConfig(name="all"),
                             catalog=catalog)
        engine.searching.warm_up()
        for intent in intents[:WARM_UP_QUERIES]:
            engine.searching.search(intent.query, intent.context)
        totals, encode = [], []
        for intent in intents[WARM_UP_QUERIES:]:
            start = time.perf_counter()
            result = engine.searching.search(intent.query, intent.context)
            totals.append((time.perf_counter() - start) * 1000)
            encode.append(result.timings.get("retrieve:semantic", 0.0))
        return {"search_ms": percentiles(totals), "semantic_stage_ms": percentiles(encode),
                "strategies": len(engine.runtime.strategy_names)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache-dir", default=".ltrr_cache")
    parser.add_argument("--backends", default=",".join(ENCODER_BACKENDS))
    parser.add_argument("--texts", type=int, default=512)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--searches", type=int, default=300)
    args = parser.parse_args()
    backends = args.backends.split(",")
    catalog = load_catalog("default")
    texts = [entity_text(e) for e in catalog][: args.texts]
    intents = TrafficGenerator(catalog, seed=7).draw(args.searches + WARM_UP_QUERIES, BENCH_MIX)
    queries = list(dict.fromkeys(i.query for i in intents))[: args.queries]
    report: dict = {"texts": len(texts), "queries": len(queries), "searches": args.searches,
                    "default": Settings().backend, "backends": {}}
    for backend in backends:
        start = time.perf_counter()
        embedder = Embedder(backend=backend, export_dir=Path(args.cache_dir) / "onnx")
        row = {"load_s": round(time.perf_counter() - start, 2), "corpus_docs_per_s": round(corpus_rate(embedder, texts), 1),
               "query_ms": query_latency(embedder, queries)}
        settings = Settings(cache_dir=Path(args.cache_dir), backend=backend)
        if not args.searches:
            row["end_to_end"] = "skipped: --searches 0"
        elif Resources(catalog, settings).embeddings_file.exists():
            row["end_to_end"] = end_to_end(catalog, settings, intents)
        else:
            row["end_to_end"] = "skipped: no cached default-catalog embeddings for this backend"
        report["backends"][backend] = row
        print(json.dumps({backend: row}), flush=True)
    if "torch" in report["backends"]:
        base = report["backends"]["torch"]["corpus_docs_per_s"]
        report["corpus_speedup_vs_torch"] = {b: round(r["corpus_docs_per_s"] / base, 2) for b, r in report["backends"].items()}
    print(json.dumps(report))


if __name__ == "__main__":
    main()

"""Sharded retrieval and Ray figures for docs/scaling-100m.md. Prints figures; asserts nothing.

    nice -n 10 .venv/bin/python benchmarks/bench_shards.py [--queries 200] [--cache-dir DIR] [--no-ray]

Side by side in one run on the default catalog: single-index vs scatter-gather search
(threads, 1/2/4 shards; Ray actors, 2 shards), the backends' bare round trip (``ping``),
top-100 lexical overlap with per-shard vs collection-wide BM25 statistics, index memory per
entity, the gather step for 10 and 100 shards, and corpus embedding docs/s in-process vs Ray Data on 2 actors.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_retrieval import sample_queries  # noqa: E402

from ltrr_core.catalog.sources import load_catalog  # noqa: E402
from ltrr_core.base.config import Settings  # noqa: E402
from ltrr_core.retrieval.indexes.embedder import Embedder, entity_text  # noqa: E402
from ltrr_core.retrieval.resources import Resources  # noqa: E402
from ltrr_core.retrieval.shards.sharded import merge, shard_resources  # noqa: E402
from ltrr_core.retrieval.strategies.lexical import query_terms  # noqa: E402
from ltrr_core.retrieval.strategies.semantic import query_text  # noqa: E402

K = 100


def timed_ms(fn, items) -> list[float]:
    out = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - start) * 1000)
    return out


def med(values: list[float]) -> float:
    return round(float(np.median(values)), 3)


def p95(values: list[float]) -> float:
    return round(float(np.percentile(values, 95)), 3)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--cache-dir", default=".ltrr_cache")
    parser.add_argument("--embed-texts", type=int, default=1000)
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--parts", default="search,overlap,memory,merge,embedding",
                        help="comma-separated subset of search,overlap,memory,merge,embedding")
    args = parser.parse_args()
    parts = set(args.parts.split(","))

    catalog = load_catalog("default")
    single = Resources(catalog, Settings(cache_dir=Path(args.cache_dir)))
    understood = [single.understander.understand(q) for q in sample_queries(catalog, args.queries)]
    terms = [query_terms(u) for u in understood if not u.is_empty]
    report: dict = {"entities": len(catalog), "queries": len(terms), "k": K}

    if "search" in parts:
        single.bm25, single.dense  # noqa: B018 - built before the clock
        vectors = single.embedder.encode_queries([query_text(u) for u in understood if not u.is_empty])
        report["search_ms"] = search_figures(single, terms, vectors, ray=not args.no_ray)
    if "overlap" in parts:
        report["lexical_top100_overlap"] = overlap_figures(single, terms)
    if "memory" in parts:
        weights = single.bm25.weights
        report["bytes_per_entity"] = {
            "bm25": round((weights.data.nbytes + weights.indices.nbytes + weights.indptr.nbytes) / len(catalog), 1),
            "vectors_fp32": single.embeddings.shape[1] * 4,
            "postings_per_entity": round(weights.nnz / len(catalog), 1),
        }
    if "merge" in parts:
        report["merge_top100_p50_ms"] = merge_figures()
    if "embedding" in parts:
        report["embedding_docs_per_s"] = embedding_figures([entity_text(e) for e in catalog.entities[: args.embed_texts]],
                                                           ray=not args.no_ray)
    print(json.dumps(report, indent=1))


def search_figures(single: Resources, terms, vectors, ray: bool) -> dict:
    """Median and p95 ms of top-100 BM25 and dense search: one index vs shards (threads, Ray)."""
    setups = {"single": single, **{f"threads x{n}": shard_resources(single, n) for n in (1, 2, 4)}}
    if ray:
        from ltrr_core.base.cluster import connect

        connect(num_cpus=2)
        setups["ray x2"] = shard_resources(single, 2, backend="ray")
    search = {}
    for name, resources in setups.items():
        bm25 = timed_ms(lambda t, r=resources: r.bm25.search(t, K), terms)
        dense = timed_ms(lambda v, r=resources: r.dense.search(v, K), vectors)
        row = {"bm25_p50": med(bm25), "bm25_p95": p95(bm25), "dense_p50": med(dense), "dense_p95": p95(dense)}
        if name != "single":
            backend = resources.bm25.backend
            row["ping_p50"] = med(timed_ms(lambda _, b=backend: b.call("ping"), range(200)))
        search[name] = row
        print(f"search {name}: {row}", file=sys.stderr)
    return search


def overlap_figures(single: Resources, terms) -> dict:
    """Mean top-100 lexical overlap with the single index (queries with at least one match)."""
    overlap = {}
    matched = [(t, set(single.bm25.search(t, K)[0].tolist())) for t in terms]
    matched = [(t, w) for t, w in matched if w]
    for n in (2, 4, 8):
        local = shard_resources(single, n, statistics="local", dense=False)
        glob = shard_resources(single, n, dense=False)
        overlap[f"{n} shards"] = {
            kind: round(float(np.mean([len(set(r.bm25.search(t, K)[0].tolist()) & w) / len(w) for t, w in matched])), 4)
            for kind, r in (("per-shard statistics", local), ("collection statistics", glob))}
        overlap[f"{n} shards"]["queries"] = len(matched)
        print(f"overlap {n} shards: {overlap[f'{n} shards']}", file=sys.stderr)
    return overlap


def merge_figures() -> dict:
    """The gather step alone: merging S shards' top-100 lists (random scores) into one top-100."""
    rng = np.random.default_rng(0)
    figures = {}
    for shards in (10, 100):
        parts = [(np.sort(rng.choice(10**8, K, replace=False)), np.sort(rng.random(K))[::-1]) for _ in range(shards)]
        figures[f"{shards} shards"] = med(timed_ms(lambda _: merge(parts, K), range(300)))
    return figures


def embedding_figures(texts: list[str], ray: bool) -> dict:
    """Corpus encoding docs/s: in-process (2 torch threads) vs Ray Data on 2 one-thread actors."""
    embedder = Embedder(threads=2)
    start = time.perf_counter()
    embedder.encode(texts)
    rates = {"in-process (2 torch threads)": round(len(texts) / (time.perf_counter() - start), 1)}
    if ray:
        from ltrr_core.retrieval.indexes.distributed_embedding import encode_distributed

        encode_distributed(texts[:100], workers=2, batch_size=50)  # actors started and models loaded
        start = time.perf_counter()
        encode_distributed(texts, workers=2, batch_size=64)
        rates["ray data, 2 actors x 1 thread (incl. actor start)"] = round(len(texts) / (time.perf_counter() - start), 1)
    return rates


if __name__ == "__main__":
    main()

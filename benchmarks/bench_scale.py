"""One machine, N entities: the built-in generator at N = 24k (``default``), 100k and 1M.

    nice -n 10 .venv/bin/python benchmarks/bench_scale.py [--sizes default,100000,1000000]
        [--sample 3000] [--queries 200] [--cache-dir /tmp/ltrr_scale_cache] [--json]
    nice -n 10 .venv/bin/python benchmarks/bench_scale.py --dense-only --sizes 1000000

Per size, in a process of its own (so peak RSS is that size's): generation time; embedding
rate of the real encoder on ``--sample`` entities of that catalog (and the extrapolated time
for all N); index build times (cold: BM25, memory, metadata, dense); dense recall@100 against
exact search; end-to-end search p50/p95 with all six strategies and per-strategy p50 (the
``ltrr bench search`` traffic mix, searches logged as there); peak RSS; then warm start
(a new process: the catalog from its columnar copy, every index and snapshot from the cache,
until the first search is served) and its peak RSS. Generation is timed with the catalog's
cached copy removed first; the cold build removes the index files and snapshots (not the vectors).

Vectors: a size whose real embeddings are in ``--real-vectors-from`` (a warm cache dir, by
default ``$LTRR_TEST_CACHE_DIR``: the default catalog's) uses them (copied). Otherwise the encoder embeds the
sample and the rest is a synthetic fill: each other entity gets a random sample vector plus
gaussian noise (sigma ``FILL_SIGMA`` per dimension, cosine ~0.9 to its source), normalized.
The vectors are injected as the cache file the resources load
(``Resources.embeddings_file``); ``--vectors PATH.npy`` injects precomputed ones instead.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ltrr_core.catalog.demo import cache_folder, parse_size  # noqa: E402
from ltrr_core.catalog.sources import load_catalog  # noqa: E402
from ltrr_core.base.config import Settings  # noqa: E402
from ltrr_core.engine import Engine  # noqa: E402
from ltrr_core.services.latency import BENCH_MIX, WARM_UP_QUERIES, percentiles, time_searches  # noqa: E402
from ltrr_core.base.cache import write_atomic  # noqa: E402
from ltrr_core.retrieval.indexes.dense import DenseIndex, resolve_kind  # noqa: E402
from ltrr_core.retrieval.indexes.embedder import entity_text  # noqa: E402
from ltrr_core.retrieval.registry import STRATEGY_ORDER  # noqa: E402
from ltrr_core.retrieval.resources import Resources  # noqa: E402
from ltrr_core.selection.bandit import PolicyConfig  # noqa: E402
from ltrr_core.simulation.traffic import TrafficGenerator  # noqa: E402

FILL_SIGMA = 0.025
FILL_SEED = 13
RECALL_K = 100
RECALL_QUERIES = 100
INDEX_FILES = ("bm25", "ivf-*.faiss", "hnsw-*.faiss", "understander", "memory", "metadata", "features-bm25-*")

WARM_START = """
import json, sys, time
start = time.perf_counter()
peak_rss_gib = lambda: next(int(l.split()[1]) / 2**20 for l in open("/proc/self/status") if l.startswith("VmHWM:"))
from ltrr_core.catalog.sources import load_catalog
from ltrr_core.base.config import Settings
from ltrr_core.engine import Engine
catalog = load_catalog(sys.argv[1])
loaded = time.perf_counter() - start
engine = Engine.open(sys.argv[1], Settings(cache_dir=sys.argv[2], db_path=sys.argv[3]), catalog=catalog)
opened = time.perf_counter() - start - loaded
parts = engine.searching.warm_up()
print(json.dumps({"total_s": time.perf_counter() - start, "catalog_s": loaded, "engine_open_s": opened,
                  **{k + "_s": v for k, v in parts.items()},
                  "peak_rss_gib": peak_rss_gib()}))
"""


def _source(size: str) -> str:
    return "default" if size == "default" else f"default:{size}"


def peak_rss_gib() -> float:
    """This process's peak RSS (``ru_maxrss``; the warm-start child reads its VmHWM instead: a child
    started by fork + exec inherits its parent's ``ru_maxrss``)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _inject_vectors(res: Resources, sample: int, vectors_file: Path | None, real_dir: Path | None) -> dict:
    """Write the catalog's vectors where the resources load them; returns how they were made."""
    target = res.embeddings_file
    n = len(res.catalog)
    if vectors_file is not None:
        vectors = np.load(vectors_file, mmap_mode="r")
        if vectors.shape[0] != n:
            raise SystemExit(f"--vectors {vectors_file}: {vectors.shape[0]} rows, the catalog has {n}; pass vectors for this size")
        write_atomic(target, lambda p: shutil.copyfile(vectors_file, p))
        return {"vectors": f"injected from {vectors_file}"}
    rng = np.random.default_rng(FILL_SEED)
    rows = np.sort(rng.choice(n, min(sample, n), replace=False))
    texts = [entity_text(res.catalog.entities[i]) for i in rows.tolist()]
    start = time.perf_counter()
    real = res.embedder.encode(texts)
    seconds = time.perf_counter() - start
    rate = len(texts) / seconds
    info = {"embed_sample": len(texts), "embed_docs_per_s": round(rate, 1), "embed_all_extrapolated_min": round(n / rate / 60, 1)}
    real_file = real_dir / target.relative_to(res.settings.cache_dir) if real_dir else None
    if real_file is not None and real_file.exists() and np.load(real_file, mmap_mode="r").shape[0] == n:
        write_atomic(target, lambda p: shutil.copyfile(real_file, p))
        return {**info, "vectors": f"real, all {n} (from {real_dir})"}
    vectors = np.empty((n, real.shape[1]), dtype=np.float32)
    for begin in range(0, n, 100_000):
        end = min(n, begin + 100_000)
        chunk = real[rng.integers(0, len(real), end - begin)] + rng.normal(0, FILL_SIGMA, (end - begin, real.shape[1]))
        vectors[begin:end] = chunk / np.linalg.norm(chunk, axis=1, keepdims=True)
    vectors[rows] = real
    write_atomic(target, lambda p: np.save(p, vectors))
    return {**info, "vectors": f"{len(rows)} encoded + synthetic fill (sigma {FILL_SIGMA})"}


def _recall(dense: DenseIndex, embeddings: np.ndarray, vectors: np.ndarray) -> float:
    """Recall@100 of ``dense`` for the query ``vectors`` against exact inner-product search."""
    found = dense.search_many(vectors, RECALL_K)
    exact = np.full((len(vectors), RECALL_K), -1, dtype=np.int64)
    best = np.full((len(vectors), RECALL_K), -np.inf, dtype=np.float32)
    for begin in range(0, len(embeddings), 200_000):
        scores = np.asarray(embeddings[begin:begin + 200_000]) @ vectors.T  # (chunk, q)
        top = np.argpartition(-scores, min(RECALL_K, len(scores) - 1), axis=0)[:RECALL_K]
        merged_scores = np.concatenate([best, np.take_along_axis(scores, top, 0).T], axis=1)
        merged_rows = np.concatenate([exact, top.T + begin], axis=1)
        keep = np.argsort(-merged_scores, axis=1)[:, :RECALL_K]
        best, exact = np.take_along_axis(merged_scores, keep, 1), np.take_along_axis(merged_rows, keep, 1)
    hits = [len(set(p.tolist()) & set(e.tolist())) / RECALL_K for (p, _), e in zip(found, exact)]
    return round(float(np.mean(hits)), 4)


def run_size(size: str, cache_dir: Path, sample: int, n_queries: int, vectors_file: Path | None,
             real_dir: Path | None, keep_cache: bool = False) -> dict:
    """Everything for one size, in this process (``keep_cache``: on the caches a previous run left,
    so generation and build times are load times)."""
    source = _source(size)
    if size != "default" and not keep_cache:  # generation, not the cached copy a warm start reads
        shutil.rmtree(cache_folder(parse_size(size)), ignore_errors=True)
    start = time.perf_counter()
    catalog = load_catalog(source)
    out: dict = {"source": source, "entities": len(catalog), "generate_or_load_s": round(time.perf_counter() - start, 1)}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(cache_dir=cache_dir, db_path=Path(tmp) / "bench.db")
        probe = Resources(catalog, settings)
        if not (keep_cache and probe.embeddings_file.exists()):
            out.update(_inject_vectors(probe, sample, vectors_file, real_dir))
        for pattern in () if keep_cache else INDEX_FILES:  # cold build: the indexes, not the vectors
            for path in probe.cache_dir.glob(pattern):
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        start = time.perf_counter()
        engine = Engine.open(source, settings, PolicyConfig(name="all"), catalog=catalog)  # builds the memory
        out["build_s"] = {"engine_open": round(time.perf_counter() - start, 2)}
        out["build_s"] |= {k: round(v, 2) for k, v in engine.searching.warm_up().items()}
        resources = engine.runtime.pipeline.resources
        out["dense_index"] = resources.dense.kind
        intents = TrafficGenerator(catalog, seed=7).draw(n_queries + WARM_UP_QUERIES, BENCH_MIX)
        query_vectors = resources.embedder.encode_queries([i.query for i in intents[:RECALL_QUERIES]])
        out["dense_recall_at_100"] = _recall(resources.dense, resources.embeddings, query_vectors)
        totals, stages = time_searches(engine, intents)
        out["search_ms"] = percentiles(totals)
        out["strategy_p50_ms"] = {s: percentiles(stages[f"retrieve:{s}"])["p50"] for s in STRATEGY_ORDER if f"retrieve:{s}" in stages}
        out["stage_p50_ms"] = {k: percentiles(v)["p50"] for k, v in sorted(stages.items()) if not k.startswith("retrieve:")}
        out["peak_rss_gib"] = round(peak_rss_gib(), 2)
        warm = subprocess.run([sys.executable, "-c", WARM_START, source, str(cache_dir), str(Path(tmp) / "warm.db")],
                              cwd=ROOT, capture_output=True, text=True)
        if warm.returncode:
            out["warm_start"] = {"error": warm.stderr.strip().splitlines()[-1:]}
        else:
            out["warm_start"] = {k: round(v, 2) for k, v in json.loads(warm.stdout.strip().splitlines()[-1]).items()}
    return out


def run_dense(size: str, real_dir: Path | None, n_queries: int) -> dict:
    """``--dense-only``: generation, then the approximate index alone at this size over the real
    vectors of the default catalog (from ``real_dir``) plus the synthetic fill: build time,
    recall@100 against exact, query encoding + search p50/p95, peak RSS."""
    start = time.perf_counter()
    catalog = load_catalog(_source(size))
    out: dict = {"source": _source(size), "entities": len(catalog), "generate_or_load_s": round(time.perf_counter() - start, 1)}
    default = Resources(load_catalog("default"), Settings(cache_dir=real_dir or Path("/nonexistent")))
    real_file = default.embeddings_file
    if not real_file.exists():
        raise SystemExit(f"--dense-only: {real_file} is missing; pass --real-vectors-from a cache dir holding the default catalog's embeddings")
    real = np.load(real_file)
    n, rng = len(catalog), np.random.default_rng(FILL_SEED)
    vectors = np.empty((n, real.shape[1]), dtype=np.float32)
    for begin in range(0, n, 100_000):
        end = min(n, begin + 100_000)
        chunk = real[rng.integers(0, len(real), end - begin)] + rng.normal(0, FILL_SIGMA, (end - begin, real.shape[1]))
        vectors[begin:end] = chunk / np.linalg.norm(chunk, axis=1, keepdims=True)
    kept = min(n, len(real))
    vectors[:kept] = real[:kept]
    out["vectors"] = f"{kept} real (default catalog's) + {n - kept} synthetic fill (sigma {FILL_SIGMA})"
    kind = resolve_kind("auto", n, Settings().dense_exact_below)
    start = time.perf_counter()
    dense = DenseIndex.build(vectors, kind)
    out["dense_index"], out["dense_build_s"] = kind, round(time.perf_counter() - start, 1)
    drawn = TrafficGenerator(default.catalog, seed=7).draw(2 * n_queries + WARM_UP_QUERIES, BENCH_MIX)
    queries = list(dict.fromkeys(i.query for i in drawn))[: n_queries + WARM_UP_QUERIES]  # distinct: uncached encodes
    encode, search = [], []
    for text in queries[:WARM_UP_QUERIES]:
        dense.search(default.embedder.encode_query(text), RECALL_K)
    for text in queries[WARM_UP_QUERIES:]:
        t = time.perf_counter()
        vector = default.embedder.encode_query(text)
        t2 = time.perf_counter()
        dense.search(vector, RECALL_K)
        encode.append((t2 - t) * 1000)
        search.append((time.perf_counter() - t2) * 1000)
    out["query_encode_ms"], out["dense_search_ms"] = percentiles(encode), percentiles(search)
    out["dense_recall_at_100"] = _recall(dense, vectors, default.embedder.encode_queries(queries[:RECALL_QUERIES]))
    out["peak_rss_gib"] = round(peak_rss_gib(), 2)
    return out


def _print(result: dict) -> None:
    print(f"\n== {result['source']}: {result['entities']:,} entities", flush=True)
    for key, value in result.items():
        if key not in ("source", "entities"):
            print(f"  {key:<22} {json.dumps(value)}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="default,100000,1000000", help="comma-separated: default and/or entity counts")
    parser.add_argument("--sample", type=int, default=3000, help="entities the real encoder embeds per size")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/ltrr_scale_cache"))
    parser.add_argument("--vectors", type=Path, default=None, help="precomputed (N, dim) float32 .npy for the one size given")
    parser.add_argument("--real-vectors-from", type=Path, default=os.environ.get("LTRR_TEST_CACHE_DIR") or None,
                        help="a warm cache dir whose real embeddings are copied when it has them for a size")
    parser.add_argument("--dense-only", action="store_true",
                        help="only generation and the dense index (real default-catalog vectors + fill): the 1M figure on 2 cores")
    parser.add_argument("--keep-cache", action="store_true",
                        help="reuse the catalog copy, vectors, indexes and snapshots of a previous run (search figures on a warm cache)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    if args.vectors and len(sizes) != 1:
        parser.error("--vectors: give exactly one size in --sizes")
    if args.worker:
        if args.dense_only:
            print(json.dumps(run_dense(sizes[0], args.real_vectors_from, args.queries)))
        else:
            print(json.dumps(run_size(sizes[0], args.cache_dir, args.sample, args.queries, args.vectors,
                                      args.real_vectors_from, args.keep_cache)))
        return
    os.environ["LTRR_CACHE_DIR"] = str(args.cache_dir)  # where default:N keeps its columnar copy
    results = []
    for size in sizes:
        command = [sys.executable, __file__, "--worker", "--sizes", size, "--sample", str(args.sample),
                   "--queries", str(args.queries), "--cache-dir", str(args.cache_dir)]
        command += ["--vectors", str(args.vectors)] if args.vectors else []
        command += ["--real-vectors-from", str(args.real_vectors_from)] if args.real_vectors_from else []
        command += ["--dense-only"] if args.dense_only else []
        command += ["--keep-cache"] if args.keep_cache else []
        start = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if done.returncode:
            print(f"\n== {size}: failed after {time.perf_counter() - start:.0f} s\n{done.stderr[-2000:]}", flush=True)
            continue
        results.append(json.loads(done.stdout.strip().splitlines()[-1]) | {"wall_s": round(time.perf_counter() - start)})
        if not args.json:
            _print(results[-1])
    if args.json:
        print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

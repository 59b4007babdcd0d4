"""Retrieval latency: per-strategy median/p95, sparse BM25 vs rank-bm25, query encoding,
cold vs warm Resources start. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_retrieval.py [--catalog default] [--spotify] [--fresh-cache]

Cold start = building every index with an empty cache dir (``--fresh-cache``, or the first
run on a catalog); warm start = a new process loading the same cache dir.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ltrr_core.catalog.schema import Catalog
from ltrr_core.catalog.sources import load_catalog  # noqa: E402
from ltrr_core.base.config import Settings  # noqa: E402
from ltrr_core.retrieval.indexes.bm25 import build_okapi, entity_tokens  # noqa: E402
from ltrr_core.retrieval.resources import Resources  # noqa: E402
from ltrr_core.selection.context import Context  # noqa: E402

SPOTIFY = ROOT.parent / "shared" / "datasets" / "spotify_songs" / "spotify_songs.csv.gz"
K = 100


def sample_queries(catalog: Catalog, n: int, seed: int = 0) -> list[str]:
    """Titles, creators, 'creator title', genre/mood phrases, one-char typos and free text."""
    rng = random.Random(seed)
    entities = rng.sample(catalog.entities, min(n, len(catalog)))
    queries = []
    for i, e in enumerate(entities):
        kind = i % 5
        if kind == 0 or not e.creator:
            queries.append(e.title)
        elif kind == 1:
            queries.append(f"{e.creator} {e.title}")
        elif kind == 2:
            queries.append(e.creator)
        elif kind == 3:
            word = e.title if len(e.title) > 4 else e.creator
            j = rng.randrange(1, len(word) - 1)
            queries.append(word[:j] + word[j + 1 :])
        else:
            tags = [*e.genres, *e.moods] or [e.type]
            queries.append(f"{rng.choice(tags)} {e.type}s for tonight")
    return queries


def ms_stats(values: list[float]) -> str:
    a = np.asarray(values)
    return f"median {np.median(a):7.3f} ms   p95 {np.percentile(a, 95):7.3f} ms"


def bench_strategies(res: Resources, queries: list[str]) -> None:
    understood, understand_ms = [], []
    for raw in queries:
        start = time.perf_counter()
        understood.append(res.understander.understand(raw))
        understand_ms.append((time.perf_counter() - start) * 1000)
    print(f"  {'understand':<12} {ms_stats(understand_ms)}")
    context = Context()
    for name, strategy in res.strategies().items():
        times = []
        for query in understood:  # one pass over distinct queries: semantic includes its encode
            start = time.perf_counter()
            strategy.retrieve(query, context, K)
            times.append((time.perf_counter() - start) * 1000)
        print(f"  {name:<12} {ms_stats(times)}   (k={K}, {len(times)} queries)")


def bench_bm25(res: Resources, queries: list[str]) -> None:
    okapi = build_okapi([entity_tokens(e) for e in res.catalog])
    token_lists = [res.understander.understand(q).corrected for q in queries[:100]]
    reference, sparse, top = [], [], []
    for tokens in token_lists:
        start = time.perf_counter()
        okapi.get_scores(tokens)
        reference.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        res.bm25.scores(tokens)
        sparse.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        res.bm25.search(tokens, K)
        top.append((time.perf_counter() - start) * 1000)
    print(f"  rank_bm25 get_scores   {ms_stats(reference)}")
    print(f"  sparse scores (all)    {ms_stats(sparse)}")
    print(f"  sparse search top-{K}  {ms_stats(top)}")
    print(f"  speed-up (median get_scores / median sparse search): {np.median(reference) / np.median(top):.1f}x")


def bench_encode(res: Resources, n: int = 100) -> None:
    texts = [f"query number {i} about {w}" for i, w in enumerate(random.Random(1).choices(
        ["rain", "love", "bread", "space", "running", "jazz", "sleep", "party"], k=n))]
    times = []
    for text in texts:
        start = time.perf_counter()
        res.embedder.encode_query(text)
        times.append((time.perf_counter() - start) * 1000)
    print(f"  query encode (uncached) {ms_stats(times)}")
    start = time.perf_counter()
    res.embedder.encode_query(texts[0])
    print(f"  query encode (cached)   {(time.perf_counter() - start) * 1000:.4f} ms")


WARM_START = """
import json, sys, time
start = time.perf_counter()
from ltrr_core.catalog.sources import load_catalog
from ltrr_core.base.config import Settings
from ltrr_core.retrieval.resources import Resources
catalog = load_catalog(sys.argv[1])
loaded = time.perf_counter() - start
res = Resources(catalog, Settings.from_env(cache_dir=sys.argv[2]))
parts = res.warm_up()
print(json.dumps({"catalog_load": loaded, **parts, "embeddings_source": res.embeddings_source}))
"""


def bench_catalog(source: str, cache_dir: Path, n_queries: int) -> None:
    print(f"\n== {source} (cache {cache_dir})")
    catalog = load_catalog(source)
    print(f"  {len(catalog)} entities")
    res = Resources(catalog, Settings.from_env(cache_dir=cache_dir))
    parts = res.warm_up()
    label = "cold start" if res.embeddings_source == "computed" else "start (cache present)"
    print(f"  {label}: {sum(parts.values()):.1f} s  " + "  ".join(f"{k} {v:.2f}" for k, v in parts.items()))
    out = subprocess.run([sys.executable, "-c", WARM_START, source, str(cache_dir)], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    warm = json.loads(out.stdout.strip().splitlines()[-1])
    source_of_vectors = warm.pop("embeddings_source")
    print(f"  warm start (new process, embeddings from {source_of_vectors}): "
          f"{sum(warm.values()):.1f} s  " + "  ".join(f"{k} {v:.2f}" for k, v in warm.items()))
    queries = sample_queries(catalog, n_queries)
    bench_strategies(res, queries)
    bench_bm25(res, queries)
    bench_encode(res)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", default="default")
    parser.add_argument("--spotify", action="store_true", help=f"also run on {SPOTIFY} when present")
    parser.add_argument("--fresh-cache", action="store_true", help="use an empty cache dir (cold start)")
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) if args.fresh_cache else Settings.from_env().cache_dir
        sources = [args.catalog] + ([f"spotify:{SPOTIFY}"] if args.spotify and SPOTIFY.exists() else [])
        for source in sources:
            bench_catalog(source, base, args.queries)


if __name__ == "__main__":
    main()

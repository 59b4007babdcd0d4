"""Dense retrieval over normalized embeddings with faiss: exact inner product (cosine) for
catalogs below ``Settings.dense_exact_below`` (100,000 by default), an approximate index above.

Kinds: ``flat`` (exact ``IndexFlatIP``), ``ivf`` (the approximate default: inverted lists over
~sqrt(n) spherical k-means centroids, the nearest found exactly: a flat scan of ~1,000
centroids costs ~0.1 ms, and an HNSW over them returned at most ~100 lists whatever the probe
count; 8% of the lists, at least 32, scanned per query; the lists hold 8-bit scalar-quantized
codes, a quarter of the float32 bytes a scan reads, and the best ``IVF_RESCORED`` are re-scored
exactly against the embeddings, so scores are exact cosines), ``hnsw`` (M=32, efSearch=128).
Recall@100 against exact is a test (``tests/retrieval/test_dense_ann.py``) and a benchmark
figure (``benchmarks/bench_scale.py``).
"""

from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path
from typing import Callable, Iterator

import faiss
import numpy as np

from ltrr_core.retrieval.candidates import top_k
from ltrr_core.base.cache import read_or_set_aside, write_atomic

# One query at a time: OpenMP threads only add spin-wait (33 ms instead of ~1 ms per
# search on a busy 2-core machine), so single searches run single-threaded; batches
# (search_many) and builds use every core. OpenMP's thread count is per calling thread, so
# every search sets it: a search in a retrieval worker thread then computes exactly as one
# in the main thread (the same scores to the last bit).
faiss.omp_set_num_threads(1)
BATCH_THREADS = os.cpu_count() or 1

HNSW_M = 32
HNSW_EF_SEARCH = 128
HNSW_EF_CONSTRUCTION = 80
IVF_MIN_NPROBE = 32  # inverted lists scanned per query: at least this many ...
IVF_PROBE_SHARE = 0.08  # ... and this share of them (recall@100 at 1M, the bench's queries: 0.99 at 6%, 1.0 at 8%)
IVF_RESCORED = 256  # quantized hits re-scored exactly per query (k <= this: the same hits for every k)
IVF_TRAIN_PER_LIST = 40  # k-means training points per list (a seeded sample)
IVF_SEED = 7


@contextlib.contextmanager
def _omp_threads(threads: int) -> Iterator[None]:
    """faiss's OpenMP threads in this thread for the block, then back to one (see above)."""
    faiss.omp_set_num_threads(threads)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(1)


def resolve_kind(kind: str, n: int, exact_below: int) -> str:
    """``auto`` -> ``flat`` below ``exact_below`` vectors, else ``ivf``; other kinds as given."""
    return ("flat" if n < exact_below else "ivf") if kind == "auto" else kind


def _flat(vectors: np.ndarray) -> faiss.Index:
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    return index


def _hnsw(vectors: np.ndarray) -> faiss.Index:
    index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.add(vectors)
    return index


def _ivf(vectors: np.ndarray) -> faiss.Index:
    n, d = vectors.shape
    nlist = max(1, min(round(math.sqrt(n)), n // IVF_TRAIN_PER_LIST or 1))
    index = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(d), d, nlist, faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT)
    index.cp.spherical = True  # centroids on the unit sphere, like the vectors
    index.cp.seed = IVF_SEED
    rows = np.random.default_rng(IVF_SEED).choice(n, min(n, nlist * IVF_TRAIN_PER_LIST), replace=False)
    index.train(vectors[np.sort(rows)])
    index.add(vectors)
    return index


def _current(index: faiss.Index, kind: str) -> bool:
    """False for an IVF index saved by an earlier version: centroids found through an HNSW, or
    float32 lists (an ``IndexIVFFlat``)."""
    if kind != "ivf":
        return True
    ivf = faiss.extract_index_ivf(index)
    return (isinstance(faiss.downcast_index(ivf.quantizer), faiss.IndexFlat)
            and isinstance(faiss.downcast_index(index), faiss.IndexIVFScalarQuantizer))


INDEX_BUILDERS: dict[str, Callable[[np.ndarray], faiss.Index]] = {"flat": _flat, "hnsw": _hnsw, "ivf": _ivf}
CACHED_KINDS = ("hnsw", "ivf")  # slow to build: saved next to the embeddings


class DenseIndex:
    """``search(qvec, k) -> (positions, scores)`` with cosine scores, best first. ``vectors`` (the
    embeddings the index holds, memory-mapped is fine) re-score an IVF index's quantized hits."""

    def __init__(self, index: faiss.Index, kind: str, vectors: np.ndarray | None = None) -> None:
        if kind == "ivf" and vectors is None:
            raise ValueError("an ivf index needs its vectors to re-score its quantized hits")
        self.index = index
        self.kind = kind
        self.vectors = vectors
        if kind == "hnsw":
            faiss.downcast_index(index).hnsw.efSearch = HNSW_EF_SEARCH
        elif kind == "ivf":
            ivf = faiss.extract_index_ivf(index)
            ivf.nprobe = min(ivf.nlist, max(IVF_MIN_NPROBE, math.ceil(IVF_PROBE_SHARE * ivf.nlist)))

    def __len__(self) -> int:
        return int(self.index.ntotal)

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str = "flat", cache_file: Path | None = None) -> "DenseIndex":
        """Build (or, for HNSW/IVF with ``cache_file``, load/save) the index over ``vectors``; a loaded
        index is read-only (memory-mapped from the file); an unreadable file is set aside and rebuilt."""
        if kind not in INDEX_BUILDERS:
            raise ValueError(f"dense_index: {kind!r} is not one of {tuple(INDEX_BUILDERS)}")
        if kind in CACHED_KINDS and cache_file is not None and cache_file.exists():
            # Memory-mapped, not copied: 0.1 s instead of 1-19 s for 1M vectors (19 s in a process
            # whose heap already holds a large catalog), and searches just as fast once paged in.
            index = read_or_set_aside(cache_file, lambda: faiss.read_index(str(cache_file), faiss.IO_FLAG_MMAP_IFC))
            if index is not None and index.ntotal == len(vectors) and index.d == vectors.shape[1] and _current(index, kind):
                return cls(index, kind, vectors)
        with _omp_threads(BATCH_THREADS):
            index = INDEX_BUILDERS[kind](np.ascontiguousarray(vectors, dtype=np.float32))
        if kind in CACHED_KINDS and cache_file is not None:
            write_atomic(cache_file, lambda p: faiss.write_index(index, str(p)))
        return cls(index, kind, vectors)

    def search(self, qvec: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        return self.search_many(np.asarray(qvec).reshape(1, -1), k)[0]

    def search_many(self, qvecs: np.ndarray, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """``search`` for each row of ``qvecs`` in one faiss call (a matrix product for the flat
        index: ~0.1 ms a query in batches of thousands against ~1.7 ms one at a time).

        faiss cuts and orders equal scores by its heap, which depends on k; so it lists at least
        ``HNSW_EF_SEARCH`` hits (what HNSW visits anyway; as fast for the flat index), deeper
        while the last hit ties the k-th, and :func:`top_k` cuts to k: ties go by position. An IVF
        index lists ``IVF_RESCORED`` quantized hits and their exact cosines decide."""
        k = min(k, len(self))
        if k <= 0 or len(qvecs) == 0:
            return [(np.empty(0, np.int64), np.empty(0)) for _ in range(len(qvecs))]
        queries = np.ascontiguousarray(np.asarray(qvecs, dtype=np.float32))
        depth = min(max(k, IVF_RESCORED if self.kind == "ivf" else HNSW_EF_SEARCH), len(self))
        with _omp_threads(BATCH_THREADS if len(queries) > 1 else 1):
            scores, positions = self.index.search(queries, depth)
            while depth < len(self) and np.any((positions[:, -1] >= 0) & (scores[:, -1] == scores[:, k - 1])):
                depth = min(2 * depth, len(self))
                scores, positions = self.index.search(queries, depth)
        found = []
        for query, p, s in zip(queries, positions, scores):
            keep = p >= 0  # HNSW may return fewer hits than asked (-1 padding)
            p, s = p[keep].astype(np.int64), s[keep].astype(np.float64)
            if self.kind == "ivf":
                s = (np.asarray(self.vectors[p], dtype=np.float32) @ query).astype(np.float64)
            best = top_k(s, p, k)
            found.append((p[best], s[best]))
        return found

"""Dense retrieval over normalized embeddings with faiss: exact inner product (cosine) by
default, HNSW (M=32, efSearch=128) for large catalogs."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import faiss
import numpy as np

from ltrr_core.indexes.cache import write_atomic

# One query at a time: OpenMP threads only add spin-wait (33 ms instead of ~1 ms per
# search on a busy 2-core machine), so searches run single-threaded.
faiss.omp_set_num_threads(1)

HNSW_M = 32
HNSW_EF_SEARCH = 128
HNSW_EF_CONSTRUCTION = 80


def _flat(vectors: np.ndarray) -> faiss.Index:
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    return index


def _hnsw(vectors: np.ndarray) -> faiss.Index:
    index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.add(vectors)
    return index


INDEX_BUILDERS: dict[str, Callable[[np.ndarray], faiss.Index]] = {"flat": _flat, "hnsw": _hnsw}


class DenseIndex:
    """``search(qvec, k) -> (positions, scores)`` with cosine scores, best first."""

    def __init__(self, index: faiss.Index, kind: str) -> None:
        self.index = index
        self.kind = kind
        if kind == "hnsw":
            faiss.downcast_index(index).hnsw.efSearch = HNSW_EF_SEARCH

    def __len__(self) -> int:
        return int(self.index.ntotal)

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str = "flat", cache_file: Path | None = None) -> "DenseIndex":
        """Build (or, for HNSW with ``cache_file``, load/save) the index over ``vectors``."""
        if kind not in INDEX_BUILDERS:
            raise ValueError(f"dense_index: {kind!r} is not one of {tuple(INDEX_BUILDERS)}")
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if kind == "hnsw" and cache_file is not None and cache_file.exists():
            index = faiss.read_index(str(cache_file))
            if index.ntotal == len(vectors) and index.d == vectors.shape[1]:
                return cls(index, kind)
        index = INDEX_BUILDERS[kind](vectors)
        if kind == "hnsw" and cache_file is not None:
            write_atomic(cache_file, lambda p: faiss.write_index(index, str(p)))
        return cls(index, kind)

    def search(self, qvec: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, len(self))
        if k <= 0:
            return np.empty(0, np.int64), np.empty(0)
        query = np.ascontiguousarray(np.asarray(qvec, dtype=np.float32).reshape(1, -1))
        scores, positions = self.index.search(query, k)
        keep = positions[0] >= 0  # HNSW may return fewer than k hits (-1 padding)
        return positions[0][keep].astype(np.int64), scores[0][keep].astype(np.float64)

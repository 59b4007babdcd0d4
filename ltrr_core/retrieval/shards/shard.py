"""One shard: a contiguous slice of the catalog with its own BM25 and dense index.

A shard is built from a :class:`ShardSpec` (plain data: tokens, collection statistics,
vectors), so the same spec builds it in this process (thread backend) or inside a Ray actor
(which rebuilds it from the spec when it restarts). Searches answer in catalog positions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ltrr_core.retrieval.indexes.bm25 import BM25Params
from ltrr_core.retrieval.indexes.dense import DenseIndex
from ltrr_core.retrieval.shards.statistics import CollectionStats, shard_bm25


class ShardError(RuntimeError):
    """A shard cannot answer (its actor died and could not be restarted)."""


Hits = tuple[np.ndarray, np.ndarray]  # (catalog positions, scores), best first


def shard_ranges(n: int, shards: int) -> list[tuple[int, int]]:
    """``shards`` contiguous [start, stop) ranges covering 0..n, sizes differing by at most one."""
    if shards < 1:
        raise ValueError(f"shards: {shards} must be >= 1")
    bounds = np.linspace(0, n, shards + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]


@dataclass(frozen=True)
class ShardSpec:
    """What builds one shard: its first catalog position, its documents' BM25 tokens, the
    statistics to score them with, and its rows of the embedding matrix (None: no dense index)."""

    offset: int
    tokens: Sequence[Sequence[str]]
    stats: CollectionStats
    vectors: np.ndarray | None = None
    dense_kind: str = "flat"
    params: BM25Params = BM25Params()


class IndexShard:
    """A shard's indexes; ``search_bm25`` / ``search_dense`` return catalog positions."""

    def __init__(self, spec: ShardSpec) -> None:
        self.offset = spec.offset
        self.size = len(spec.tokens)
        self.bm25 = shard_bm25(spec.tokens, spec.stats, spec.params)
        self.dense = DenseIndex.build(spec.vectors, spec.dense_kind) if spec.vectors is not None else None

    def search_bm25(self, tokens: Sequence[str], k: int) -> Hits:
        positions, scores = self.bm25.search(tokens, k)
        return positions + self.offset, scores

    def search_dense(self, qvecs: np.ndarray, k: int) -> list[Hits]:
        if self.dense is None:
            raise ValueError("this shard was built without vectors: no dense search")
        return [(p + self.offset, s) for p, s in self.dense.search_many(qvecs, k)]

    def ping(self) -> int:
        """The shard's size (a round trip that does no search: the backend's overhead)."""
        return self.size

"""Scatter-gather indexes over shards, with the single index's ``search`` API.

Every shard answers its own top ``k`` in catalog positions; the merge is the one top-k rule
(:func:`~ltrr_core.retrieval.candidates.top_k`: score, then position), so the sharded top-k
is the single index's whenever the shards score documents as it does: BM25 with the
collection's statistics, exact (flat) dense search. :func:`shard_resources` puts them in
place of a catalog's ``bm25`` and ``dense``, so ``lexical``, ``popular`` and ``semantic`` run
sharded unchanged (:func:`serving_shards` does it for an engine whose ``Settings.shards`` > 1).
``structured`` and ``explore`` stay whole: each scales a query's scores by
the best match over the whole catalog (a second round trip per query) over small per-entity
arrays; ``memory`` is keyed by query, not entity, and changes with every response.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ltrr_core.retrieval.candidates import top_k
from ltrr_core.retrieval.indexes.bm25 import entity_tokens
from ltrr_core.retrieval.indexes.dense import resolve_kind
from ltrr_core.retrieval.resources import Resources
from ltrr_core.retrieval.shards.backends import ShardBackend, open_backend
from ltrr_core.retrieval.shards.shard import Hits, ShardSpec, shard_ranges
from ltrr_core.retrieval.shards.statistics import CollectionStats

SHARDED_STRATEGIES = ("lexical", "popular", "semantic")
STATISTICS = ("global", "local")


def merge(parts: Sequence[Hits], k: int) -> Hits:
    """The best ``k`` of the shards' hits (catalog positions are unique across shards)."""
    positions = np.concatenate([p for p, _ in parts]) if parts else np.empty(0, np.int64)
    scores = np.concatenate([s for _, s in parts]) if parts else np.empty(0)
    best = top_k(scores, positions, k)
    return positions[best].astype(np.int64), scores[best]


class ShardedBM25:
    """``search(tokens, k)`` over every shard's BM25 index."""

    def __init__(self, backend: ShardBackend, n_docs: int) -> None:
        self.backend = backend
        self.n_docs = n_docs

    def search(self, tokens: Sequence[str], k: int) -> Hits:
        return merge(self.backend.call("search_bm25", list(tokens), k), k)


class ShardedDense:
    """``search`` / ``search_many`` over every shard's dense index."""

    def __init__(self, backend: ShardBackend, n: int, kind: str) -> None:
        self.backend = backend
        self.n = n
        self.kind = kind

    def __len__(self) -> int:
        return self.n

    def search(self, qvec: np.ndarray, k: int) -> Hits:
        return self.search_many(np.asarray(qvec).reshape(1, -1), k)[0]

    def search_many(self, qvecs: np.ndarray, k: int) -> list[Hits]:
        per_shard = self.backend.call("search_dense", np.asarray(qvecs, dtype=np.float32), k)
        return [merge([hits[q] for hits in per_shard], k) for q in range(len(qvecs))]


def shard_specs(resources: Resources, shards: int, statistics: str = "global", dense: bool = True) -> list[ShardSpec]:
    """The catalog cut into ``shards`` contiguous specs. ``statistics``: ``global`` (the
    collection's, exact) or ``local`` (each shard's own, as a naive split would)."""
    if statistics not in STATISTICS:
        raise ValueError(f"statistics: {statistics!r} is not one of {STATISTICS}")
    tokens = [entity_tokens(e) for e in resources.catalog]
    ranges = shard_ranges(len(tokens), shards)
    own = [CollectionStats.of(tokens[a:b]) for a, b in ranges]
    whole = CollectionStats.merge(own)
    vectors = resources.embeddings if dense else None
    return [ShardSpec(a, tokens[a:b], whole if statistics == "global" else own[i],
                      None if vectors is None else np.ascontiguousarray(vectors[a:b]),
                      resolve_kind(resources.settings.dense_index, b - a, resources.settings.dense_exact_below))
            for i, (a, b) in enumerate(ranges)]


def shard_resources(resources: Resources, shards: int, backend: str = "threads", statistics: str = "global",
                    address: str | None = None, dense: bool = True) -> Resources:
    """A twin of ``resources`` whose ``bm25`` (and ``dense``) are scatter-gather over ``shards``
    shards on ``backend`` (``threads`` or ``ray``; ``address``: an existing Ray cluster)."""
    specs = shard_specs(resources, shards, statistics, dense)
    opened = open_backend(backend, specs, address)
    parts: dict = {"bm25": ShardedBM25(opened, len(resources.catalog))}
    if dense:
        resources.embedder  # built now, so the twin shares it: queries are encoded once, here
        kind = resolve_kind(resources.settings.dense_index, len(resources.catalog), resources.settings.dense_exact_below)
        parts["dense"] = ShardedDense(opened, len(resources.catalog), kind)
    return resources.with_parts(**parts)


def serving_shards(resources: Resources) -> Resources:
    """``resources`` sharded as its settings say (``shards``, ``shard_backend``; Ray at ``RAY_ADDRESS``
    or a local cluster). The shards build now; ``semantic`` shards only when the embeddings are
    cached, else it serves from one index once they are built (usable while it embeds)."""
    settings = resources.settings
    return shard_resources(resources, settings.shards, settings.shard_backend,
                           dense=resources.embeddings_file.exists())

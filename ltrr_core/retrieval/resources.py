"""The heavy objects for one catalog, built lazily once per process and cached on disk.

Cache layout (``settings.cache_dir / catalog.content_hash``): ``bm25/`` (weights.npz,
vocab.json, meta.json), ``embeddings-<model>-t<text version>.npy``, ``hnsw-<model>.faiss`` /
``ivf-<model>.faiss``. Everything is
keyed by the catalog's content hash and, for vectors, the model name.

Thread safety: lazy construction is guarded by one re-entrant lock (a property built by one
session is shared by all); built objects are read-only for retrieval (the memory index
locks its own updates).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ltrr_core.catalog.schema import Catalog
from ltrr_core.config import Settings
from ltrr_core.retrieval.indexes.bm25 import BM25Index
from ltrr_core.retrieval.indexes.cache import slug, write_atomic
from ltrr_core.retrieval.indexes.dense import DenseIndex, resolve_kind
from ltrr_core.retrieval.indexes.embedder import (
    ENTITY_TEXT_VERSION,
    Embedder,
    entity_text,
)
from ltrr_core.retrieval.indexes.memory import MemoryIndex
from ltrr_core.understanding.understander import Understander

Progress = Callable[[str, float], None]


class _built_once:
    """Like ``functools.cached_property``, but construction holds the instance's lock."""

    def __init__(self, build: Callable[[Any], Any]) -> None:
        self.build = build
        self.name = build.__name__
        self.__doc__ = build.__doc__

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        try:
            return instance.__dict__[self.name]
        except KeyError:
            with instance._lock:
                if self.name not in instance.__dict__:
                    instance.__dict__[self.name] = self.build(instance)
                return instance.__dict__[self.name]


_SHARED_PARTS = ("ids", "understander", "bm25", "embedder", "embeddings", "dense", "popularity")


class Resources:
    """Shared indexes and models for one catalog (see the module docstring); strategies are built over them."""

    def __init__(self, catalog: Catalog, settings: Settings | None = None, progress: Progress | None = None) -> None:
        self.catalog = catalog
        self.settings = settings or Settings.from_env()
        self.progress = progress or (lambda label, fraction: None)
        self.embeddings_source = ""  # "cache" or "computed", once embeddings exist
        self._lock = threading.RLock()

    @property
    def cache_dir(self) -> Path:
        return self.settings.cache_dir / self.catalog.content_hash

    @_built_once
    def ids(self) -> list[str]:
        """Entity ids by catalog position."""
        return [e.id for e in self.catalog]

    @_built_once
    def understander(self) -> Understander:
        return Understander(self.catalog)

    @_built_once
    def bm25(self) -> BM25Index:
        """Field-weighted BM25, loaded from the cache or built (and saved)."""
        directory = self.cache_dir / "bm25"
        index = BM25Index.load(directory)
        if index is None or index.n_docs != len(self.catalog):
            self.progress("BM25 index", 0.0)
            index = BM25Index.from_entities(self.catalog)
            index.save(directory)
        self.progress("BM25 index", 1.0)
        return index

    @_built_once
    def embedder(self) -> Embedder:
        return Embedder(self.settings.model)

    @property
    def embeddings_file(self) -> Path:
        """Where the catalog's vectors are cached (an (n, dim) float32 ``.npy``): a file written
        here in that format is loaded instead of encoding (how benchmarks inject vectors)."""
        return self.cache_dir / f"embeddings-{slug(self.settings.model)}-t{ENTITY_TEXT_VERSION}.npy"

    @_built_once
    def embeddings(self) -> np.ndarray:
        """(n_entities, dim) float32 L2-normalized; computed once, then loaded from disk."""
        path = self.embeddings_file
        if path.exists():
            vectors = np.load(path)
            if vectors.shape[0] == len(self.catalog):
                self.embeddings_source = "cache"
                return vectors
        texts = [entity_text(e) for e in self.catalog]
        vectors = self.embedder.encode(texts, progress=self.progress, label="embedding catalog")
        write_atomic(path, lambda p: np.save(p, vectors))
        self.embeddings_source = "computed"
        return vectors

    @_built_once
    def dense(self) -> DenseIndex:
        """Exact below ``settings.dense_exact_below`` entities, approximate (IVF) above (``auto``)."""
        kind = resolve_kind(self.settings.dense_index, len(self.catalog), self.settings.dense_exact_below)
        cache_file = self.cache_dir / f"{kind}-{slug(self.settings.model)}.faiss"
        return DenseIndex.build(self.embeddings, kind, cache_file)

    @_built_once
    def memory(self) -> MemoryIndex:
        return MemoryIndex.build(self.catalog)

    @_built_once
    def popularity(self) -> np.ndarray:
        """(n,) popularity in [0, 1] by catalog position."""
        return np.fromiter((e.popularity for e in self.catalog), dtype=np.float64, count=len(self.catalog))

    def sandboxed(self) -> "Resources":
        """The same catalog, indexes and model (shared, already built ones included) with a memory
        index of its own: forked from this one's cold start, without its observations."""
        twin = Resources(self.catalog, self.settings, self.progress)
        with self._lock:
            twin.__dict__.update({k: v for k, v in self.__dict__.items() if k in _SHARED_PARTS})
            twin.embeddings_source = self.embeddings_source
            twin.__dict__["memory"] = self.memory.fork()
        return twin

    def warm_up(self) -> dict[str, float]:
        """Build everything now; seconds per part (cache hits make a warm start fast)."""
        seconds: dict[str, float] = {}
        for part in ("understander", "bm25", "memory", "embedder", "embeddings", "dense"):
            start = time.perf_counter()
            getattr(self, part)
            seconds[part] = time.perf_counter() - start
        return seconds

"""The heavy objects for one catalog, built lazily once per process and cached on disk.

Cache layout (``settings.cache_dir / catalog.content_hash``): ``bm25/`` (weights.npz,
vocab.json, meta.json); snapshots of the parts built in Python (``arrays.npz`` + ``meta.json``,
:mod:`~ltrr_core.base.snapshot`; a stale one is rebuilt):
``understander/`` (the catalog's vocabularies), ``memory/`` (the memory's cold-start keys and
predicted pairs; observed statistics are folded from the log), ``metadata/`` (the structured and
explore strategies' postings), ``features-bm25-<field>/`` (the ranker's field BM25s), ``catalog/``
(a generated ``default:N`` catalog's columnar copy, :mod:`ltrr_core.catalog.demo_cache`);
``embeddings-<vectors>-t<text version>.npy`` (its ``.parts/`` folder holds the chunks of an
unfinished run), ``hnsw-<vectors>.faiss`` / ``ivf-<vectors>.faiss``. Everything is
keyed by the catalog's content key and, for vectors, the model and backend (``<vectors>`` is the
model's slug, plus ``-<backend>`` for the ONNX backends). ONNX exports live in ``settings.cache_dir / "onnx"``.
A cache file or folder that cannot be read (truncated, corrupt, of the wrong shape) is set aside as
``<name>.unreadable`` with the reason beside it (:func:`~ltrr_core.base.cache.set_aside`) and rebuilt.

The parts made of millions of Python objects build and load with the cyclic GC paused
(:func:`~ltrr_core.base.snapshot.paused_gc`); the semantic parts do not (an encoding
run can last an hour).

Thread safety: each part's lazy construction holds its own re-entrant lock (a part built by one
session is shared by all, and a part being built, e.g. the embeddings in the background, does
not hold up the others); built objects are read-only for retrieval (the memory index locks its
own updates).
"""

from __future__ import annotations

import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from functools import partial
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ltrr_core.catalog.schema import Catalog
from ltrr_core.base.config import Settings
from ltrr_core.base.progress import Progress
from ltrr_core.retrieval.background import SEMANTIC_PARTS, BackgroundBuild
from ltrr_core.retrieval.indexes.bm25 import BM25Index
from ltrr_core.base.cache import read_or_set_aside, slug, write_atomic
from ltrr_core.retrieval.indexes.dense import DenseIndex, resolve_kind
from ltrr_core.retrieval.indexes.embedder import (
    ENTITY_TEXT_VERSION,
    Embedder,
    entity_text,
    model_dimension,
)
from ltrr_core.retrieval.indexes.memory import MemoryIndex
from ltrr_core.retrieval.indexes.metadata import MetadataIndex
from ltrr_core.base.snapshot import paused_gc
from ltrr_core.understanding.understander import Understander


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
                lock = instance._part_locks.setdefault(self.name, threading.RLock())
            with lock:
                if self.name not in instance.__dict__:
                    instance.__dict__[self.name] = self.build(instance)
                return instance.__dict__[self.name]


_SHARED_PARTS = ("ids", "understander", "metadata", "bm25", "embedder", "embeddings", "dense", "popularity")


class Resources:
    """Shared indexes and models for one catalog (see the module docstring); strategies are built over them."""

    def __init__(self, catalog: Catalog, settings: Settings | None = None, progress: Progress | None = None) -> None:
        self.catalog = catalog
        self.settings = settings or Settings.from_env()
        self.progress = progress or (lambda label, fraction: None)
        self.embeddings_source = ""  # "cache" or "computed", once embeddings exist
        self.background: BackgroundBuild | None = None  # the semantic parts' build, once started
        self._lock = threading.RLock()
        self._part_locks: dict[str, threading.RLock] = {}

    @property
    def cache_dir(self) -> Path:
        return self.settings.cache_dir / self.catalog.content_hash

    @_built_once
    def ids(self) -> list[str]:
        """Entity ids by catalog position."""
        return self.catalog.column("id")

    @_built_once
    def understander(self) -> Understander:
        """The query understander, from its snapshot or built (and saved)."""
        with paused_gc():
            return Understander.load_or_build(self.catalog, self.cache_dir / "understander")

    @_built_once
    def metadata(self) -> MetadataIndex:
        """The structured and explore strategies' index, from its snapshot or built (and saved)."""
        with paused_gc():
            return MetadataIndex.load_or_build(self.catalog, self.cache_dir / "metadata")

    @_built_once
    def bm25(self) -> BM25Index:
        """Field-weighted BM25, loaded from the cache or built (and saved)."""
        def build() -> BM25Index:
            self.progress("BM25 index", 0.0)
            with paused_gc():
                return BM25Index.from_entities(self.catalog)

        index = BM25Index.load_or_build(self.cache_dir / "bm25", len(self.catalog), build)
        self.progress("BM25 index", 1.0)
        return index

    @property
    def vectors_key(self) -> str:
        """The model and backend in cache file names (torch keeps the model's slug alone)."""
        key = slug(self.settings.model)
        return key if self.settings.backend == "torch" else f"{key}-{self.settings.backend}"

    @_built_once
    def embedder(self) -> Embedder:
        return Embedder(self.settings.model, backend=self.settings.backend, export_dir=self.settings.cache_dir / "onnx")

    @property
    def embeddings_file(self) -> Path:
        """Where the catalog's vectors are cached (an (n, dim) float32 ``.npy``): a file written
        here in that format is loaded instead of encoding (how benchmarks inject vectors)."""
        return self.cache_dir / f"embeddings-{self.vectors_key}-t{ENTITY_TEXT_VERSION}.npy"

    @_built_once
    def embeddings(self) -> np.ndarray:
        """(n_entities, dim) float32 L2-normalized; computed once (resuming an interrupted run's
        chunks), then memory-mapped from disk (read-only: a warm start reads only the rows it uses).
        A cached file that cannot be read or is not (n, the model's dimension) float32 is set aside
        (:func:`~ltrr_core.base.cache.set_aside`) and computed again."""
        path = self.embeddings_file
        vectors = read_or_set_aside(path, lambda: self._cached_embeddings(path)) if path.exists() else None
        if vectors is not None and vectors.shape[0] == len(self.catalog):
            self.embeddings_source = "cache"
            return vectors
        texts = [entity_text(e) for e in self.catalog]
        parts = path.with_suffix(".parts")
        vectors = self.embedder.encode(texts, progress=self.progress, label="embedding catalog", parts_dir=parts)
        write_atomic(path, lambda p: np.save(p, vectors))
        shutil.rmtree(parts, ignore_errors=True)
        self.embeddings_source = "computed"
        return vectors

    def _cached_embeddings(self, path: Path) -> np.ndarray:
        vectors = np.load(path, mmap_mode="r")
        # the loaded encoder's size; else the model's configs say it (no load on a warm start), else load it
        dim = self.embedder.dim if self.has_built("embedder") else model_dimension(self.settings.model) or self.embedder.dim
        if vectors.ndim != 2 or vectors.dtype != np.float32 or vectors.shape[1] != dim:
            raise ValueError(f"{vectors.dtype} vectors of shape {vectors.shape}; the model gives (n, {dim}) float32")
        return vectors

    @_built_once
    def dense(self) -> DenseIndex:
        """Exact below ``settings.dense_exact_below`` entities, approximate (IVF) above (``auto``)."""
        kind = resolve_kind(self.settings.dense_index, len(self.catalog), self.settings.dense_exact_below)
        cache_file = self.cache_dir / f"{kind}-{self.vectors_key}.faiss"
        return DenseIndex.build(self.embeddings, kind, cache_file)

    @_built_once
    def memory(self) -> MemoryIndex:
        """The memory's cold start, from its snapshot or built (and saved); observations come later."""
        with paused_gc():
            return MemoryIndex.load_or_build(self.catalog, self.cache_dir / "memory")

    @_built_once
    def popularity(self) -> np.ndarray:
        """(n,) popularity in [0, 1] by catalog position."""
        return np.asarray(self.catalog.column("popularity"), dtype=np.float64)

    def sandboxed(self) -> "Resources":
        """The same catalog, indexes and model (shared, already built ones included) with a memory
        index of its own: forked from this one's cold start, without its observations."""
        return self.with_parts(memory=self.memory.fork())

    def has_built(self, part: str) -> bool:
        """True once the part named ``part`` (e.g. ``"dense"``) has been built or loaded."""
        return part in self.__dict__

    @property
    def semantic_warming(self) -> bool:
        """True while a background build of the semantic parts runs (or after it failed)."""
        return self.background is not None and "dense" not in self.__dict__

    def warm_in_background(self, progress: Progress | None = None, start: bool = True) -> BackgroundBuild:
        """Build the semantic parts in a background thread (once); ``progress`` gets its steps. From
        this call on semantic counts as warming; ``start`` False leaves starting the thread to the caller."""
        with self._lock:
            if self.background is None:
                self.background = BackgroundBuild(self, progress)
                self.progress = self.background.progress
            return self.background.start() if start else self.background

    def with_parts(self, share: tuple[str, ...] = _SHARED_PARTS, **parts: Any) -> "Resources":
        """A twin over the same catalog and settings holding this one's built ``share`` parts and
        the given ``parts`` in their place (sharded indexes); the rest (the memory index, unless
        shared) builds on its own, so a run over the twin is independent of this one's."""
        twin = Resources(self.catalog, self.settings, self.progress)
        if self.background is not None:
            self.background.wait()  # the twin shares the semantic parts, so they must exist first
        with self._lock:
            twin.__dict__.update({k: v for k, v in self.__dict__.items() if k in share})
            twin.embeddings_source = self.embeddings_source
        twin.__dict__.update(parts)
        return twin

    def warm_up(self, background: bool = False, also: dict[str, Callable[[], Any]] | None = None) -> dict[str, float]:
        """Build everything now (``background``: all but the semantic parts, which
        :meth:`warm_in_background` builds), plus the named builds ``also``; seconds per part (cache
        hits make a warm start fast). Parts build side by side on ``settings.retrieval_threads``
        threads (loading a snapshot is mostly zlib and numpy, which release the GIL: at 1M the parts
        took 4.5-6.7 s instead of 9.2-9.4 s), so their seconds overlap; ``progress`` hears of each
        finished part from the calling thread."""
        parts = ("understander", "bm25", "memory", "metadata", "ids", "popularity", *SEMANTIC_PARTS)
        jobs: dict[str, Callable[[], Any]] = {part: partial(getattr, self, part)
                                               for part in (parts[:-len(SEMANTIC_PARTS)] if background else parts)}
        jobs.update(also or {})

        def timed_job(job: Callable[[], Any]) -> float:
            start = time.perf_counter()
            job()
            return time.perf_counter() - start

        seconds: dict[str, float] = {}
        with ThreadPoolExecutor(self.settings.retrieval_threads, thread_name_prefix="warm-up") as pool:
            futures = {pool.submit(timed_job, job): name for name, job in jobs.items()}
            for future in as_completed(futures):
                seconds[futures[future]] = future.result()
                self.progress(f"loaded {futures[future]}", len(seconds) / len(jobs))
        return {name: seconds[name] for name in jobs}

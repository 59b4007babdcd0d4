"""The funnel as a value: understand -> retrieve (arms at their depths) -> union -> featurize -> rank.

One stateless :class:`Pipeline` per catalog serves every caller: live search (the engine adds
the bandit's selection in front and the feedback log behind), training, label evaluation,
BEIR evaluation and the simulator. Each of them runs the same stages, so training sees the
pools and features that serving produced. ``replay(query, arms)`` re-runs a logged search.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Callable, Mapping, Sequence, TypeVar

import numpy as np

from ltrr_core.catalog.schema import Catalog
from ltrr_core.ranking.features import FEATURE_NAMES, build_features, catalog_features
from ltrr_core.ranking.pool import CandidatePool
from ltrr_core.ranking.rankers import RankedList, Ranker
from ltrr_core.retrieval.candidates import Candidates
from ltrr_core.retrieval.registry import REGISTRY, STRATEGY_ORDER
from ltrr_core.retrieval.resources import Resources
from ltrr_core.retrieval.strategies.base import Strategy
from ltrr_core.retrieval.strategies.semantic import query_text
from ltrr_core.selection.context import Context
from ltrr_core.understanding.query import QueryUnderstanding

T = TypeVar("T")
SLOWEST = ("semantic",)  # submitted first when strategies retrieve side by side
Depths = Mapping[str, int]  # strategy -> how many candidates it retrieves


@dataclass(frozen=True)
class FunnelRun:
    """What the stages after understanding produced for one query (``ranked`` None: not ranked)."""

    understanding: QueryUnderstanding
    candidates: dict[str, Candidates]
    pool: CandidatePool
    features: np.ndarray
    ranked: RankedList | None
    timings: dict[str, float]


class Pipeline:
    """The funnel over one catalog's resources; holds no learning state, so any caller may share it."""

    def __init__(self, resources: Resources, strategies: Sequence[str] | None = None) -> None:
        names = tuple(STRATEGY_ORDER if strategies is None else strategies)
        unknown = [n for n in names if n not in REGISTRY]
        if unknown:
            raise KeyError(f"unknown strategy {unknown[0]!r}; registered: {list(STRATEGY_ORDER)}")
        self.resources = resources
        self.strategy_names: tuple[str, ...] = names
        self._strategies: dict[str, Strategy] = {}
        self._lock = threading.RLock()
        threads = resources.settings.retrieval_threads
        self._threads = ThreadPoolExecutor(threads, thread_name_prefix="retrieve") if threads > 1 else None

    @property
    def catalog(self) -> Catalog:
        return self.resources.catalog

    def strategy(self, name: str) -> Strategy:
        """The registered strategy ``name``, built once over the resources."""
        if name not in self.strategy_names:
            raise KeyError(f"unknown strategy {name!r}; this pipeline runs {list(self.strategy_names)}")
        with self._lock:
            if name not in self._strategies:
                self._strategies[name] = REGISTRY[name](self.resources)
            return self._strategies[name]

    def warm_up(self, background: bool = False) -> dict[str, float]:
        """Build every index, model and strategy now, and the ranker's field BM25s (``background``: all
        but the semantic parts, see :meth:`Resources.warm_up`); seconds per part."""
        res = self.resources
        seconds = res.warm_up(background, also={"field_bm25": partial(catalog_features, res.catalog, res.cache_dir)})
        start = time.perf_counter()
        for name in self.strategy_names:
            self.strategy(name)
        seconds["strategies"] = time.perf_counter() - start
        return seconds

    # -- stages ------------------------------------------------------------------------
    def understand(self, query: str) -> QueryUnderstanding:
        return self.resources.understander.understand(query)

    def retrieve(self, name: str, understanding: QueryUnderstanding, context: Context, k: int) -> Candidates:
        """One strategy's top ``k``, timed."""
        start = time.perf_counter()
        found = self.strategy(name).retrieve(understanding, context, k)
        return found.timed((time.perf_counter() - start) * 1000)

    def retrieve_all(self, depths: Depths, understanding: QueryUnderstanding, context: Context) -> dict[str, Candidates]:
        """Every strategy's top ``depths[name]``, in ``depths``' order. With ``retrieval_threads`` > 1
        they run side by side, the slowest first: faiss, ONNX Runtime and numpy's large-array work
        release the GIL, so the funnel waits for about the slowest strategy, not their sum."""
        if self._threads is None or len(depths) < 2:
            return {name: self.retrieve(name, understanding, context, k) for name, k in depths.items()}
        futures = {name: self._threads.submit(self.retrieve, name, understanding, context, depths[name])
                   for name in sorted(depths, key=lambda name: name not in SLOWEST)}
        return {name: futures[name].result() for name in depths}

    def retrieve_many(self, name: str, understandings: Sequence[QueryUnderstanding], k: int) -> list[Candidates]:
        """Context-free ``retrieve`` for many queries in one batched call (the strategy's
        ``retrieve_many``); each result's ms is its share of the batch."""
        start = time.perf_counter()
        found = self.strategy(name).retrieve_many(understandings, k)
        ms = (time.perf_counter() - start) * 1000 / max(1, len(found))
        return [c.timed(ms) for c in found]

    def featurize(self, pool: CandidatePool, understanding: QueryUnderstanding) -> np.ndarray:
        """The ranker's feature matrix for a pool (see :mod:`ltrr_core.ranking.features`); while the
        semantic parts warm up in the background the dense similarity is missing (NaN)."""
        if len(pool) == 0:
            return np.empty((0, len(FEATURE_NAMES)), np.float32)
        warming = self.resources.semantic_warming
        vector = None if warming else self.resources.embedder.encode_query(query_text(understanding))
        return build_features(pool, understanding, self.resources, vector)

    # -- the funnel --------------------------------------------------------------------
    def run(self, understanding: QueryUnderstanding, context: Context, depths: Depths, ranker: Ranker | None,
            retrieved: Mapping[str, Candidates] | None = None, timings: dict[str, float] | None = None) -> FunnelRun:
        """Retrieve ``depths`` (strategy -> k), union, featurize and rank (``ranker`` None: no ranking).

        ``retrieved`` holds deeper lists a caller already has (the simulator's full-depth
        lists): a strategy found there is cut to its depth instead of retrieved again, which
        gives the same list because top-k is a prefix of any deeper top-k.
        """
        timings = {} if timings is None else timings
        retrieved = retrieved or {}
        fetched = self.retrieve_all({s: d for s, d in depths.items() if s not in retrieved}, understanding, context)
        candidates = {s: fetched[s] if s in fetched else retrieved[s].prefix(d) for s, d in depths.items()}
        for strategy, found in candidates.items():
            timings[f"retrieve:{strategy}"] = found.ms
        pool = timed(timings, "union", CandidatePool.union, list(candidates.values()))
        features = timed(timings, "features", self.featurize, pool, understanding)
        ranked = timed(timings, "rank", ranker.rank, pool, features) if ranker is not None else None
        return FunnelRun(understanding, candidates, pool, features, ranked, timings)

    def replay(self, query: str, depths: Depths, ranker: Ranker | None = None,
               context: Context | None = None) -> FunnelRun:
        """Re-run a (logged) query through the funnel with the given arms: training and evaluation."""
        return self.run(self.understand(query), context or Context(), depths, ranker)


def timed(timings: dict[str, float], stage: str, fn: Callable[..., T], *args) -> T:
    """``fn(*args)``, its milliseconds recorded as ``timings[stage]`` (every stage's trace timing)."""
    start = time.perf_counter()
    out = fn(*args)
    timings[stage] = (time.perf_counter() - start) * 1000
    return out

"""Top-k is deterministic: score, then catalog position, so a depth-25 list is the first 25 of the depth-100 list."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from ltrr_core.base.config import Settings
from ltrr_core.pipeline import Pipeline
from ltrr_core.retrieval.candidates import Candidates
from ltrr_core.retrieval.indexes.bm25 import BM25Index, BM25Params
from ltrr_core.retrieval.indexes.dense import DenseIndex
from ltrr_core.retrieval.registry import STRATEGY_ORDER
from ltrr_core.retrieval.resources import Resources
from ltrr_core.selection.context import Context

CASES = 200
QUERIES = [
    "", "jazz", "late night jazz", "jaz", "love", "love songs", "lvoe", "taylor swift", "tayler swfit love",
    "rock", "80s rock", "hip hop", "classical piano", "chill", "happy", "sad songs", "relaxing music for sleep",
    "workout", "energetic", "new releases", "new music", "fresh tracks", "podcasts", "podcast about cooking",
    "a show where people talk about bread", "episodes on true crime", "interviews with scientists",
    "something to study to", "party playlist", "the", "music", "songs", "albums", "artists", "spanish",
    "90s", "blues guitar", "beatles", "xyzzy qwerty",
]


def _expected(scores: np.ndarray, positions: np.ndarray, k: int) -> list[int]:
    """The stable rule, written plainly: score descending, then position ascending."""
    return [p for _, p in sorted(zip((-scores).tolist(), positions.tolist()))[:k]]


def test_from_scores_with_many_ties_is_prefix_consistent():
    for seed in range(CASES):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(30, 400))
        positions = rng.permutation(n * 2)[:n]  # catalog positions, not in array order
        scores = rng.integers(0, 6, n).astype(np.float64)
        ids = [f"e{i}" for i in range(n * 2)]
        deep = Candidates.from_scores("s", ids, positions, scores, 100)
        shallow = Candidates.from_scores("s", ids, positions, scores, 25)
        assert shallow.ids == deep.ids[:25], seed
        assert deep.positions.tolist() == _expected(scores, positions, 100), seed


def test_bm25_search_with_many_ties_is_prefix_consistent():
    for seed in range(CASES):
        rng = np.random.default_rng(seed)
        n_docs = int(rng.integers(30, 400))
        weights = rng.integers(0, 3, (n_docs, 3)).astype(np.float64)  # integer term weights: tied totals
        index = BM25Index(sp.csc_matrix(weights), {"a": 0, "b": 1, "c": 2}, BM25Params())
        tokens = ["a", "b", "c"][: int(rng.integers(1, 4))]
        deep, deep_scores = index.search(tokens, 100)
        shallow, shallow_scores = index.search(tokens, 25)
        assert shallow.tolist() == deep[:25].tolist(), seed
        np.testing.assert_array_equal(shallow_scores, deep_scores[:25])
        totals = weights[:, : len(tokens)].sum(axis=1)
        matched = np.flatnonzero(totals > 0)
        assert deep.tolist() == _expected(totals[matched], matched, 100), seed


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_dense_search_with_duplicate_vectors_is_prefix_consistent(kind):
    for seed in range(20):
        rng = np.random.default_rng(seed)
        distinct = rng.standard_normal((6, 8)).astype(np.float32)
        vectors = distinct[rng.integers(0, 6, 300)]  # exact duplicates: tied cosine scores
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        index = DenseIndex.build(vectors, kind)
        query = rng.standard_normal(8).astype(np.float32)
        deep, deep_scores = index.search(query, 100)
        shallow, _ = index.search(query, 25)
        assert shallow.tolist() == deep[:25].tolist(), seed
        tied = deep_scores[1:] == deep_scores[:-1]
        assert np.all(np.diff(deep)[tied] > 0), seed


@pytest.fixture(scope="module")
def pipeline(default_catalog, app_cache_dir) -> Pipeline:
    return Pipeline(Resources(default_catalog, Settings(cache_dir=app_cache_dir)))


@pytest.mark.parametrize("name", STRATEGY_ORDER)
def test_every_strategy_at_depth_25_returns_the_first_25_of_depth_100(pipeline, name):
    deeper = 0
    for query in QUERIES:
        u = pipeline.understand(query)
        deep = pipeline.retrieve(name, u, Context(), 100)
        shallow = pipeline.retrieve(name, u, Context(), 25)
        assert shallow.ids == deep.ids[:25], query
        tied = deep.scores[1:] == deep.scores[:-1]
        assert np.all(np.diff(deep.scores) <= 0) and np.all(np.diff(deep.positions)[tied] > 0), query
        deeper += len(deep) > 25
    assert deeper >= 5  # the cut at 25 was exercised

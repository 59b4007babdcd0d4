"""The approximate dense indexes against exact search: recall@100 on a clustered synthetic set,
the size threshold of ``auto``, and the IVF cache file."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from ltrr_core.base.config import Settings
from ltrr_core.retrieval.indexes.dense import DenseIndex, resolve_kind

K = 100


def _clustered(rng: np.random.Generator, n: int, d: int = 48, clusters: int = 300) -> np.ndarray:
    """Unit vectors around random cluster centres, like sentence embeddings of a catalog."""
    centres = rng.standard_normal((clusters, d))
    points = centres[rng.integers(0, clusters, n)] + 0.6 * rng.standard_normal((n, d))
    points = points.astype(np.float32)
    return points / np.linalg.norm(points, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    return _clustered(np.random.default_rng(11), 30_000)


def _recall(vectors: np.ndarray, kind: str, queries: np.ndarray) -> float:
    exact = DenseIndex.build(vectors, "flat").search_many(queries, K)
    approximate = DenseIndex.build(vectors, kind).search_many(queries, K)
    return float(np.mean([len(set(e[0].tolist()) & set(a[0].tolist())) / K for e, a in zip(exact, approximate)]))


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_recall_at_100_against_exact_is_at_least_095(vectors, kind):
    rng = np.random.default_rng(12)
    queries = vectors[rng.choice(len(vectors), 60, replace=False)] + 0.05 * rng.standard_normal((60, vectors.shape[1]))
    queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
    assert _recall(vectors, kind, queries) >= 0.95


def test_ivf_scores_are_exact_cosines_best_first(vectors):
    index = DenseIndex.build(vectors, "ivf")
    positions, scores = index.search(vectors[123], 20)
    assert positions[0] == 123
    np.testing.assert_allclose(scores, vectors[positions] @ vectors[123], rtol=1e-5)
    assert np.all(np.diff(scores) <= 1e-6)


def test_auto_is_exact_below_the_threshold_and_ivf_from_it():
    assert Settings().dense_index == "auto" and Settings().dense_exact_below == 100_000
    assert resolve_kind("auto", 99_999, 100_000) == "flat"
    assert resolve_kind("auto", 100_000, 100_000) == "ivf"
    assert resolve_kind("hnsw", 10, 100_000) == "hnsw"
    with pytest.raises(ValueError, match="dense_exact_below"):
        Settings(dense_exact_below="many")


def test_ivf_index_is_loaded_from_its_cache_file(tmp_path):
    vectors = _clustered(np.random.default_rng(2), 3_000)
    DenseIndex.build(vectors, "ivf", tmp_path / "ivf.faiss")
    stamp = (tmp_path / "ivf.faiss").stat().st_mtime_ns
    again = DenseIndex.build(vectors, "ivf", tmp_path / "ivf.faiss")
    assert (tmp_path / "ivf.faiss").stat().st_mtime_ns == stamp
    assert again.kind == "ivf" and again.search(vectors[7], 1)[0].tolist() == [7]


def test_ivf_probing_every_list_is_exact(vectors):
    """The coarse step finds as many lists as asked: with all of them probed, IVF is exact search.
    (An HNSW over the centroids returned at most ~100 lists, so recall stopped rising with probes.)"""
    index = DenseIndex.build(vectors, "ivf")
    ivf = faiss.extract_index_ivf(index.index)
    ivf.nprobe = ivf.nlist
    queries = vectors[:20]
    exact = DenseIndex.build(vectors, "flat").search_many(queries, K)
    for (e, _), (a, _) in zip(exact, index.search_many(queries, K)):
        assert a.tolist() == e.tolist()


@pytest.mark.parametrize("coarse", ["hnsw", "flat"])
def test_an_ivf_file_of_an_earlier_version_is_rebuilt(tmp_path, coarse):
    """Centroids found through an HNSW (before the exact coarse step), or float32 lists (before the
    8-bit codes): either file is rebuilt as the current index."""
    vectors = _clustered(np.random.default_rng(3), 3_000)
    d = vectors.shape[1]
    quantizer = faiss.IndexHNSWFlat(d, 32, faiss.METRIC_INNER_PRODUCT) if coarse == "hnsw" else faiss.IndexFlatIP(d)
    old = faiss.IndexIVFFlat(quantizer, d, 40, faiss.METRIC_INNER_PRODUCT)
    old.train(vectors)
    old.add(vectors)
    faiss.write_index(old, str(tmp_path / "ivf.faiss"))
    DenseIndex.build(vectors, "ivf", tmp_path / "ivf.faiss")
    reloaded = faiss.read_index(str(tmp_path / "ivf.faiss"))
    assert isinstance(faiss.downcast_index(faiss.extract_index_ivf(reloaded).quantizer), faiss.IndexFlat)
    assert isinstance(faiss.downcast_index(reloaded), faiss.IndexIVFScalarQuantizer)


def test_ivf_lists_hold_8_bit_codes_a_quarter_of_the_float_bytes(vectors):
    ivf = faiss.extract_index_ivf(DenseIndex.build(vectors, "ivf").index)
    assert ivf.code_size == vectors.shape[1]  # one byte a dimension, not four

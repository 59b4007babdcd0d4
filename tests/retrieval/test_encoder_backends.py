"""The ONNX Runtime backends of the bundled model against torch fp32, their one-time export,
and the cache keys that keep every backend's vectors apart."""

from __future__ import annotations

import numpy as np
import pytest

from ltrr_core.catalog.schema import Catalog, Entity
from ltrr_core.base.config import Settings
from ltrr_core.retrieval.indexes.embedder import Embedder, ModelNotFoundError
from ltrr_core.retrieval.resources import Resources

TEXTS = [
    "love songs for a rainy day",
    "tayler love",
    "podcast: The Long Table. Weekly conversations with bakers on sourdough starters, crusts, ovens and flour.",
    "Astronomers discuss planets, rockets and telescopes " * 40,  # longer than the model's 256 tokens
    "悲しい 歌",
    "x",
]


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("onnx_exports")


@pytest.fixture(scope="module")
def torch_vectors() -> np.ndarray:
    return Embedder(backend="torch").encode(TEXTS)


@pytest.mark.parametrize(("backend", "min_cosine"), [("onnx", 0.99), ("onnx-int8", 0.97)])
@pytest.mark.slow
def test_onnx_vectors_match_torch(backend, min_cosine, export_dir, torch_vectors):
    embedder = Embedder(backend=backend, export_dir=export_dir)
    vectors = embedder.encode(TEXTS)
    assert vectors.dtype == np.float32 and vectors.shape == torch_vectors.shape
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosine = (vectors * torch_vectors).sum(axis=1)
    assert cosine.min() >= min_cosine, cosine
    # int8 quantizes activations with one scale per batch: a corpus text alone differs a little from itself in a batch
    assert float(embedder.encode_query(TEXTS[0]) @ vectors[0]) >= (0.99999 if backend == "onnx" else 0.99)


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_a_query_vector_does_not_depend_on_the_queries_encoded_with_it(backend, export_dir):
    batched = Embedder(backend=backend, export_dir=export_dir).encode_queries(TEXTS)
    alone = Embedder(backend=backend, export_dir=export_dir)
    for text, vector in zip(TEXTS, batched):
        np.testing.assert_array_equal(alone.encode_query(text), vector)


def test_the_export_is_made_once_and_reused(export_dir):
    Embedder(backend="onnx-int8", export_dir=export_dir)
    files = sorted(export_dir.rglob("*.onnx"))
    assert [f.name for f in files] == ["model-v1-int8.onnx", "model-v1.onnx"]
    stamps = [f.stat().st_mtime_ns for f in files]
    Embedder(backend="onnx-int8", export_dir=export_dir)
    assert [f.stat().st_mtime_ns for f in files] == stamps


def test_a_model_the_onnx_backend_cannot_run_is_a_clear_error(tmp_path):
    (tmp_path / "model").mkdir()
    with pytest.raises(ModelNotFoundError, match="onnx backend needs tokenizer.json"):
        Embedder(str(tmp_path / "model"), backend="onnx", export_dir=tmp_path / "onnx")
    with pytest.raises(ValueError, match="backend: 'tensorrt' is not one of"):
        Settings(backend="tensorrt")


def test_vectors_are_cached_per_model_and_backend_and_torch_keeps_its_name(tmp_path):
    catalog = Catalog([Entity("a", "track", "A")], source="one")
    files = {b: Resources(catalog, Settings(cache_dir=tmp_path, backend=b)).embeddings_file.name
             for b in ("torch", "onnx", "onnx-int8")}
    assert files["torch"] == "embeddings-bundled-all-MiniLM-L6-v2-9fb5d60d-t2.npy"  # the warm caches stay valid
    assert files["onnx"] == "embeddings-bundled-all-MiniLM-L6-v2-9fb5d60d-onnx-t2.npy"
    assert len(set(files.values())) == 3

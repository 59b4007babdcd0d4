"""A cache file that cannot be read is set aside as ``*.unreadable`` (the reason beside it) and
rebuilt; start-up goes on: embeddings (truncated, wrong dimension), the BM25 folder (truncated
weights, a vocabulary that is not an object), a faiss index, a snapshot, an ONNX export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ltrr_core.base import snapshot
from ltrr_core.base.config import Settings
from ltrr_core.catalog.schema import Catalog, Entity
from ltrr_core.retrieval.indexes.bm25 import BM25Index
from ltrr_core.retrieval.indexes.dense import DenseIndex
from ltrr_core.retrieval.resources import Resources

DIM = 8


class FakeEmbedder:
    """Deterministic unit vectors of :data:`DIM` dimensions (the semantic parts without a model)."""

    dim = DIM

    def encode(self, texts, progress=None, label="", parts_dir=None) -> np.ndarray:
        vectors = np.random.default_rng(len(texts)).standard_normal((len(texts), DIM)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture
def catalog() -> Catalog:
    return Catalog(Entity(id=f"e{i}", type="track", title=f"song number {i}", creator=f"artist {i % 7}")
                   for i in range(60))


def _resources(catalog: Catalog, cache: Path) -> Resources:
    res = Resources(catalog, Settings(cache_dir=cache))
    res.__dict__["embedder"] = FakeEmbedder()
    return res


def _set_aside(path: Path) -> str:
    """The reason kept beside ``path``'s set-aside copy (which must exist)."""
    aside = path.with_name(path.name + ".unreadable")
    assert aside.exists(), f"{path.name} was not set aside"
    return aside.with_name(aside.name + ".txt").read_text()


def test_truncated_embeddings_are_set_aside_and_computed_again(catalog, tmp_path):
    first = _resources(catalog, tmp_path)
    path = first.embeddings_file
    expected = np.array(first.embeddings)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    again = _resources(catalog, tmp_path)
    np.testing.assert_array_equal(again.embeddings, expected)
    assert again.embeddings_source == "computed"
    assert "mmap length is greater than file size" in _set_aside(path)
    third = _resources(catalog, tmp_path)
    np.testing.assert_array_equal(third.embeddings, expected)
    assert third.embeddings_source == "cache"  # the rebuilt file is read next time


def test_embeddings_of_another_dimension_are_set_aside_and_search_works(catalog, tmp_path):
    res = _resources(catalog, tmp_path)
    res.embeddings_file.parent.mkdir(parents=True)
    np.save(res.embeddings_file, np.ones((len(catalog), 5), np.float32))  # right rows, not the model's dimension
    assert res.embeddings.shape == (len(catalog), DIM)
    assert "the model gives (n, 8) float32" in _set_aside(res.embeddings_file)
    positions, _ = res.dense.search(res.embeddings[3], 5)  # faiss asserted on the dimension before
    assert positions[0] == 3


@pytest.mark.parametrize("damage", ["truncated weights", "vocab is a list"])
def test_a_damaged_bm25_folder_is_set_aside_and_rebuilt(catalog, tmp_path, damage):
    directory = tmp_path / "bm25"
    built = BM25Index.from_entities(catalog)
    built.save(directory)
    if damage == "truncated weights":
        weights = directory / "weights.npz"
        weights.write_bytes(weights.read_bytes()[:200])
    else:
        (directory / "vocab.json").write_text("[]")
    index = BM25Index.load_or_build(directory, len(catalog), lambda: BM25Index.from_entities(catalog))
    assert index.vocab == built.vocab and (index.weights != built.weights).nnz == 0
    assert _set_aside(directory)
    assert BM25Index.load(directory) is not None  # rebuilt and saved


def test_a_truncated_faiss_index_is_set_aside_and_rebuilt(tmp_path):
    vectors = FakeEmbedder().encode([str(i) for i in range(300)])
    cache_file = tmp_path / "hnsw-model.faiss"
    DenseIndex.build(vectors, "hnsw", cache_file)
    cache_file.write_bytes(cache_file.read_bytes()[:1000])
    index = DenseIndex.build(vectors, "hnsw", cache_file)
    assert len(index) == 300 and index.search(vectors[7], 1)[0][0] == 7
    assert _set_aside(cache_file)


def test_an_unreadable_snapshot_is_set_aside(tmp_path):
    directory = tmp_path / "memory"
    snapshot.save(directory, "memory", 1, 3, {"a": np.arange(3)})
    assert snapshot.load(directory, "memory", 1, 3) is not None
    assert snapshot.load(directory, "memory", 2, 3) is None and directory.exists()  # another version: rebuilt over
    arrays = directory / snapshot.ARRAYS
    arrays.write_bytes(arrays.read_bytes()[:40])
    assert snapshot.load(directory, "memory", 1, 3) is None
    assert not directory.exists() and _set_aside(directory)


def _tiny_onnx_model(target: Path, dim: int = 4) -> None:
    """A valid ONNX 'transformer' whose hidden states repeat the token id ``dim`` times."""
    import onnx
    from onnx import TensorProto, helper

    inputs = [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "tokens"])
              for name in ("input_ids", "attention_mask", "token_type_ids")]
    output = helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "tokens", dim])
    nodes = [
        helper.make_node("Cast", ["input_ids"], ["ids"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["ids", "axis"], ["column"]),
        helper.make_node("Expand", ["column", "shape"], ["last_hidden_state"]),
    ]
    constants = [helper.make_tensor("axis", TensorProto.INT64, [1], [2]),
                 helper.make_tensor("shape", TensorProto.INT64, [3], [1, 1, dim])]
    graph = helper.make_graph(nodes, "tiny", inputs, [output], initializer=constants)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(target))


def test_a_truncated_onnx_export_is_set_aside_and_exported_again(tmp_path, monkeypatch):
    from ltrr_core.base.config import BUNDLED_MODEL
    from ltrr_core.retrieval.indexes import onnx_encoder
    from ltrr_core.retrieval.indexes.embedder import resolve_model_path

    model_path = resolve_model_path(BUNDLED_MODEL)  # its tokenizer; the weights are the tiny model's
    exports: list[Path] = []
    monkeypatch.setattr(onnx_encoder, "_export", lambda path, target: (exports.append(target), _tiny_onnx_model(target)))
    folder = tmp_path / "onnx"
    onnx_file = onnx_encoder.exported_model(model_path, folder, quantized=False)
    onnx_file.write_bytes(onnx_file.read_bytes()[:60])  # a truncated export
    encoder = onnx_encoder.load_encoder(model_path, folder, False, 1, 1)
    assert len(exports) == 2 and encoder.dim == 4
    assert encoder.encode(["hello world"], batch_size=8, threads=1).shape == (1, 4)
    assert "protobuf" in _set_aside(onnx_file).lower()

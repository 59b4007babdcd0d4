"""Corpus encoding in length-sorted chunks: an interrupted run resumes where it stopped and
ends with the vectors of an uninterrupted run."""

from __future__ import annotations

import numpy as np
import pytest

from ltrr_core.retrieval.indexes.corpus_encoding import (
    duration,
    encode_corpus,
    length_order,
)
from ltrr_core.retrieval.indexes.embedder import Embedder, entity_text

CHUNK = 40


class Interrupted(Exception):
    """What a killed run looks like to the encoder: it stops between two chunks."""


@pytest.fixture(scope="module")
def embedder(tmp_path_factory) -> Embedder:
    return Embedder(backend="onnx", export_dir=tmp_path_factory.mktemp("onnx_exports"))


@pytest.fixture(scope="module")
def texts(default_catalog) -> list[str]:
    return [entity_text(e) for e in list(default_catalog)[:200]]


def counting(embedder: Embedder, stop_after: int | None = None):
    """The real encoder, counting the texts it encodes; stops the run after ``stop_after`` chunks."""
    seen: list[int] = []

    def encode(batch):
        if stop_after is not None and len(seen) == stop_after:
            raise Interrupted
        seen.append(len(batch))
        return embedder._run(batch, 32, embedder._corpus_threads)

    return encode, seen


def test_an_interrupted_run_resumes_and_equals_an_uninterrupted_one(embedder, texts, tmp_path):
    encode, _ = counting(embedder)
    whole = encode_corpus(encode, texts, chunk=CHUNK)
    parts = tmp_path / "parts"
    stopped, seen = counting(embedder, stop_after=2)
    with pytest.raises(Interrupted):
        encode_corpus(stopped, texts, parts, chunk=CHUNK)
    assert sorted(p.name for p in parts.glob("chunk-*.npy")) == ["chunk-00000.npy", "chunk-00001.npy"]
    resumed, seen = counting(embedder)
    reported = []
    vectors = encode_corpus(resumed, texts, parts, chunk=CHUNK, progress=lambda label, f: reported.append((label, f)),
                            label="embedding catalog")
    assert sum(seen) == len(texts) - 2 * CHUNK  # only the chunks not saved before
    np.testing.assert_allclose(vectors, whole, atol=1e-6)
    assert reported[-1][1] == 1.0 and "docs/s" in reported[-1][0] and "left" in reported[-1][0]


def test_chunks_of_other_texts_are_never_reused(embedder, texts, tmp_path):
    parts = tmp_path / "parts"
    encode, _ = counting(embedder)
    encode_corpus(encode, texts[:80], parts, chunk=CHUNK)
    encode, seen = counting(embedder)
    changed = ["a different catalog"] + texts[1:80]
    vectors = encode_corpus(encode, changed, parts, chunk=CHUNK)
    assert sum(seen) == 80
    np.testing.assert_allclose(vectors[0], embedder.encode_query("a different catalog"), atol=1e-5)


def test_batches_go_by_length_and_progress_reads_as_time():
    texts = ["ccc", "a", "bb", "dddd", "b"]
    assert [texts[i] for i in length_order(texts)] == ["a", "b", "bb", "ccc", "dddd"]
    assert (duration(5), duration(95), duration(4000)) == ("5s", "1m 35s", "1h 06m")

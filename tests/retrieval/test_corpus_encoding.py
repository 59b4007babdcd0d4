"""Corpus encoding in length-sorted chunks: an interrupted run resumes where it stopped and
ends with the vectors of an uninterrupted run."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from ltrr_core.base.progress import pace
from ltrr_core.retrieval.indexes.corpus_encoding import encode_corpus, length_order
from ltrr_core.retrieval.background import STOP_GRACE_SECONDS
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


@pytest.mark.slow
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
    assert pace(10, 0.25, 4123, "docs") == "412 docs/s · 00:30 left"  # a quarter in 10 s: 30 s more
    assert pace(95, 0.5) == "01:35 left" and pace(4000, 0.5, 12_345_000) == "3.09k/s · 1:06:40 left"
    assert pace(3, 1.0, 30, "docs") == "10.0 docs/s · 00:00 left" and pace(0, 0.0) == "time left unknown"


def test_a_stop_request_ends_the_run_after_the_current_chunk_which_is_saved(texts, tmp_path):
    from ltrr_core.retrieval.indexes.corpus_encoding import EncodingStopped, resume_encodings, stop_encodings

    parts = tmp_path / "parts"
    calls: list[int] = []

    def encode(batch):
        calls.append(len(batch))
        if len(calls) == 2:
            assert not stop_encodings(timeout=0)  # the signal arrives mid-chunk; this run is still going
        return np.ones((len(batch), 3), np.float32)

    try:
        with pytest.raises(EncodingStopped, match=f"stopped after {2 * CHUNK} of {len(texts)} texts; its saved chunks resume"):
            encode_corpus(encode, texts, parts, chunk=CHUNK)
        assert stop_encodings(timeout=0)  # none runs any more
    finally:
        resume_encodings()
    assert len(calls) == 2 and sorted(p.name for p in parts.glob("chunk-*.npy")) == ["chunk-00000.npy", "chunk-00001.npy"]
    assert encode_corpus(encode, texts, parts, chunk=CHUNK).shape == (len(texts), 3)
    assert len(calls) == -(-len(texts) // CHUNK)  # every chunk encoded once: the rerun did the rest only


# The real `ltrr` entry point, embedding a small generated catalog in chunks of 16 texts (so chunks
# are saved within seconds) while `search --wait` waits for the semantic index.
LTRR_WITH_SMALL_CHUNKS = """
import sys
from ltrr_core.retrieval.indexes import corpus_encoding
corpus_encoding.CHUNK_TEXTS = 16
from ltrr_core.cli import main
sys.exit(main())
"""


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_mid_embedding_saves_chunks_and_exits_cleanly(tmp_path, signum, status):
    cache = tmp_path / "cache"
    command = [sys.executable, "-c", LTRR_WITH_SMALL_CHUNKS, "search", "--wait", "love", "--source", "default:1000",
               "--cache-dir", str(cache), "--db", str(tmp_path / "feedback.db"), "--encoder", "torch", "--json"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 240
        while len(list(cache.glob("*/embeddings-*.parts/chunk-*.npy"))) < 2:
            assert process.poll() is None, process.communicate()[1][-2000:]
            assert time.monotonic() < deadline, "no chunk was saved within 240 s"
            time.sleep(0.2)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=STOP_GRACE_SECONDS + 60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == status, stderr[-2000:]
    assert "terminate called" not in stderr and "Aborted" not in stderr and "Traceback" not in stderr, stderr[-2000:]
    chunks = list(cache.glob("*/embeddings-*.parts/chunk-*.npy"))
    assert len(chunks) >= 2 and all(np.load(c).shape == (16, 384) for c in chunks)

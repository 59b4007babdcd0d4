"""Corpus encoding that survives an interruption: texts in length-sorted batches, written in chunks.

Texts are ordered by length (so a padded batch wastes little), cut into chunks of
``CHUNK_TEXTS``, and each chunk's vectors are written atomically to ``parts_dir`` as soon as
they exist. A run that stops (killed, closed app, Ctrl-C) leaves its finished chunks; the next
run loads them and encodes only the rest. ``manifest.json`` names the texts (a hash) and the
chunk size: chunks of other texts are never reused.

Clean shutdown: :func:`stop_encodings` asks every running encoding to stop before its next
chunk (it raises :class:`EncodingStopped`) and waits until they have
(:func:`~ltrr_core.retrieval.background.signals_stop_encodings` does that on SIGINT / SIGTERM).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from ltrr_core.base.cache import write_atomic
from ltrr_core.base.progress import Progress, pace

Encode = Callable[[Sequence[str]], np.ndarray]
CHUNK_TEXTS = 1024

_stop = threading.Event()
_running = threading.Condition()
_running_count = 0


class EncodingStopped(Exception):
    """An encoding stopped on request (:func:`stop_encodings`); its finished chunks are saved."""


def stop_encodings(timeout: float | None = None) -> bool:
    """Ask every running :func:`encode_corpus` to stop before its next chunk; True once none runs
    (within ``timeout`` seconds). Encodings started later stop at once until :func:`resume_encodings`."""
    _stop.set()
    with _running:
        return _running.wait_for(lambda: _running_count == 0, timeout)


def resume_encodings() -> None:
    """Let encodings run again after :func:`stop_encodings`."""
    _stop.clear()


@contextmanager
def _counted() -> Iterator[None]:
    global _running_count
    with _running:
        _running_count += 1
    try:
        yield
    finally:
        with _running:
            _running_count -= 1
            _running.notify_all()


def length_order(texts: Sequence[str]) -> np.ndarray:
    """Positions of ``texts`` by length, shortest first (ties keep their order)."""
    return np.argsort(np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts)), kind="stable")


class _Rate:
    """Texts per second and time left; time left goes by characters (later chunks are longer)."""

    def __init__(self, total_chars: int) -> None:
        self.started = time.perf_counter()
        self.total_chars = total_chars
        self.texts = self.chars = 0

    def add(self, texts: int, chars: int) -> None:
        self.texts += texts
        self.chars += chars

    def describe(self) -> str:
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        if not self.texts:
            return "starting"
        return pace(elapsed, self.chars / max(self.total_chars, 1), self.texts, "docs")


def _manifest(texts: Sequence[str], chunk: int) -> dict:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8", "surrogatepass") + b"\x00")
    return {"texts": len(texts), "texts_sha256": digest.hexdigest(), "chunk": chunk}


def _prepare(parts_dir: Path, manifest: dict) -> None:
    """Keep ``parts_dir``'s chunks if they are of these texts, else start it afresh."""
    path = parts_dir / "manifest.json"
    try:
        same = json.loads(path.read_text(encoding="utf-8")) == manifest
    except (OSError, ValueError):
        same = False
    if not same:
        shutil.rmtree(parts_dir, ignore_errors=True)
        write_atomic(path, lambda tmp: tmp.write_text(json.dumps(manifest), encoding="utf-8"))


def encode_corpus(encode: Encode, texts: Sequence[str], parts_dir: Path | None = None, chunk: int | None = None,
                  progress: Progress | None = None, label: str = "embedding") -> np.ndarray:
    """Vectors of ``texts`` (in their order) from ``encode`` over length-sorted chunks of ``chunk``
    texts (:data:`CHUNK_TEXTS` as it is at the call).

    With ``parts_dir`` each chunk is saved as it is done and a rerun resumes from the saved ones.
    ``progress(f"{label} · N docs/s · T left", fraction)`` after each chunk. Raises
    :class:`EncodingStopped` before encoding a chunk once :func:`stop_encodings` was called."""
    with _counted():
        return _encode_chunks(encode, texts, parts_dir, chunk or CHUNK_TEXTS, progress, label)


def _encode_chunks(encode: Encode, texts: Sequence[str], parts_dir: Path | None, chunk: int,
                   progress: Progress | None, label: str) -> np.ndarray:
    order = length_order(texts)
    if parts_dir is not None:
        _prepare(parts_dir, _manifest(texts, chunk))
    rate = _Rate(sum(len(t) for t in texts))
    parts: list[np.ndarray] = []
    for number, start in enumerate(range(0, len(texts), chunk)):
        positions = order[start : start + chunk]
        batch = [texts[i] for i in positions]
        file = parts_dir / f"chunk-{number:05d}.npy" if parts_dir is not None else None
        vectors = _load_chunk(file, len(batch))
        if vectors is None:
            if _stop.is_set():
                raise EncodingStopped(f"{label}: stopped after {start:,} of {len(texts):,} texts"
                                      + ("; its saved chunks resume on the next run" if parts_dir else ""))
            vectors = np.asarray(encode(batch), dtype=np.float32)
            if file is not None:
                write_atomic(file, lambda tmp: np.save(tmp, vectors))
            rate.add(len(batch), sum(len(t) for t in batch))
        else:
            rate.total_chars -= sum(len(t) for t in batch)  # resumed: not part of this run's work
        parts.append(vectors)
        if progress:
            progress(f"{label} · {rate.describe()}", min(1.0, (start + len(batch)) / len(texts)))
    if not parts:
        return np.empty((0, 0), np.float32)
    out = np.empty((len(texts), parts[0].shape[1]), np.float32)
    out[order] = np.concatenate(parts)
    return out


def _load_chunk(file: Path | None, rows: int) -> np.ndarray | None:
    if file is None or not file.exists():
        return None
    try:
        vectors = np.load(file)
    except (OSError, ValueError):
        return None
    return vectors if vectors.ndim == 2 and vectors.shape[0] == rows else None

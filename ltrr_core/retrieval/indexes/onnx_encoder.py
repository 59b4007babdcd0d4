"""A sentence-transformers model on ONNX Runtime: exported once from its local files (torch's
ONNX exporter), optionally dynamically quantized to int8 (weights per channel), and cached.

Nothing is downloaded. The export is the transformer only; mean pooling and L2 normalization
(what ``all-MiniLM-L6-v2``'s ``1_Pooling`` and ``2_Normalize`` modules do) run in numpy, and
the tokenizer is the model's own ``tokenizer.json`` (Hugging Face ``tokenizers``), cut at the
model's ``max_seq_length`` like sentence-transformers does.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from ltrr_core.base.cache import read_or_set_aside, write_atomic

EXPORT_FORMAT = 1  # bump when the export recipe changes: it is part of the cached file's folder
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OPSET = 17


class UnsupportedModelError(ValueError):
    """The model folder lacks what the ONNX backend needs (mean pooling, a tokenizer.json)."""


def model_config(model_path: str) -> tuple[int, bool]:
    """``(max_seq_length, normalize)`` of a mean-pooling sentence-transformers folder, or UnsupportedModelError."""
    folder = Path(model_path)
    pooling = folder / "1_Pooling" / "config.json"
    if not (folder / "tokenizer.json").is_file() or not pooling.is_file():
        raise UnsupportedModelError(f"{model_path}: the onnx backend needs tokenizer.json and 1_Pooling/config.json;"
                                    " use --encoder torch for this model")
    if not json.loads(pooling.read_text(encoding="utf-8")).get("pooling_mode_mean_tokens"):
        raise UnsupportedModelError(f"{model_path}: the onnx backend supports mean pooling only; use --encoder torch")
    st_config = folder / "sentence_bert_config.json"
    max_len = json.loads(st_config.read_text(encoding="utf-8")).get("max_seq_length", 256) if st_config.is_file() else 256
    modules = folder / "modules.json"
    normalize = modules.is_file() and any(m.get("type", "").endswith("Normalize")
                                          for m in json.loads(modules.read_text(encoding="utf-8")))
    return int(max_len), normalize


def exported_model(model_path: str, folder: Path, quantized: bool) -> Path:
    """The ONNX file for ``model_path`` under ``folder`` (exported, then quantized, on first use)."""
    fp32 = _export_file(folder, quantized=False)
    if not fp32.exists():
        write_atomic(fp32, lambda tmp: _export(model_path, tmp))
    if not quantized:
        return fp32
    int8 = _export_file(folder, quantized=True)
    if not int8.exists():
        write_atomic(int8, lambda tmp: _quantize(fp32, tmp))
    return int8


def load_encoder(model_path: str, folder: Path, quantized: bool, corpus_threads: int,
                 query_threads: int) -> "OnnxEncoder":
    """An :class:`OnnxEncoder` over the model's export in ``folder`` (:func:`exported_model`); an
    exported file ONNX Runtime cannot load (truncated, corrupt) is set aside and exported again."""
    def load() -> OnnxEncoder:
        return OnnxEncoder(model_path, exported_model(model_path, folder, quantized), corpus_threads, query_threads)

    return read_or_set_aside(_export_file(folder, quantized), load) or load()


def _export_file(folder: Path, quantized: bool) -> Path:
    return folder / f"model-v{EXPORT_FORMAT}{'-int8' if quantized else ''}.onnx"


def _export(model_path: str, target: Path) -> None:
    import torch
    from transformers import AutoModel

    class LastHidden(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    wrapped = LastHidden(AutoModel.from_pretrained(model_path).eval())
    ids = torch.ones(2, 8, dtype=torch.long)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(wrapped, (ids, torch.ones_like(ids), torch.zeros_like(ids)), str(target),
                          input_names=list(INPUTS), output_names=["last_hidden_state"],
                          dynamic_axes={n: {0: "batch", 1: "tokens"} for n in (*INPUTS, "last_hidden_state")},
                          opset_version=OPSET, dynamo=False)


def _quantize(source: Path, target: Path) -> None:
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.disable(logging.WARNING)  # its "consider pre-processing" advice, on the root logger
    try:
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        logging.disable(logging.NOTSET)


class OnnxEncoder:
    """``encode(texts, threads)``: mean-pooled (normalized) float32 vectors from an ONNX file.

    Two sessions share the file: one with the corpus thread count, one with the query thread
    count (ONNX Runtime fixes a session's threads when it is created)."""

    def __init__(self, model_path: str, onnx_file: Path, corpus_threads: int, query_threads: int) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        max_len, self.normalize = model_config(model_path)
        self.tokenizer = Tokenizer.from_file(str(Path(model_path) / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_len)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._sessions: dict[int, object] = {}
        for threads in {corpus_threads, query_threads}:
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            # no spin-waiting between ops: on a machine shared with busy processes spinning threads
            # cost far more than they save (the same trade-off as LTRR_QUERY_THREADS for torch)
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._sessions[threads] = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        session = next(iter(self._sessions.values()))
        self.dim = int(session.get_outputs()[0].shape[-1])
        self._inputs = {i.name for i in session.get_inputs()}

    def encode(self, texts: Sequence[str], batch_size: int, threads: int) -> np.ndarray:
        session = self._sessions[threads]
        parts = []
        for start in range(0, len(texts), batch_size):
            encodings = self.tokenizer.encode_batch(list(texts[start : start + batch_size]))
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
            summed = np.einsum("bt,btd->bd", mask.astype(np.float32), hidden)
            vectors = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1).astype(np.float32)
            if self.normalize:
                vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            parts.append(vectors.astype(np.float32))
        return np.concatenate(parts) if parts else np.empty((0, self.dim), np.float32)

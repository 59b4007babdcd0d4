"""Small helpers for the on-disk cache: readable file-name slugs, atomic writes, and setting aside
a cache file that cannot be read (so it is rebuilt, and kept for a look)."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
from pathlib import Path
from typing import Callable, TypeVar

T = TypeVar("T")
UNREADABLE = ".unreadable"
log = logging.getLogger(__name__)


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


def set_aside(path: Path, reason: str) -> Path:
    """Rename the unusable cache file or folder ``path`` to ``<name>.unreadable`` (replacing an older
    one), with ``reason`` logged and written beside it (``<name>.unreadable.txt``); the caller then
    rebuilds ``path``. Another process setting it aside first is fine."""
    target = path.with_name(path.name + UNREADABLE)
    if target.is_dir():
        shutil.rmtree(target, ignore_errors=True)
    try:
        os.replace(path, target)
    except FileNotFoundError:
        return target  # gone already: another process set it aside (or it was never there)
    write_atomic(target.with_name(target.name + ".txt"), lambda p: p.write_text(reason + "\n", encoding="utf-8"))
    log.warning("%s is unreadable (%s): set aside as %s and rebuilt", path, reason, target.name)
    return target


def read_or_set_aside(path: Path, read: Callable[[], T]) -> T | None:
    """``read()`` of the cache at ``path``; when it raises (the file is truncated, corrupt or not what
    it should be), the cache is set aside (:func:`set_aside`) and None returned, for a rebuild."""
    try:
        return read()
    except MemoryError:
        raise
    except Exception as exc:  # any other failure to read a cache means: rebuild it
        set_aside(path, f"{type(exc).__name__}: {exc}")
        return None

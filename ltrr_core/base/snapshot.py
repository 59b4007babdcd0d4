"""Columnar snapshots of in-memory indexes: ``arrays.npz`` (numpy, no pickle) + ``meta.json``.

A snapshot is a folder in the catalog's cache dir (beside ``bm25/``). ``meta.json`` names the
snapshot's kind and format version, the catalog size it was built for and the shape and dtype of
every array; it is written last. A snapshot of another kind, version or size loads as None and is
rebuilt over; one that cannot be read (a truncated or corrupt file, arrays and meta that disagree
after a crash between the two writes) is set aside as ``<folder>.unreadable``
(:func:`~ltrr_core.base.cache.set_aside`) and rebuilt.

String lists are stored as one NUL-joined UTF-8 byte array (:func:`pack_strings`): splitting it
back is far faster than parsing a million JSON strings. :class:`KeyedRows` is the CSR layout
every postings table here uses: sorted string keys -> a slice of row (and value) arrays.
"""

from __future__ import annotations

import gc
import json
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Mapping

import numpy as np

from ltrr_core.base.cache import read_or_set_aside, write_atomic

ARRAYS, META = "arrays.npz", "meta.json"
SEPARATOR = "\x00"


_pauses = 0  # paused_gc blocks running now, in any thread
_pauses_lock = threading.Lock()
_collecting_before = True


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic collector off while a block builds or loads millions of objects (a catalog, an
    index): otherwise every full collection rescans all the objects made so far, which at 1M
    entities multiplies a load's time several times. Counted, so parts loading side by side in
    threads keep it off until the last one ends; then it is restored as the first one found it."""
    global _pauses, _collecting_before
    with _pauses_lock:
        if _pauses == 0:
            _collecting_before = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pauses_lock:
            _pauses -= 1
            if _pauses == 0 and _collecting_before:
                gc.enable()


def pack_strings(strings: list[str]) -> np.ndarray:
    """``strings`` as one uint8 array (NUL-joined UTF-8); a string holding NUL raises ValueError."""
    text = SEPARATOR.join(strings)
    if text.count(SEPARATOR) != max(len(strings) - 1, 0):
        raise ValueError("pack_strings: a string contains NUL")
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8) if strings else np.empty(0, np.uint8)


def unpack_strings(packed: np.ndarray, count: int) -> list[str]:
    """The ``count`` strings of :func:`pack_strings`; ValueError when they are not ``count``."""
    if count == 0:
        return []
    strings = packed.tobytes().decode("utf-8").split(SEPARATOR)
    if len(strings) != count:
        raise ValueError(f"unpack_strings: {len(strings)} strings, expected {count}")
    return strings


def save(directory: Path, kind: str, version: int, n: int, arrays: Mapping[str, np.ndarray], **extra) -> None:
    """Write ``arrays`` and the meta (kind, version, catalog size ``n``, shapes, JSON ``extra``)."""
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {name: np.ascontiguousarray(a) for name, a in arrays.items()}
    write_atomic(directory / ARRAYS, lambda p: np.savez(p, **arrays))
    shapes = {name: [list(a.shape), a.dtype.str] for name, a in arrays.items()}
    meta = {"kind": kind, "version": version, "n": n, "arrays": shapes, "extra": extra}
    write_atomic(directory / META, lambda p: p.write_text(json.dumps(meta, ensure_ascii=False)))


def load(directory: Path, kind: str, version: int, n: int) -> tuple[dict[str, np.ndarray], dict] | None:
    """(arrays, extra) of a snapshot written by :func:`save` for this kind, version and catalog
    size, or None when it is absent, of another kind, version or size, or unreadable (then it is
    set aside for a rebuild)."""
    if not (directory / META).exists():
        return None
    return read_or_set_aside(directory, lambda: _read(directory, kind, version, n))


def _read(directory: Path, kind: str, version: int, n: int) -> tuple[dict[str, np.ndarray], dict] | None:
    """The snapshot's (arrays, extra); None when it is of another kind, version or size; raises when unreadable."""
    meta = json.loads((directory / META).read_text())
    if not isinstance(meta, dict):
        raise ValueError(f"{META} holds a JSON {type(meta).__name__}, not an object")
    if (meta.get("kind"), meta.get("version"), meta.get("n")) != (kind, version, n):
        return None
    with np.load(directory / ARRAYS, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    shapes = {name: [list(a.shape), a.dtype.str] for name, a in arrays.items()}
    if shapes != meta["arrays"]:
        raise ValueError(f"the arrays {shapes} are not the ones {META} lists")
    return arrays, meta["extra"]


class KeyedRows:
    """String key -> ascending-key CSR slice: ``rows[ptr[i]:ptr[i + 1]]`` (and ``values``) for
    ``keys[i]``. Read-only views; a Mapping-like ``get`` / ``[]`` / ``in`` / iteration over keys
    (sorted). Built from a dict of row lists (:meth:`from_lists`) or a snapshot (:meth:`from_arrays`)."""

    def __init__(self, keys: list[str], ptr: np.ndarray, rows: np.ndarray, values: np.ndarray | None = None) -> None:
        if len(ptr) != len(keys) + 1 or ptr[-1] != len(rows) or (values is not None and len(values) != len(rows)):
            raise ValueError("KeyedRows: keys, ptr, rows and values disagree")
        self.keys, self.ptr, self.rows, self.values = keys, ptr, rows, values
        self._at = dict(zip(keys, range(len(keys))))
        for array in (ptr, rows, values):
            if array is not None:
                array.setflags(write=False)

    @classmethod
    def from_lists(cls, lists: Mapping[str, list[int] | np.ndarray], values: Mapping[str, list[float]] | None = None) -> "KeyedRows":
        keys = sorted(lists)
        sizes = np.fromiter((len(lists[k]) for k in keys), dtype=np.int64, count=len(keys))
        ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        rows = np.concatenate([np.asarray(lists[k], dtype=np.int64) for k in keys]) if keys else np.empty(0, np.int64)
        stacked = None
        if values is not None:
            stacked = np.concatenate([np.asarray(values[k], dtype=np.float64) for k in keys]) if keys else np.empty(0)
        return cls(keys, ptr, rows.astype(np.int64), stacked)

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        arrays = {f"{prefix}.keys": pack_strings(self.keys), f"{prefix}.ptr": self.ptr, f"{prefix}.rows": self.rows}
        return arrays | ({f"{prefix}.values": self.values} if self.values is not None else {})

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], prefix: str) -> "KeyedRows":
        """The table :meth:`to_arrays` wrote (ValueError / KeyError when inconsistent)."""
        ptr = arrays[f"{prefix}.ptr"]
        keys = unpack_strings(arrays[f"{prefix}.keys"], len(ptr) - 1)
        rows = arrays[f"{prefix}.rows"]
        if np.any(np.diff(ptr) < 0) or ptr[0] != 0:
            raise ValueError(f"{prefix}: ptr is not a CSR pointer")
        return cls(keys, ptr, rows, arrays.get(f"{prefix}.values"))

    def get(self, key: str, default: np.ndarray | None = None) -> np.ndarray | None:
        i = self._at.get(key)
        return default if i is None else self.rows[self.ptr[i]:self.ptr[i + 1]]

    def values_of(self, key: str) -> np.ndarray | None:
        i = self._at.get(key)
        return None if i is None or self.values is None else self.values[self.ptr[i]:self.ptr[i + 1]]

    def __getitem__(self, key: str) -> np.ndarray:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def __contains__(self, key: object) -> bool:
        return key in self._at

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys)

    def __len__(self) -> int:
        return len(self.keys)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, KeyedRows) and self.keys == other.keys and np.array_equal(self.ptr, other.ptr)
                and np.array_equal(self.rows, other.rows)
                and (self.values is None) == (other.values is None)
                and (self.values is None or np.array_equal(self.values, other.values)))

"""Where the shards live: in this process (threads, the default) or in Ray actors.

A backend holds the shards built from their specs and runs ``call(method, *args)`` on every
shard at once (scatter), returning the answers in shard order (gather).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Protocol, Sequence

from ltrr_core.retrieval.shards.shard import IndexShard, ShardSpec


class ShardBackend(Protocol):
    name: str

    def call(self, method: str, *args: Any) -> list[Any]: ...

    def close(self) -> None: ...


class ThreadBackend:
    """Every shard in this process; a call runs on all of them in a thread pool (numpy and faiss
    release the GIL in their inner loops)."""

    name = "threads"

    def __init__(self, specs: Sequence[ShardSpec], address: str | None = None) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(specs)), thread_name_prefix="ltrr-shard")
        self.shards = list(self._pool.map(IndexShard, specs))

    def call(self, method: str, *args: Any) -> list[Any]:
        return list(self._pool.map(lambda shard: getattr(shard, method)(*args), self.shards))

    def close(self) -> None:
        self._pool.shutdown(wait=False)


def _ray_backend(specs: Sequence[ShardSpec], address: str | None = None) -> ShardBackend:
    from ltrr_core.retrieval.shards.ray_backend import RayBackend

    return RayBackend(specs, address)


SHARD_BACKENDS: dict[str, Callable[[Sequence[ShardSpec], str | None], ShardBackend]] = {  # Settings' choices
    "threads": ThreadBackend,
    "ray": _ray_backend,
}


def open_backend(name: str, specs: Sequence[ShardSpec], address: str | None = None) -> ShardBackend:
    if name not in SHARD_BACKENDS:
        raise ValueError(f"backend: {name!r} is not one of {tuple(SHARD_BACKENDS)}")
    return SHARD_BACKENDS[name](specs, address)

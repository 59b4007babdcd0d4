"""Shards in Ray actors: one actor per shard, each building its indexes from its spec.

An actor that dies is restarted by Ray (it rebuilds its shard from the spec it was created
with) and the call is retried, up to :data:`RESTARTS` times; past that the call fails with a
:class:`~ltrr_core.retrieval.shards.shard.ShardError` naming the shard.
"""

from __future__ import annotations

from typing import Any, Sequence

import ray
from ray.exceptions import RayActorError

from ltrr_core.base.cluster import connect
from ltrr_core.retrieval.shards.shard import IndexShard, ShardError, ShardSpec

RESTARTS = 3


@ray.remote(max_restarts=RESTARTS, max_task_retries=RESTARTS)
class ShardActor:
    """Holds one :class:`IndexShard` and answers its methods."""

    def __init__(self, spec: ShardSpec) -> None:
        self.shard = IndexShard(spec)

    def call(self, method: str, *args: Any) -> Any:
        return getattr(self.shard, method)(*args)


class RayBackend:
    name = "ray"

    def __init__(self, specs: Sequence[ShardSpec], address: str | None = None) -> None:
        connect(address)
        self.ranges = [(s.offset, s.offset + len(s.tokens)) for s in specs]
        # The specs stay in the object store while the backend lives: a restarting actor rebuilds from them.
        self.specs = [ray.put(spec) for spec in specs]
        self.actors = [ShardActor.remote(spec) for spec in self.specs]
        self.call("ping")  # built (or failed) before the first search

    def call(self, method: str, *args: Any) -> list[Any]:
        refs = [actor.call.remote(method, *args) for actor in self.actors]
        try:
            return ray.get(refs)
        except RayActorError as exc:
            dead = next(i for i, ref in enumerate(refs) if _failed(ref))
            start, stop = self.ranges[dead]
            raise ShardError(f"shard {dead} (catalog positions {start}..{stop - 1}) died and was not restarted "
                             f"after {RESTARTS} tries: {type(exc).__name__}") from exc

    def close(self) -> None:
        for actor in self.actors:
            ray.kill(actor, no_restart=True)
        self.specs = []


def _failed(ref: "ray.ObjectRef") -> bool:
    try:
        ray.get(ref, timeout=0)
    except RayActorError:
        return True
    except Exception:  # noqa: BLE001 - not ready or another error: not this shard's death
        return False
    return False

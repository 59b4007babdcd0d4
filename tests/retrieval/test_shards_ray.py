"""Sharded retrieval on Ray: one actor per shard, the same top-k as one process; a killed actor restarts."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.ray
ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[ray]')")

from ltrr_core.base.config import Settings  # noqa: E402
from ltrr_core.engine import Engine  # noqa: E402
from ltrr_core.pipeline import Pipeline  # noqa: E402
from ltrr_core.retrieval.resources import Resources  # noqa: E402
from ltrr_core.retrieval.shards.sharded import SHARDED_STRATEGIES, shard_resources  # noqa: E402
from ltrr_core.selection.bandit import PolicyConfig  # noqa: E402
from ltrr_core.selection.context import Context  # noqa: E402
from ltrr_core.simulation.traffic import TrafficGenerator  # noqa: E402


def test_ray_shards_equal_the_single_process_top_k_and_survive_a_killed_actor(ray_cluster, default_catalog, app_cache_dir):
    single = Resources(default_catalog, Settings(cache_dir=app_cache_dir))
    queries = [single.understander.understand(i.query) for i in TrafficGenerator(default_catalog, seed=8).draw(15)]
    sharded = shard_resources(single, 2, backend="ray")
    one, many = Pipeline(single), Pipeline(sharded)
    for name in SHARDED_STRATEGIES:
        for u in queries:
            assert many.retrieve(name, u, Context(), 50).ids == one.retrieve(name, u, Context(), 50).ids, name
    backend = sharded.bm25.backend
    ray.kill(backend.actors[0], no_restart=False)  # the actor dies; Ray restarts it from its spec
    u = queries[0]
    assert many.retrieve("lexical", u, Context(), 50).ids == one.retrieve("lexical", u, Context(), 50).ids
    backend.close()


def test_an_engine_set_to_ray_shards_answers_as_one_index(ray_cluster, default_catalog, app_cache_dir, tmp_path):
    settings = Settings(cache_dir=app_cache_dir, db_path=tmp_path / "one.db")
    one = Engine.open("default", settings, PolicyConfig(name="all"), catalog=default_catalog)
    two = Engine.open("default", settings.with_(shards=2, shard_backend="ray", db_path=tmp_path / "two.db"),
                      PolicyConfig(name="all"), catalog=default_catalog)
    backend = two.runtime.pipeline.resources.bm25.backend
    assert backend.name == "ray" and len(backend.actors) == 2
    for query in ("taylor swift love", "late night jazz"):
        a, b = one.searching.search(query, log=False), two.searching.search(query, log=False)
        assert [i.id for i in b.items] == [i.id for i in a.items]
    backend.close()

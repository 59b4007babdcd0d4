"""Snapshots of the parts built in Python (understander tables, memory cold start, metadata index):
a loaded snapshot behaves exactly like the freshly built object, and a stale or corrupt one is
rebuilt, never a crash."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ltrr_core.base.examination import examination
from ltrr_core.catalog.demo import generate
from ltrr_core.catalog.schema import Catalog
from ltrr_core.base.config import Settings
from ltrr_core.services.latency import BENCH_MIX
from ltrr_core.base import snapshot
from ltrr_core.retrieval.indexes.memory import MemoryIndex
from ltrr_core.retrieval.indexes.metadata import MetadataIndex
from ltrr_core.base.snapshot import KeyedRows, pack_strings, unpack_strings
from ltrr_core.retrieval.resources import Resources
from ltrr_core.retrieval.strategies.explore import Explore
from ltrr_core.retrieval.strategies.memory import Memory
from ltrr_core.retrieval.strategies.structured import Structured
from ltrr_core.selection.context import Context
from ltrr_core.simulation.traffic import TrafficGenerator
from ltrr_core.understanding.understander import CatalogTables, Understander

PARTS = ("understander", "memory", "metadata")
EXTRA = ["love", "80s rock", "tayler love", "podcasts", "sad k-pop songs", "jazz playlists", "english songs", ""]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog(generate(size=3_000), source="small")


@pytest.fixture(scope="module")
def built(catalog, tmp_path_factory) -> Resources:
    """Resources that built every part (and saved the snapshots) in a fresh cache dir."""
    res = Resources(catalog, Settings(cache_dir=tmp_path_factory.mktemp("cache")))
    for part in PARTS:
        getattr(res, part)
    return res


@pytest.fixture(scope="module")
def queries(catalog) -> list[str]:
    return EXTRA + [i.query for i in TrafficGenerator(catalog, seed=11).draw(200, BENCH_MIX)]


def _loaded(built: Resources) -> Resources:
    """A twin whose understander, memory and metadata index come from the snapshots alone."""
    catalog, directory = built.catalog, built.cache_dir
    tables = CatalogTables.load(directory / "understander", len(catalog))
    metadata = MetadataIndex.load(directory / "metadata", catalog)
    assert tables is not None and metadata is not None
    memory = MemoryIndex.load_or_build(catalog, directory / "memory")
    return built.with_parts(share=("ids", "bm25", "popularity"), understander=Understander(catalog, tables=tables),
                            metadata=metadata, memory=memory)


def test_snapshots_are_written_beside_bm25(built):
    for part in PARTS:
        meta = json.loads((built.cache_dir / part / "meta.json").read_text())
        assert meta["n"] == len(built.catalog) and (built.cache_dir / part / "arrays.npz").exists()


def test_loaded_snapshots_retrieve_exactly_like_the_built_objects(built, queries):
    loaded = _loaded(built)
    assert loaded.metadata is not built.metadata and loaded.understander is not built.understander
    for name, tables in (("postings", "postings"), ("names", "names"), ("attributes", "attributes")):
        assert getattr(loaded.metadata, tables) == getattr(built.metadata, tables), name
    strategies = [(cls(built), cls(loaded)) for cls in (Structured, Explore, Memory)]
    compared = 0
    for text in queries:
        fresh, again = built.understander.understand(text), loaded.understander.understand(text)
        assert fresh == again, text
        for a, b in strategies:
            got, want = b.retrieve(again, Context(), 50), a.retrieve(fresh, Context(), 50)
            assert got.ids == want.ids, (a.name, text)
            np.testing.assert_array_equal(got.scores, want.scores)
            compared += len(want.ids)
    assert compared > 1_000


def test_a_loaded_memory_folds_feedback_like_a_built_one(built, queries):
    catalog = built.catalog
    fresh = MemoryIndex.build(catalog)
    loaded = MemoryIndex.load_or_build(catalog, built.cache_dir / "memory")
    for memory in (fresh, loaded):
        for j, text in enumerate(queries[:60]):
            memory.record(text, catalog.entities[(7 * j) % len(catalog)].id, examined=1.0, clicks=1)
            memory.record_shown(f"{text} remix", [catalog.entities[(13 * j) % len(catalog)].id], examination)
        memory.record("a query nobody predicted", catalog.entities[5].id, examined=1.0, clicks=2)
    assert len(loaded) == len(fresh) > loaded._table.n_predicted
    for text in queries + ["a query nobody predicted", "query nobody"]:
        want = [(h.entity_id, h.score, h.key, h.similarity, h.source) for h in fresh.lookup([text], 30)]
        assert [(h.entity_id, h.score, h.key, h.similarity, h.source) for h in loaded.lookup([text], 30)] == want
        assert loaded.explain(text) == fresh.explain(text)
    assert loaded.lookup(["query nobody"], 5)[0].entity_id == catalog.entities[5].id  # a feedback key's postings


def _corruptions(directory):
    arrays, meta = directory / snapshot.ARRAYS, directory / snapshot.META
    good_arrays, good_meta = arrays.read_bytes(), meta.read_text()
    yield "truncated arrays", lambda: arrays.write_bytes(good_arrays[: len(good_arrays) // 2])
    yield "garbage arrays", lambda: arrays.write_bytes(b"\x00not a zip" * 100)
    yield "missing meta", meta.unlink
    yield "meta not json", lambda: meta.write_text("{")
    yield "other version", lambda: meta.write_text(good_meta.replace('"version": 1', '"version": 999'))
    yield "other shape", lambda: meta.write_text(json.dumps(json.loads(good_meta) | {"arrays": {}}))
    flipped = bytearray(good_arrays)
    flipped[len(flipped) // 2] ^= 0xFF
    yield "flipped byte", lambda: arrays.write_bytes(bytes(flipped))


@pytest.mark.parametrize("part", PARTS)
def test_a_corrupt_or_stale_snapshot_is_rebuilt(catalog, built, queries, tmp_path, part):
    settings = Settings(cache_dir=tmp_path)
    Resources(catalog, settings).__getattribute__(part)  # writes a good snapshot
    directory = Resources(catalog, settings).cache_dir / part
    for label, corrupt in _corruptions(directory):
        corrupt()
        res = Resources(catalog, settings)
        rebuilt = getattr(res, part)  # never raises
        assert json.loads((directory / snapshot.META).read_text())["version"] == 1, label  # rewritten
        if part == "understander":
            assert [rebuilt.understand(q) for q in queries[:40]] == [built.understander.understand(q) for q in queries[:40]]
        elif part == "memory":
            assert [h.entity_id for h in rebuilt.lookup(["love"], 20)] == [h.entity_id for h in built.memory.lookup(["love"], 20)]
        else:
            assert rebuilt.postings == built.metadata.postings, label


def test_a_snapshot_of_another_catalog_size_is_not_loaded(catalog, built):
    assert MetadataIndex.load(built.cache_dir / "metadata", Catalog(catalog.entities[:-1])) is None
    assert CatalogTables.load(built.cache_dir / "understander", len(catalog) + 1) is None


def test_string_packing_and_keyed_rows_round_trip():
    strings = ["", "ça va", "k-pop", "日本語", ""]
    assert unpack_strings(pack_strings(strings), len(strings)) == strings
    with pytest.raises(ValueError):
        pack_strings(["a\x00b"])
    with pytest.raises(ValueError):
        unpack_strings(pack_strings(["a", "b"]), 3)
    table = KeyedRows.from_lists({"b": [3, 1], "a": [0]}, {"b": [0.5, 1.0], "a": [0.25]})
    assert table.keys == ["a", "b"] and table["b"].tolist() == [3, 1] and table.values_of("b").tolist() == [0.5, 1.0]
    assert table.get("c") is None and "a" in table and len(table) == 2
    assert KeyedRows.from_arrays(table.to_arrays("t"), "t") == table


def test_the_collector_stays_off_until_the_last_of_overlapping_pauses_ends():
    """Parts load side by side in threads: one part ending its pause must not turn the collector back
    on under another still loading; the last one restores it."""
    import gc

    assert gc.isenabled()
    first, second = snapshot.paused_gc(), snapshot.paused_gc()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()

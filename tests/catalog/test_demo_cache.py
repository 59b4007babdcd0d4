"""``default:N`` is kept in the cache dir in a columnar form that later loads memory-map: the same
entities come back (built when read, whole columns without building any), and a corrupt copy is
regenerated (and rewritten), never a crash."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ltrr_core.catalog import demo_cache
from ltrr_core.catalog.demo import generate
from ltrr_core.catalog.schema import Catalog
from ltrr_core.catalog.sources import load_catalog

SIZE = 2_000


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("LTRR_CACHE_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="module")
def generated():
    return generate(size=SIZE)


def test_the_cached_catalog_loads_the_generated_entities(cache_dir, generated):
    first = load_catalog(f"default:{SIZE}")
    folder = cache_dir / first.content_hash / "catalog"
    assert (folder / demo_cache.META).exists()
    assert list(demo_cache.load(folder, SIZE)) == list(first.entities) == generated
    again = load_catalog(f"default:{SIZE}")
    assert isinstance(again.entities, demo_cache.ColumnarEntities)  # memory-mapped, not rebuilt
    assert list(again.entities) == generated and again.content_hash == first.content_hash
    assert demo_cache.load(folder, SIZE + 1) is None  # another N is another copy


def test_the_mapped_copy_reads_entities_and_columns_on_demand(cache_dir, generated):
    folder = cache_dir / load_catalog(f"default:{SIZE}").content_hash / "catalog"
    lazy = demo_cache.load(folder, SIZE)
    assert len(lazy) == len(generated)
    for i in (0, 1, 17, len(generated) // 2, len(generated) - 1):
        assert lazy[i] == generated[i] and lazy[np.int64(i)] == generated[i]
    assert lazy[-1] == generated[-1] and lazy[10:25] == generated[10:25] and lazy[3:30:7] == generated[3:30:7]
    with pytest.raises(IndexError):
        lazy[len(generated)]
    catalog, eager = Catalog(lazy, content_key="k"), Catalog(generated, content_key="k")
    assert catalog.column("id") == eager.column("id") == [e.id for e in generated]
    assert catalog.column("date_added") == [e.date_added for e in generated]
    assert np.array_equal(catalog.column("popularity"), [e.popularity for e in generated])
    assert catalog.position == eager.position and catalog.by_type() == eager.by_type()
    assert catalog.get(generated[123].id) == generated[123]


def _damage(folder, how):
    meta = folder / demo_cache.META
    description = folder / "description.bytes.npy"
    if how == "truncate":
        description.write_bytes(description.read_bytes()[:1000])
    elif how == "garbage":
        (folder / "genre.ptr.npy").write_bytes(b"\x93NUMPY" + b"\x00" * 500)
    elif how == "missing":
        (folder / "title.ptr.npy").unlink()
    elif how == "meta":
        meta.write_text(meta.read_text().replace('"entities": ', '"entities": 1'))
    else:
        meta.write_text(json.dumps(json.loads(meta.read_text()) | {"version": 1}))


@pytest.mark.parametrize("damage", ["truncate", "garbage", "missing", "meta", "old version"])
def test_a_corrupt_cached_catalog_is_regenerated(cache_dir, generated, damage):
    folder = cache_dir / load_catalog(f"default:{SIZE}").content_hash / "catalog"
    _damage(folder, damage)
    assert demo_cache.load(folder, SIZE) is None
    assert list(load_catalog(f"default:{SIZE}").entities) == generated
    assert list(demo_cache.load(folder, SIZE)) == generated  # rewritten


def test_the_mapped_copy_equals_the_generated_list(cache_dir, generated):
    load_catalog(f"default:{SIZE}")
    lazy = load_catalog(f"default:{SIZE}").entities
    assert lazy == generated and generated == lazy
    assert lazy != generated[:-1] and lazy != [*generated[:-1], generated[0]]

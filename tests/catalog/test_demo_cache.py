"""``default:N`` is kept in the cache dir in a columnar form: a later load reads the same entities
back, and a corrupt copy is regenerated (and rewritten), never a crash."""

from __future__ import annotations

import pytest

from ltrr_core.catalog import demo_cache
from ltrr_core.catalog.demo import generate
from ltrr_core.catalog.sources import load_catalog
from ltrr_core.base import snapshot

SIZE = 2_000


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("LTRR_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_the_cached_catalog_loads_the_generated_entities(cache_dir):
    first = load_catalog(f"default:{SIZE}")
    folder = cache_dir / first.content_hash / "catalog"
    assert (folder / snapshot.META).exists()
    assert demo_cache.load(folder, SIZE) == first.entities == generate(size=SIZE)
    again = load_catalog(f"default:{SIZE}")
    assert again.entities == first.entities and again.content_hash == first.content_hash
    assert demo_cache.load(folder, SIZE + 1) is None  # another N is another copy


@pytest.mark.parametrize("damage", ["truncate", "garbage", "meta"])
def test_a_corrupt_cached_catalog_is_regenerated(cache_dir, damage):
    folder = cache_dir / load_catalog(f"default:{SIZE}").content_hash / "catalog"
    arrays, meta = folder / snapshot.ARRAYS, folder / snapshot.META
    if damage == "truncate":
        arrays.write_bytes(arrays.read_bytes()[:1000])
    elif damage == "garbage":
        arrays.write_bytes(b"PK\x03\x04" + b"\x00" * 500)
    else:
        meta.write_text(meta.read_text().replace('"entities": ', '"entities": 1'))
    assert demo_cache.load(folder, SIZE) is None
    assert load_catalog(f"default:{SIZE}").entities == generate(size=SIZE)
    assert demo_cache.load(folder, SIZE) == generate(size=SIZE)  # rewritten

"""``default:N``: the generator scaled to about N entities: deterministic, the same hard cases,
its own cache key, clear errors for a bad N."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ltrr_core.catalog.demo import DEFAULT_SIZE, generate, parse_size
from ltrr_core.catalog.demo_builder import FRESH_DAYS, REFERENCE_DATE
from ltrr_core.catalog.hard_cases import HARD_CASES
from ltrr_core.catalog.schema import Catalog, CatalogError
from ltrr_core.catalog.sources import load_catalog

SIZE = 40_000  # above scale 1: the subsampled playlist pools and "Vol. 2" playlists are exercised


@pytest.fixture(scope="module")
def scaled() -> Catalog:
    return load_catalog(f"default:{SIZE}")


def _hard_case_ids() -> set[str]:
    ids = {HARD_CASES["fresh_track_existing_artist"], *HARD_CASES["fresh_releases"], *HARD_CASES["multi_genre_artist"]}
    love = HARD_CASES["love_types"]
    ids |= {i for key in ("track", "artist", "genre_track", "playlist", "podcast") for i in love[key]}
    ids |= {i for _, hit, low in HARD_CASES["same_title"] for i in (hit, low)}
    ids |= {artist_id for artist_id, _, _ in HARD_CASES["typo_artists"]}
    ids |= {entity_id for entity_id, _ in HARD_CASES["description_only"]}
    return ids


@pytest.mark.slow
def test_size_is_within_three_percent_and_grows_every_type(scaled, default_catalog):
    assert abs(len(scaled) - SIZE) <= 0.03 * SIZE
    assert scaled.source == f"default:{SIZE}"
    small, big = default_catalog.by_type(), scaled.by_type()
    for kind in ("track", "album", "artist", "playlist", "podcast", "episode"):
        assert big[kind] > 1.4 * small[kind], kind
    assert any(e.title.endswith("Vol. 2") for e in scaled if e.type == "playlist")


@pytest.mark.slow
def test_same_size_and_seed_give_the_same_catalog_other_seed_differs(scaled):
    again = generate(size=SIZE)
    assert again == scaled.entities
    assert [e.title for e in generate(seed=8, size=SIZE)[:500]] != [e.title for e in again[:500]]


@pytest.mark.slow
def test_scale_one_is_the_default_catalog(default_catalog):
    assert generate(size=DEFAULT_SIZE) == default_catalog.entities


@pytest.mark.slow
def test_every_hard_case_is_present_with_its_properties(scaled):
    for entity_id in _hard_case_ids():
        assert entity_id in scaled, entity_id
    for title, popular_id, obscure_id in HARD_CASES["same_title"]:
        hit, low = scaled.get(popular_id), scaled.get(obscure_id)
        assert hit.title == low.title == title and hit.popularity > 0.5 > 0.1 > low.popularity
    for artist_id, name, _query in HARD_CASES["typo_artists"]:
        assert scaled.get(artist_id).title == name
    cutoff = (REFERENCE_DATE - timedelta(days=FRESH_DAYS)).isoformat()
    fresh = {e.id for e in scaled if e.date_added >= cutoff or e.popularity == 0.0}
    assert fresh == set(HARD_CASES["fresh_releases"])
    for entity in scaled:
        for ids in entity.related.values():
            assert all(i in scaled for i in ids), entity.id


@pytest.mark.slow
def test_cache_keys_distinguish_sizes_and_skip_hashing_the_content(scaled, default_catalog):
    other = load_catalog("default:20000")
    keys = {scaled.content_hash, other.content_hash, default_catalog.content_hash}
    assert len(keys) == 3
    assert load_catalog("default:20k").content_hash == other.content_hash  # 20k and 20000 are one size


@pytest.mark.parametrize("text, size", [("100000", 100_000), ("100_000", 100_000), ("100k", 100_000), ("1m", 1_000_000)])
def test_sizes_parse(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("bad", ["abc", "12", "-5", "1.5m", "99999999"])
def test_a_bad_size_names_the_source_and_the_range(bad):
    with pytest.raises(CatalogError, match=rf"default:{bad}: N must be a whole number of entities from 1,000"):
        load_catalog(f"default:{bad}")

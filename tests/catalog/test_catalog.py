"""The built-in demo catalog: determinism, size, and every planted hard case."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rapidfuzz.distance import Levenshtein

from ltrr_core.catalog.demo import generate, to_jsonl_gz
from ltrr_core.catalog.demo_builder import DATA_FILE, FRESH_DAYS, REFERENCE_DATE
from ltrr_core.catalog.hard_cases import HARD_CASES
from ltrr_core.catalog.schema import Catalog, CatalogError, Entity
from ltrr_core.understanding.text import fold, normalize, tokenize


@pytest.fixture(scope="module")
def generated():
    return generate()


@pytest.mark.slow
def test_same_seed_same_entities_and_other_seed_differs(generated):
    assert generate(7) == generated
    other = generate(8)
    assert [e.title for e in other[:500]] != [e.title for e in generated[:500]]


def test_committed_file_equals_generate(generated, default_catalog):
    if not DATA_FILE.exists():
        pytest.skip("data/default_catalog.jsonl.gz not written; the default source generates")
    assert DATA_FILE.read_bytes() == to_jsonl_gz(generated)
    assert default_catalog.entities == generated


def test_size_types_and_ranges(default_catalog):
    by_type = default_catalog.by_type()
    assert len(default_catalog) >= 20_000
    assert {"track", "artist", "album", "playlist", "station", "podcast", "episode"} <= set(by_type)
    tracks = [e for e in default_catalog if e.type == "track"]
    years = [e.year for e in tracks]
    assert min(years) < 1970 and max(years) == 2026
    assert all(e.date_added <= REFERENCE_DATE.isoformat() for e in default_catalog if e.date_added)
    assert {e.language for e in tracks} >= {"en", "es", "pt", "fr", "de", "ko", "ja"}
    genres = {g for e in tracks for g in e.genres}
    assert {"pop", "rock", "hip hop", "jazz", "k-pop", "love songs", "latin", "metal"} <= genres
    assert {"happy", "sad", "chill", "energetic", "romantic", "melancholic"} <= {m for e in tracks for m in e.moods}
    assert all(e.description for e in tracks)
    popularity = sorted(e.popularity for e in tracks)
    assert popularity[len(popularity) // 2] < 0.2 < popularity[-1]  # long tail: low median, a few hits


def test_related_ids_resolve(default_catalog):
    for entity in default_catalog:
        for relation, ids in entity.related.items():
            assert all(i in default_catalog for i in ids), (entity.id, relation)
    track = default_catalog.get("trk_love_me_slowly")
    assert default_catalog.get(track.related["artist"][0]).title == track.creator
    assert default_catalog.get(track.related["album"][0]).title == track.album


def test_some_artist_names_in_korean_or_japanese_script_and_accents(default_catalog):
    names = [e.title for e in default_catalog if e.type == "artist"]
    assert any("\uac00" <= ch <= "\ud7a3" for n in names for ch in n)  # Hangul
    assert any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for n in names for ch in n)
    assert any(fold(n) != n.casefold() for n in names if n[0].isascii())  # Latin names with accents


def test_love_matches_five_kinds(default_catalog):
    case = HARD_CASES["love_types"]
    for track_id in case["track"]:
        assert "love" in tokenize(default_catalog.get(track_id).title)
    assert any("love" in tokenize(default_catalog.get(a).title) for a in case["artist"])
    assert all(normalize(default_catalog.get(a).title).startswith("love") for a in case["artist"])
    for track_id in case["genre_track"]:
        entity = default_catalog.get(track_id)
        assert entity.type == "track" and case["genre"] in entity.genres and "love" not in tokenize(entity.title)
    for key in ("playlist", "podcast"):
        for entity_id in case[key]:
            entity = default_catalog.get(entity_id)
            assert entity.type == key and "love" in tokenize(entity.title)


def test_same_title_tracks_differ_in_popularity_and_artist(default_catalog):
    assert len(HARD_CASES["same_title"]) >= 5
    for title, popular_id, obscure_id in HARD_CASES["same_title"]:
        hit, low = default_catalog.get(popular_id), default_catalog.get(obscure_id)
        assert hit.type == low.type == "track" and hit.title == low.title == title
        assert hit.popularity > 0.5 > 0.1 > low.popularity
        assert hit.creator != low.creator


def test_multi_genre_artists_span_several_genres(default_catalog):
    for artist_id in HARD_CASES["multi_genre_artist"]:
        artist = default_catalog.get(artist_id)
        assert len(artist.genres) >= 3 and abs(sum(artist.genres.values()) - 1) < 1e-6
        tracks = [e for e in default_catalog if e.type == "track" and e.related.get("artist") == (artist_id,)]
        assert {g for t in tracks for g in t.genres} >= set(artist.genres)


def test_typo_queries_are_close_but_not_equal(default_catalog):
    assert len(HARD_CASES["typo_artists"]) >= 5
    for artist_id, name, query in HARD_CASES["typo_artists"]:
        assert default_catalog.get(artist_id).title == name
        assert normalize(query) != normalize(name)
        assert 1 <= Levenshtein.distance(normalize(query), normalize(name)) <= 3


def test_description_only_paraphrases_share_no_content_word(default_catalog):
    assert len(HARD_CASES["description_only"]) >= 4
    for entity_id, query in HARD_CASES["description_only"]:
        entity = default_catalog.get(entity_id)
        assert entity.type in ("podcast", "playlist") and entity.description
        shared = set(tokenize(query, drop_stopwords=True)) & set(tokenize(entity.text, drop_stopwords=True, max_chars=None))
        assert not shared, (entity_id, shared)


def test_fresh_releases_have_no_popularity_and_recent_date(default_catalog):
    cutoff = (REFERENCE_DATE - timedelta(days=FRESH_DAYS)).isoformat()
    fresh = HARD_CASES["fresh_releases"]
    assert {default_catalog.get(i).type for i in fresh} >= {"track", "artist", "album", "episode"}
    for entity_id in fresh:
        entity = default_catalog.get(entity_id)
        assert entity.popularity == 0.0 and cutoff <= entity.date_added <= REFERENCE_DATE.isoformat()
    track = default_catalog.get(HARD_CASES["fresh_track_existing_artist"])
    artist_id = track.related["artist"][0]
    older = [e for e in default_catalog if e.type == "track" and e.related.get("artist") == (artist_id,) and e.id != track.id]
    assert older and all(e.popularity > 0 and e.date_added < cutoff for e in older)


def test_nothing_else_looks_fresh(default_catalog):
    cutoff = (REFERENCE_DATE - timedelta(days=FRESH_DAYS)).isoformat()
    fresh = {e.id for e in default_catalog if e.date_added >= cutoff or e.popularity == 0.0}
    assert fresh == set(HARD_CASES["fresh_releases"])


def test_a_duplicate_id_is_refused_with_its_entity_number():
    entities = [Entity("a", "track", "A"), Entity("b", "track", "B"), Entity("a", "track", "Again")]
    with pytest.raises(CatalogError, match=r"duplicate id 'a' \(entity #3\)"):
        Catalog(entities, source="t")
    assert Catalog(entities[:2]).position == {"a": 0, "b": 1}

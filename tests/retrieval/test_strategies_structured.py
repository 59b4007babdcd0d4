"""The understanding-driven strategies: ``structured`` (metadata search) and ``explore`` (fresh / long tail)."""

from __future__ import annotations

import pytest

from ltrr_core.catalog.hard_cases import HARD_CASES
from ltrr_core.catalog.schema import Catalog, Entity
from ltrr_core.base.config import Settings
from ltrr_core.pipeline import Pipeline
from ltrr_core.retrieval.registry import REGISTRY
from ltrr_core.retrieval.resources import Resources
from ltrr_core.selection.context import Context

CTX = Context()


def _tiny() -> Catalog:
    e = Entity
    return Catalog([
        e("art_taylor", "artist", "Taylor Swift", genres={"pop": 1.0}, popularity=0.95, date_added="2010-01-01"),
        e("trk_love_story", "track", "Love Story", creator="Taylor Swift", album="Fearless", genres={"country": 0.6, "pop": 0.4},
          release_date="2008-09-12", date_added="2010-01-01", popularity=0.9),
        e("trk_shake", "track", "Shake It Off", creator="Taylor Swift", album="1989", genres={"pop": 1.0},
          release_date="2014-08-18", date_added="2014-08-18", popularity=0.85),
        e("trk_fifteen", "track", "Fifteen", creator="Taylor Swift", album="Fearless", genres={"country": 1.0},
          release_date="2008-11-11", date_added="2010-01-01", popularity=0.5),
        e("trk_fresh", "track", "Brand New Day", creator="Taylor Swift", genres={"pop": 1.0},
          release_date="2024-06-01", date_added="2024-06-01", popularity=0.0),
        e("alb_fearless", "album", "Fearless", creator="Taylor Swift", genres={"country": 1.0}, release_date="2008-11-11",
          date_added="2010-01-01", popularity=0.7),
        e("trk_swift_river", "track", "Swift River", creator="Ann Other", genres={"folk": 1.0}, release_date="1999-01-01",
          popularity=0.3),
        e("trk_take_on_me", "track", "Take On Me", creator="a-ha", genres={"synth pop": 1.0}, release_date="1985-04-01",
          popularity=0.8),
        e("trk_80s_jazz", "track", "Midnight Blue", creator="Lovelace Quartet", genres={"jazz": 1.0}, release_date="1986-01-01",
          popularity=0.2),
        e("trk_jazz_new", "track", "Blue Again", creator="Lovelace Quartet", genres={"jazz": 1.0}, release_date="2019-01-01",
          popularity=0.4),
        e("pl_love", "playlist", "Love Songs Forever", genres={"love songs": 1.0}, popularity=0.6),
        e("pl_jazz", "playlist", "Jazz Evenings", genres={"jazz": 1.0}, popularity=0.3),
        e("pod_hist", "podcast", "History Hour", description="weekly history talk", popularity=0.5),
        e("pod_bread", "podcast", "The Long Table", description="bread baking and history of food", popularity=0.2),
        e("ep_bread", "episode", "History of Bread", creator="History Hour", description="bread baking history"),
        e("st_love", "station", "Love Radio", genres={"love songs": 1.0}, popularity=0.4),
    ])


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Pipeline:
    return Pipeline(Resources(_tiny(), Settings(cache_dir=tmp_path_factory.mktemp("cache"))))


@pytest.fixture(scope="module")
def default(default_catalog, tmp_path_factory) -> Pipeline:
    return Pipeline(Resources(default_catalog, Settings(cache_dir=tmp_path_factory.mktemp("cache"))))


def run(pipeline: Pipeline, strategy: str, query: str, k: int = 10):
    return pipeline.retrieve(strategy, pipeline.understand(query), CTX, k)


def test_both_strategies_are_registered():
    assert {"structured", "explore"} <= set(REGISTRY)


# ---------------------------------------------------------------- structured
def test_typo_artist_brings_the_artist_then_their_tracks_by_popularity(tiny):
    found = run(tiny, "structured", "tayler swfit")
    assert found.ids[0] == "art_taylor"
    taylor_tracks = [i for i in found.ids if i.startswith("trk_") and tiny.catalog.get(i).creator == "Taylor Swift"]
    assert set(taylor_tracks) == {"trk_love_story", "trk_shake", "trk_fifteen", "trk_fresh"}
    assert taylor_tracks[:2] == ["trk_love_story", "trk_shake"]  # most popular first
    assert found.ids.index("trk_swift_river") > found.ids.index("trk_fifteen")  # a title hit on "swift" ranks below


def test_artist_field_outweighs_title_field(tiny):
    found = run(tiny, "structured", "swift")
    assert found.ids.index("art_taylor") < found.ids.index("trk_swift_river")


def test_album_brings_its_tracks(tiny):
    found = run(tiny, "structured", "fearless album", k=5)
    assert found.ids[0] == "alb_fearless"
    assert {"trk_love_story", "trk_fifteen"} <= set(run(tiny, "structured", "fearless", k=5).ids)


@pytest.mark.parametrize(("query", "entity_type"), [("podcast", "podcast"), ("podcasts about bread", "podcast"),
                                                    ("jazz playlist", "playlist"), ("love radio station", "station")])
def test_entity_type_word_is_honoured(tiny, query, entity_type):
    found = run(tiny, "structured", query, k=3)
    types = [tiny.catalog.get(i).type for i in found.ids]
    assert types[0] == entity_type
    n_of_type = sum(e.type == entity_type for e in tiny.catalog)
    assert types[: min(n_of_type, 3)] == [entity_type] * min(n_of_type, 3)


def test_podcast_about_bread_prefers_the_matching_podcast(tiny):
    assert run(tiny, "structured", "podcasts about bread").ids[0] == "pod_bread"


def test_decade_attribute_constrains(tiny):
    found = run(tiny, "structured", "80s", k=3)
    assert set(found.ids[:2]) == {"trk_take_on_me", "trk_80s_jazz"}
    jazz80 = run(tiny, "structured", "eighties jazz", k=3)
    assert jazz80.ids[0] == "trk_80s_jazz"
    assert jazz80.notes["constraints"] == {"decade": ["1980s"], "genre": ["jazz"]}


def test_genre_attribute(tiny):
    found = run(tiny, "structured", "jazz", k=5)
    assert set(found.ids) == {"trk_80s_jazz", "trk_jazz_new", "pl_jazz"}  # every jazz entity, nothing else


@pytest.mark.parametrize("entity_type", ["podcast", "playlist"])
def test_type_word_on_the_default_catalog(default, entity_type):
    for query in (entity_type, f"{entity_type}s", f"jazz {entity_type}"):
        found = run(default, "structured", query, k=20)
        types = [default.catalog.get(i).type for i in found.ids]
        assert len(found) == 20 and types.count(entity_type) >= 19, query


def test_typo_artists_on_the_default_catalog(default):
    for artist_id, name, typo in HARD_CASES["typo_artists"]:
        found = run(default, "structured", typo, k=10)
        assert found.ids[0] == artist_id, typo
        own = [i for i in found.ids if default.catalog.get(i).creator == name]
        assert len(own) >= 5, typo


def test_decade_and_genre_on_the_default_catalog(default):
    found = run(default, "structured", "rock songs from the 80s", k=20)
    entities = [default.catalog.get(i) for i in found.ids]
    assert all(e.type == "track" for e in entities)
    assert all(e.year is not None and 1980 <= e.year < 1990 for e in entities)
    assert all("rock" in e.genres for e in entities)


# ---------------------------------------------------------------- explore
def test_fresh_unplayed_track_of_the_matched_artist_comes_first(tiny):
    found = run(tiny, "explore", "taylor swift")
    assert found.ids[0] == "trk_fresh"
    assert "trk_swift_river" not in found.ids  # out of scope: another artist


def test_explore_prefers_the_long_tail_within_a_genre(tiny):
    found = run(tiny, "explore", "jazz")
    assert set(found.ids) == {"trk_80s_jazz", "trk_jazz_new", "pl_jazz"}
    assert found.ids.index("trk_80s_jazz") < found.ids.index("trk_jazz_new")  # same genre, less popular


def test_explore_type_only_query(tiny):
    assert {tiny.catalog.get(i).type for i in run(tiny, "explore", "podcasts").ids} == {"podcast"}


def test_explore_is_deterministic(default):
    first, second = run(default, "explore", "indie"), run(default, "explore", "indie")
    assert first.ids == second.ids and (first.scores == second.scores).all()


@pytest.mark.parametrize("fresh_id", HARD_CASES["fresh_releases"])
def test_fresh_releases_surface_for_their_artist_or_genre(default, fresh_id):
    entity = default.catalog.get(fresh_id)
    queries = [q for q in (entity.creator, entity.album, entity.title if entity.type == "artist" else "", *entity.genres) if q]
    ranks = [run(default, "explore", q, k=20).ids for q in queries]
    assert any(fresh_id in ids for ids in ranks), (fresh_id, queries)


def test_fresh_track_of_an_established_artist(default):
    fresh = default.catalog.get(HARD_CASES["fresh_track_existing_artist"])
    explored = run(default, "explore", fresh.creator, k=5).ids
    structured = run(default, "structured", fresh.creator, k=5).ids
    assert explored[0] == fresh.id
    assert structured[0] == fresh.related["artist"][0]  # structured leads with the (popular) artist itself


# ---------------------------------------------------------------- robustness
BAD = ["", "   ", "x" * 10_000, "\x00\x1b[2J", "🎵🔥", "Любовь", "사랑", "愛", "'; DROP TABLE t; --", "(a|b)*[", "%_%", "s", "the a of"]


@pytest.mark.parametrize("strategy", ["structured", "explore"])
@pytest.mark.parametrize("raw", BAD, ids=range(len(BAD)))
def test_bad_input_never_raises(tiny, strategy, raw):
    found = run(tiny, strategy, raw, k=5)
    assert len(found) <= 5
    assert list(found.scores) == sorted(found.scores, reverse=True)
    if not raw.strip():
        assert len(found) == 0

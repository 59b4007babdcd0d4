"""Query understanding: typo correction, interpretations with likelihoods, robustness."""

from __future__ import annotations

import json

import pytest

from ltrr_core.catalog.schema import Catalog, Entity
from ltrr_core.understanding.query import QueryUnderstanding
from ltrr_core.understanding.understander import Understander
from ltrr_core.understanding.vocabulary import detect_script


def _tiny() -> Catalog:
    e = Entity
    return Catalog([
        e("art_taylor", "artist", "Taylor Swift", genres={"pop": 1.0}, language="en", popularity=0.95),
        e("trk_love_story", "track", "Love Story", creator="Taylor Swift", album="Fearless", genres={"country": 0.6, "pop": 0.4},
          language="en", release_date="2008-09-12", popularity=0.9),
        e("trk_shake", "track", "Shake It Off", creator="Taylor Swift", album="1989", genres={"pop": 1.0}, moods=("happy",),
          language="en", release_date="2014-08-18", popularity=0.85),
        e("art_lovelace", "artist", "Lovelace Quartet", genres={"jazz": 1.0}, popularity=0.2),
        e("trk_midnight", "track", "Midnight Blue", creator="Lovelace Quartet", genres={"jazz": 1.0}, release_date="1985-01-01"),
        e("pl_love", "playlist", "Love Songs Forever", genres={"love songs": 1.0}, moods=("romantic",), popularity=0.6),
        e("trk_kpop", "track", "Bada", creator="Star Glow", genres={"k-pop": 1.0}, language="ko", release_date="2019-05-01"),
        e("trk_desp", "track", "Despacito", creator="Luis Fonsi", genres={"latin": 1.0}, language="es", release_date="2017-01-12"),
        e("alb_fearless", "album", "Fearless", creator="Taylor Swift", release_date="2008-11-11", popularity=0.7),
        e("pod_hist", "podcast", "History Hour", description="weekly history talk", popularity=0.5),
        e("ep_bread", "episode", "History of Bread", creator="History Hour", description="bread baking history"),
        e("st_love", "station", "Love Radio", genres={"love songs": 1.0}, popularity=0.4),
    ])


@pytest.fixture(scope="module")
def tiny() -> Understander:
    return Understander(_tiny())


def _readings(q: QueryUnderstanding) -> set[tuple[str, str, str]]:
    return {(i.kind, i.name, i.value) for i in q.interpretations}


def test_tayler_love_reads_as_taylor_and_love(tiny):
    q = tiny.understand("tayler love")
    assert q.tokens == ("tayler", "love")
    assert q.corrected == ("taylor", "love")
    assert [(c.token, c.suggestion, c.source) for c in q.corrections] == [("tayler", "taylor", "artist")]
    readings = _readings(q)
    assert ("field", "artist", "Taylor Swift") in readings
    assert ("attribute", "genre", "love songs") in readings
    assert ("field", "title", "love") in readings  # "love" as a title word (Love Story)
    assert ("field", "artist", "Lovelace Quartet") in readings  # prefix: a weaker reading
    likelihoods = [i.likelihood for i in q.interpretations]
    assert likelihoods == sorted(likelihoods, reverse=True)
    by_value = {i.value: i.likelihood for i in q.interpretations}
    assert by_value["love songs"] > by_value["Lovelace Quartet"]


def test_multi_token_span_matches_full_artist_name(tiny):
    q = tiny.understand("tayler swfit")
    assert q.corrected == ("taylor", "swift")
    best = q.fields("artist")[0]
    assert (best.value, best.span) == ("Taylor Swift", (0, 2))
    assert best == q.interpretations[0]  # two typos lower the likelihood, yet it is the best reading
    assert 0.5 < best.likelihood < tiny.understand("taylor swift").fields("artist")[0].likelihood


def test_known_words_are_never_corrected(tiny):
    assert not tiny.understand("love story").has_typo
    assert not tiny.understand("making bread").has_typo  # English words absent from the catalog
    assert tiny.understand("lvoe").corrected == ("love",)  # a transposition is a typo


def test_short_and_numeric_tokens_are_left_alone(tiny):
    q = tiny.understand("tay 1989x")
    assert q.corrected == q.tokens


@pytest.mark.parametrize(
    ("query", "entity_type"),
    [("podcasts about bread", "podcast"), ("love songs", "track"), ("jazz band", "artist"), ("fearless lp", "album"),
     ("chill mix", "playlist"), ("jazz radio", "station"), ("history episodes", "episode"), ("playlists", "playlist")],
)
def test_entity_type_words(tiny, query, entity_type):
    q = tiny.understand(query)
    assert entity_type in q.entity_types
    assert max(q.entity_types, key=q.entity_types.get) == entity_type
    assert all(t not in q.content_tokens for t in q.tokens if t.rstrip("s") in ("podcast", "playlist", "episode"))


def test_type_word_inside_a_name_is_less_likely(tiny):
    inside = tiny.understand("love songs").entity_types["track"]
    alone = tiny.understand("pop songs").entity_types["track"]
    assert inside < alone


def test_entity_types_absent_from_the_catalog_are_not_wanted():
    catalog = Catalog([Entity("d1", "document", "Bread baking", description="sourdough")])
    assert Understander(catalog).understand("bread podcast").entity_types == {}


@pytest.mark.parametrize("query", ["80s", "'80s", "80's", "eighties", "1980s", "the 80s rock"])
def test_decades(tiny, query):
    decades = tiny.understand(query).attributes("decade")
    assert decades and decades[0].value == "1980s" and decades[0].likelihood >= 0.8


def test_a_year_is_a_weaker_decade_reading(tiny):
    (reading,) = tiny.understand("1985").attributes("decade")
    assert reading.value == "1980s" and reading.likelihood < 0.8


def test_two_digit_decade_uses_the_catalog_century(tiny):
    assert [r.value for r in tiny.understand("10s").attributes("decade")] == ["2010s"]


def test_languages_and_hints(tiny):
    assert [r.value for r in tiny.understand("spanish pop").attributes("language")] == ["es"]
    kpop = tiny.understand("k-pop")
    assert ("attribute", "genre", "k-pop") in _readings(kpop)
    assert [r.value for r in kpop.attributes("language")] == ["ko"]
    assert kpop.attributes("genre")[0].value == "k-pop"  # the whole name beats the nested "pop"
    assert [r.value for r in tiny.understand("사랑 노래").attributes("language")] == ["ko"]


@pytest.mark.parametrize(
    ("text", "script"),
    [("hello", "latin"), ("愛の歌", "cjk"), ("사랑", "hangul"), ("любовь", "cyrillic"), ("حب", "arabic"),
     ("αγάπη", "other"), ("", "none"), ("1984 !!", "none"), ("🎵", "none")],
)
def test_detect_script(text, script):
    assert detect_script(text) == script


BAD_INPUTS = [
    "", "   \t\n ", "x" * 10_000, "love " * 2_000, "\x00\x07\x1b[31mlove\x1f", "🎵🔥💔", "Любовь", "사랑 노래", "愛の歌",
    "مرحبا بالعالم", "'; DROP TABLE entities; --", "(a|b)*[", ".*+?{}", "\\", "%_% OR 1=1", "\ud800 lone surrogate",
    "t" * 600, "80 s s s", "1",
]


@pytest.mark.parametrize("raw", BAD_INPUTS, ids=range(len(BAD_INPUTS)))
def test_never_raises_and_stays_well_formed(tiny, raw):
    q = tiny.understand(raw)
    assert len(q.corrected) == len(q.tokens)
    assert len(q.normalized) <= 512
    assert all(0.0 < i.likelihood <= 1.0 for i in q.interpretations)
    assert all(0 <= i.span[0] < i.span[1] <= len(q.tokens) for i in q.interpretations)
    json.dumps(q.to_trace())
    assert q.is_empty == (not q.tokens)


def test_empty_query(tiny):
    q = tiny.understand("  \u200b\t ")
    assert q.is_empty and q.script == "none" and q.interpretations == () and q.entity_types == {}


@pytest.mark.parametrize(("raw", "tokens"), [("  🎵 ", ("🎵",)), ("🎸🔥", ("🎸", "🔥")), ("¿?", ("¿", "?")),
                                             ("♪", ("♪",)), ("👩\u200d🎤\ufe0f", ("👩", "🎤"))])
def test_a_letterless_query_keeps_its_symbols(tiny, raw, tokens):
    q = tiny.understand(raw)
    assert not q.is_empty and q.tokens == tokens and q.script == "none"


def test_non_string_input_is_read_as_text(tiny):
    assert tiny.understand(1989).tokens == ("1989",)  # type: ignore[arg-type]


def test_trace_is_json_safe(tiny):
    trace = tiny.understand("tayler swfit songs").to_trace()
    assert json.loads(json.dumps(trace))["corrections"][0]["suggestion"] == "taylor"
    assert trace["entity_types"] == {"track": 0.85}


def test_typo_artists_on_the_default_catalog(default_catalog):
    from ltrr_core.catalog.hard_cases import HARD_CASES

    understander = Understander(default_catalog)
    for _artist_id, name, typo in HARD_CASES["typo_artists"]:
        q = understander.understand(typo)
        assert q.fields("artist")[0].value == name, typo

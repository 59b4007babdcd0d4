"""Simulated users: profiles, intents with known targets, typos and the click model."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from rapidfuzz.distance import Levenshtein

from ltrr_core.catalog.schema import Catalog, Entity
from ltrr_core.selection.context import Context, UserProfile
from ltrr_core.simulation.clicks import ClickModel
from ltrr_core.simulation.intents import (
    DEFAULT_MIX,
    MIN_GENRE_WEIGHT,
    Intent,
    TrafficConfig,
)
from ltrr_core.simulation.paraphrase import PARAPHRASES
from ltrr_core.simulation.profiles import make_profiles
from ltrr_core.simulation.traffic import (
    INTENT_KINDS,
    TrafficGenerator,
    generate_intents,
    validate_mix,
)
from ltrr_core.simulation.typos import add_typos, typo_token
from ltrr_core.understanding.text import analyze


@pytest.fixture(scope="module")
def traffic(default_catalog) -> TrafficGenerator:
    return TrafficGenerator(default_catalog, seed=11)


@pytest.fixture(scope="module")
def intents(traffic) -> list[Intent]:
    return traffic.draw(5000)


def of_kind(intents: list[Intent], kind: str) -> list[Intent]:
    return [i for i in intents if i.kind == kind]


def small_catalog() -> Catalog:
    """Hand-built: tracks in two genres, no podcasts, nothing fresh."""
    entities = [
        Entity(f"t{i}", "track", f"Song Number {i}", creator=f"Artist {i % 3}", genres={"rock" if i % 2 else "jazz": 1.0},
               moods=("sad",), release_date=f"{1980 + i}-01-01", date_added="2015-01-01", popularity=(i + 1) / 40)
        for i in range(30)
    ]
    return Catalog(entities, source="small")


# ------------------------------------------------------------------ determinism and mix


def test_same_seed_same_intents(default_catalog):
    first = generate_intents(default_catalog, 300, seed=5)
    again = generate_intents(default_catalog, 300, seed=5)
    other = generate_intents(default_catalog, 300, seed=6)
    assert first == again
    assert [i.query for i in first] != [i.query for i in other]


def test_mix_is_honoured(traffic):
    mix = {"spearfish": 0.1, "broad": 0.2, "semantic": 0.3, "fresh": 0.4}
    counts = Counter(i.kind for i in traffic.draw(5000, mix))
    for kind, share in mix.items():
        assert abs(counts[kind] / 5000 - share) < 0.025, (kind, counts)


def test_mix_can_shift_mid_run(traffic):
    before = Counter(i.kind for i in traffic.draw(500, {"spearfish": 1.0}))
    after = Counter(i.kind for i in traffic.draw(500, {"semantic": 1.0, "spearfish": 0.0}))
    assert before == {"spearfish": 500} and after == {"semantic": 500}


def test_default_mix_covers_every_kind(intents):
    assert set(Counter(i.kind for i in intents)) == set(DEFAULT_MIX) == set(INTENT_KINDS)


@pytest.mark.parametrize(
    ("mix", "field"),
    [({"navigational": 1.0}, "unknown kind 'navigational'"), ({"broad": -1.0}, r"mix\['broad'\]"), ({"broad": 0.0}, "mix"), ({}, "mix")],
)
def test_invalid_mix_names_the_field(mix, field):
    with pytest.raises(ValueError, match=field):
        validate_mix(mix)


def test_kind_missing_from_catalog_is_dropped_from_default_mix_but_rejected_when_asked():
    traffic = TrafficGenerator(small_catalog(), seed=1)
    assert set(traffic.unavailable) == {"semantic", "fresh"}
    assert {i.kind for i in traffic.draw(200)} == {"spearfish", "broad"}
    with pytest.raises(ValueError, match=r"mix\['semantic'\]"):
        traffic.draw(10, {"semantic": 0.5, "broad": 0.5})


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"typo_rate": 1.5}, "typo_rate"), ({"broad_size": 0}, "broad_size"), ({"reference_date": "nov 1"}, "reference_date")],
)
def test_invalid_traffic_config_names_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        TrafficConfig(**kwargs)


# ------------------------------------------------------------------ profiles and context


def test_profiles_have_varied_tastes_from_the_catalog(default_catalog):
    profiles = make_profiles(default_catalog, n=12, seed=3)
    genres = {g for e in default_catalog for g in e.genres}
    assert len(profiles) == 12 and len({p.id for p in profiles}) == 12
    assert all(p.favourite_genres and set(p.favourite_genres) <= genres for p in profiles)
    assert len({p.favourite_genres[0] for p in profiles}) == 12
    assert profiles == make_profiles(default_catalog, n=12, seed=3)


def test_contexts_follow_a_daily_rhythm(intents):
    hours = Counter(i.context.hour for i in intents)
    assert hours[19] > 3 * hours[3]
    assert len({i.user.id for i in intents}) == 12
    assert 0 < sum(i.context.holiday for i in intents) < 0.1 * len(intents)


def test_favourite_genres_bias_broad_and_spearfish_targets(default_catalog):
    fan = UserProfile("fan", ("reggae",), ("track",))
    traffic = TrafficGenerator(default_catalog, seed=2, profiles=[fan])
    for kind in ("broad", "spearfish"):
        drawn = traffic.draw(400, {kind: 1.0})
        share = np.mean(["reggae" in default_catalog.get(i.target_id).genres for i in drawn])
        assert share > 0.25, kind  # reggae is ~2% of the catalog


# ------------------------------------------------------------------ spearfish and typos


def test_typos_differ_and_stay_within_two_edits():
    rng = np.random.default_rng(0)
    for word in ("midnight", "Schwarzkopf", "love", "rain", "heaven", "aaaa"):
        for _ in range(200):
            typo = typo_token(word, rng)
            assert typo != word and Levenshtein.distance(typo, word) <= 2


def test_short_and_non_alphabetic_tokens_never_get_typos():
    rng = np.random.default_rng(0)
    assert all(add_typos("abc me 2pac", rng) == "abc me 2pac" for _ in range(50))


def test_spearfish_queries_name_their_target_with_realistic_typos(default_catalog, intents):
    spear = of_kind(intents, "spearfish")
    typoed = [i for i in spear if i.has_typo]
    assert 0.1 < len(typoed) / len(spear) < 0.3  # typo_rate 0.2 (a few titles have no eligible token)
    for intent in spear:
        target = default_catalog.get(intent.target_id)
        assert intent.relevant == {intent.target_id} and target.type in ("track", "album", "artist")
        assert set(analyze(target.title)) & set(analyze(intent.intended_query)) or not analyze(target.title)
    for intent in typoed:
        typed, meant = intent.query.split(" "), intent.intended_query.split(" ")
        assert len(typed) == len(meant)
        changed = [(a, b) for a, b in zip(typed, meant) if a != b]
        assert 1 <= len(changed) <= 2
        assert all(len(b) >= 4 and Levenshtein.distance(a, b) <= 2 for a, b in changed)


# ------------------------------------------------------------------ broad


def test_broad_relevant_sets_match_their_attribute(default_catalog, intents):
    broad = of_kind(intents, "broad")
    assert {f.split("=")[0] for i in broad for f in i.attribute.split(";")} >= {"genre", "mood", "decade", "type"}
    for intent in broad:
        assert 5 <= len(intent.relevant) <= 25
        facets = dict(f.split("=", 1) for f in intent.attribute.split(";"))
        for entity in map(default_catalog.get, intent.relevant):
            assert "genre" not in facets or entity.genres.get(facets["genre"], 0) >= MIN_GENRE_WEIGHT
            assert "mood" not in facets or facets["mood"] in entity.moods
            assert "decade" not in facets or entity.release_date[:3] == facets["decade"][:3]
            assert "type" not in facets or entity.type == facets["type"]


def test_broad_relevant_are_the_most_popular_matches(default_catalog, intents):
    intent = next(i for i in of_kind(intents, "broad") if i.attribute == "mood=sad;type=track")
    matches = sorted((e for e in default_catalog if e.type == "track" and "sad" in e.moods), key=lambda e: -e.popularity)
    assert {e.id for e in matches[:25]} == intent.relevant


# ------------------------------------------------------------------ semantic


def test_semantic_paraphrases_share_no_word_with_the_title(default_catalog, intents):
    semantic = of_kind(intents, "semantic")
    assert {default_catalog.get(i.target_id).type for i in semantic} == {"podcast", "playlist", "episode"}
    for intent in semantic:
        target = default_catalog.get(intent.target_id)
        assert not set(analyze(intent.query)) & set(analyze(target.title)), (intent.query, target.title)
        if intent.attribute == "paraphrase=table":
            assert not set(analyze(intent.query)) & set(analyze(target.description)), (intent.query, target.description)


def test_planted_description_only_cases_are_asked_with_their_paraphrase(default_catalog):
    from ltrr_core.catalog.hard_cases import HARD_CASES

    planted = dict(HARD_CASES["description_only"])
    asked = generate_intents(default_catalog, 3000, {"semantic": 1.0}, seed=4)
    hits = [i for i in asked if i.target_id in planted]
    assert hits and all(i.query == planted[i.target_id] for i in hits)
    for entity_id, query in planted.items():
        assert not set(analyze(query)) & set(analyze(default_catalog.get(entity_id).title)), entity_id


def test_paraphrase_table_covers_the_demo_topic_vocabulary():
    from ltrr_core.catalog.demo_words import ACTIVITIES, MOODS, PODCAST_TOPICS

    phrases = [t[1] for t in PODCAST_TOPICS] + [a[1] for a in ACTIVITIES] + list(MOODS)
    assert [p for p in phrases if p not in PARAPHRASES] == []
    for key, options in PARAPHRASES.items():
        assert all(not set(analyze(o)) & set(analyze(key)) for o in options), key


def test_semantic_falls_back_to_description_keywords_on_other_catalogs():
    docs = [
        Entity(f"d{i}", "document", f"Study {i}", description=f"Mitochondrial enzymes regulate apoptosis in cohort {i} of zebrafish")
        for i in range(5)
    ]
    intents = generate_intents(Catalog(docs), 20, {"semantic": 1.0}, seed=0)
    assert {i.attribute for i in intents} == {"paraphrase=keywords"}
    assert all(not set(analyze(i.query)) & {"studi"} and set(analyze(i.query)) for i in intents)


# ------------------------------------------------------------------ fresh


def test_fresh_targets_are_new_and_unplayed(default_catalog, intents):
    fresh = of_kind(intents, "fresh")
    assert fresh
    for intent in fresh:
        target = default_catalog.get(intent.target_id)
        assert target.popularity <= 0.02 and "2026-10-02" <= target.date_added <= "2026-11-01"
        assert intent.query.lower() in {
            target.creator.lower(), target.title.lower()
        } or any(t in intent.query for t in ("song", "album", "artist", "playlist", "episode", "podcast"))


def test_fresh_planted_releases_are_drawn(default_catalog):
    from ltrr_core.catalog.hard_cases import HARD_CASES

    drawn = {i.target_id for i in generate_intents(default_catalog, 1500, {"fresh": 1.0}, seed=9)}
    assert set(HARD_CASES["fresh_releases"]) <= drawn


# ------------------------------------------------------------------ click model


def spear_intent(target: str = "t") -> Intent:
    return Intent("spearfish", "query", target, frozenset({target}), Context())


def engage_rate(model: ClickModel, rank: int, draws: int = 3000, seed: int = 0) -> float:
    intent, rng = spear_intent(), np.random.default_rng(seed)
    ids = [f"x{i}" for i in range(20)]
    ids[rank - 1] = "t"
    return sum(("t", "engage") in model.respond(ids, intent, rng).events for _ in range(draws)) / draws


@pytest.mark.parametrize("kind", ["pbm", "cascade"])
def test_higher_ranks_are_engaged_with_more_often(kind):
    model = ClickModel(kind=kind)
    rates = [engage_rate(model, r) for r in (1, 3, 10)]
    assert 0.9 * 0.85 - 0.04 <= rates[0] <= 0.9 * 0.85 + 0.04  # examined, clicked, engaged
    assert rates[0] > rates[1] + 0.2 > rates[2] + 0.2


def test_responses_are_deterministic_for_a_seed(traffic):
    model = ClickModel()
    intent = traffic.draw(1, {"broad": 1.0})[0]
    ranked = sorted(intent.relevant) + [f"x{i}" for i in range(30)]
    run = lambda seed: [model.respond(ranked, intent, rng) for rng in [np.random.default_rng(seed)] for _ in range(50)]  # noqa: E731
    assert run(1) == run(1) != run(2)


def test_events_follow_clicks_and_the_noise_rates_hold(traffic):
    """Engagement and thumbs come only after a click on the same item; relevant clicks fail to
    engage and irrelevant ones engage at the configured rates; thumbs are rare and sometimes wrong."""
    model, rng = ClickModel(eta=0.0, p_click_irrelevant=0.5, p_thumbs=0.5), np.random.default_rng(7)
    counts = {"rel_click": 0, "rel_engage": 0, "irr_click": 0, "irr_engage": 0, "wrong": 0, "thumbs": 0}
    for intent in traffic.draw(300, {"broad": 1.0}):
        ranked = [f"x{i}" for i in range(5)] + sorted(intent.relevant)
        response = model.respond(ranked, intent, rng)
        clicked = response.ids("click")
        assert set(response.ids("engage")) <= set(clicked)
        assert set(response.ids("thumbs_up")) | set(response.ids("thumbs_down")) <= set(response.ids("engage"))
        assert [e for e, _ in response.clicks] == list(clicked) and all(ranked[r - 1] == e for e, r in response.clicks)
        for entity_id in clicked:
            side = "rel" if entity_id in intent.relevant else "irr"
            counts[f"{side}_click"] += 1
            counts[f"{side}_engage"] += entity_id in response.ids("engage")
        thumbs = [(e, "up") for e in response.ids("thumbs_up")] + [(e, "down") for e in response.ids("thumbs_down")]
        counts["thumbs"] += len(thumbs)
        counts["wrong"] += sum((e in intent.relevant) != (way == "up") for e, way in thumbs)
    assert counts["rel_engage"] / counts["rel_click"] == pytest.approx(0.85, abs=0.04)
    assert counts["irr_engage"] / counts["irr_click"] == pytest.approx(0.15, abs=0.04)
    assert counts["wrong"] / counts["thumbs"] == pytest.approx(0.1, abs=0.05)


def test_the_noiseless_model_engages_exactly_on_relevant_clicks(traffic):
    model, rng = ClickModel(eta=0.0, p_click_irrelevant=0.5).noiseless(), np.random.default_rng(2)
    for intent in traffic.draw(100, {"broad": 1.0}):
        response = model.respond([f"x{i}" for i in range(5)] + sorted(intent.relevant), intent, rng)
        assert set(response.ids("engage")) == {e for e in response.ids("click") if e in intent.relevant}
        assert set(response.ids("thumbs_up")) <= intent.relevant and not set(response.ids("thumbs_down")) & intent.relevant


def test_cascade_stops_after_the_first_engaging_click():
    model, rng = ClickModel(kind="cascade", eta=0.0, p_click_irrelevant=0.5).noiseless(), np.random.default_rng(3)
    intent = Intent("broad", "q", "r1", frozenset({"r1", "r2", "r3"}), Context())
    ranked = ["x1", "r1", "x2", "r2", "x3", "r3", "x4"]
    stopped = 0
    for _ in range(500):
        response = model.respond(ranked, intent, rng)
        if response.ids("engage"):
            stopped += 1
            assert response.clicks[-1][0] == response.ids("engage")[0]
    pbm = ClickModel(kind="pbm", eta=0.0, p_click_irrelevant=0.5)
    after_pbm = [pbm.respond(ranked, intent, rng).clicks for _ in range(500)]
    assert stopped > 400 and any(len([c for c in clicks if c[0].startswith("r")]) > 1 for clicks in after_pbm)


def test_irrelevant_clicks_are_rare_noise():
    model, rng = ClickModel(eta=0.0), np.random.default_rng(0)
    intent = spear_intent("nowhere")
    clicks = sum(len(model.respond([f"x{i}" for i in range(20)], intent, rng).clicks) for _ in range(500))
    assert 0 < clicks / (500 * 20) < 0.08


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"eta": -0.5}, "eta"),
        ({"p_click_relevant": 1.2}, "p_click_relevant"),
        ({"p_click_irrelevant": -0.1}, "p_click_irrelevant"),
        ({"p_engage_relevant": 2}, "p_engage_relevant"),
        ({"p_engage_irrelevant": -1}, "p_engage_irrelevant"),
        ({"p_thumbs": 1.5}, "p_thumbs"),
        ({"p_thumbs_wrong": -0.2}, "p_thumbs_wrong"),
        ({"kind": "dbn"}, "kind"),
        ({"max_examined": 0}, "max_examined"),
    ],
)
def test_invalid_click_model_names_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        ClickModel(**kwargs)


def test_intent_validates_its_truth():
    with pytest.raises(ValueError, match="relevant"):
        Intent("spearfish", "q", "a", frozenset({"b"}), Context())
    with pytest.raises(ValueError, match="kind"):
        Intent("lucky", "q", "a", frozenset({"a"}), Context())

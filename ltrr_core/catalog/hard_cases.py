"""The article's hard cases planted in the demo catalog, by fixed entity id (tests and demos rely on them)."""

from __future__ import annotations

# Every key documents the entities other modules' tests rely on; ids are fixed by construction.
HARD_CASES: dict[str, object] = {
    # Query "love" matches entities of five kinds at once: track titles containing the word,
    # artists ("Love Arcade" by token, "Lovelace Rivers" by prefix/fuzzy), tracks tagged with
    # the genre "love songs", playlists and a podcast.
    "love_types": {
        "query": "love",
        "genre": "love songs",
        "track": ["trk_love_me_slowly", "trk_endless_love", "trk_love_in_the_rain"],
        "artist": ["art_love_arcade", "art_lovelace_rivers"],
        "genre_track": ["trk_paper_hearts", "trk_stay_a_while"],
        "playlist": ["pl_love_songs_forever", "pl_love_on_repeat"],
        "podcast": ["pod_love_and_other_disasters"],
    },
    # Tracks sharing one title, by different artists, with very different popularity:
    # (title, popular track id, obscure track id).
    "same_title": [
        ("Hold On", "trk_same_hold_on_1", "trk_same_hold_on_2"),
        ("Hold On", "trk_same_hold_on_1", "trk_same_hold_on_3"),
        ("Runaway", "trk_same_runaway_1", "trk_same_runaway_2"),
        ("Home", "trk_same_home_1", "trk_same_home_2"),
        ("Home", "trk_same_home_1", "trk_same_home_3"),
        ("Golden", "trk_same_golden_1", "trk_same_golden_2"),
        ("Fireflies", "trk_same_fireflies_1", "trk_same_fireflies_2"),
    ],
    # Artists with weighted genres whose tracks span >= 3 genres.
    "multi_genre_artist": ["art_marisol_okafor", "art_dallas_kingsley", "art_yuki_brandt"],
    # (artist id, exact name, realistic misspelled query within edit distance 3).
    "typo_artists": [
        ("art_tayla_mcallister", "Tayla Mcallister", "tayla mcalister"),
        ("art_phillippa_schwarzkopf", "Phillippa Schwarzkopf", "philipa schwartzkopf"),
        ("art_siobhan_knightley", "Siobhan Knightley", "siobhan nightley"),
        ("art_giselle_rhodes", "Giselle Rhodes", "gisele rodes"),
        ("art_mattheus_ghallagher", "Mattheus Ghallagher", "matheus gallagher"),
        ("art_xavier_beauchamp", "Xavier Beauchamp", "xavier beacham"),
        ("art_aoife_llewellyn", "Aoife Llewellyn", "aoife lewellyn"),
        ("art_zbigniew_przybylski", "Zbigniew Przybylski", "zbigniew pryzbylski"),
    ],
    # Podcasts/playlists with opaque titles, findable only via their description:
    # (entity id, paraphrase query sharing no content word with the entity's text).
    "description_only": [
        ("pod_the_long_table", "podcast about making bread"),
        ("pl_side_b", "obscure songs from old LPs"),
        ("pod_night_shift", "hospital staff overnight"),
        ("pl_quiet_hours", "music for focus and homework"),
        ("pod_second_wind", "jogging tips podcast"),
        ("pl_golden_hour", "songs to play while preparing a meal"),
        ("pod_small_print", "how to manage household spending"),
        ("pod_orbit_club", "show on the cosmos and NASA missions"),
    ],
    # Added within FRESH_DAYS before REFERENCE_DATE, popularity 0 (no plays yet).
    "fresh_releases": [
        "trk_fresh_existing_artist",
        "alb_fresh_existing_artist",
        "art_fresh_debut",
        "trk_fresh_debut",
        "alb_fresh_debut",
        "ep_fresh_long_table",
        "pl_fresh_finds",
    ],
    # A fresh track whose artist already has older, popular tracks in the catalog.
    "fresh_track_existing_artist": "trk_fresh_existing_artist",
}

HARD_PODCASTS = (
    ("pod_love_and_other_disasters", "Love & Other Disasters", "Dating stories, breakups and relationship advice from listeners who have been there.",
     ("dating", "", ("first dates", "ghosting", "long-distance relationships", "meeting the parents")), "Romy Castellanos", 0.55),
    ("pod_the_long_table", "The Long Table", "Conversations on sourdough baking and fermentation at home.",
     ("baking", "", ("starters that survive winter", "rye flour", "kimchi and kraut", "wild yeast")), "Hester Quayle", 0.3),
    ("pod_night_shift", "Night Shift", "Stories from nurses, paramedics and doctors who work while the city sleeps.",
     ("healthcare", "", ("the emergency room at 3am", "ambulance crews", "coffee and triage", "the last patient")), "Dele Marsh", 0.25),
    ("pod_second_wind", "Second Wind", "Runners share training plans, injuries and marathon race-day advice.",
     ("running", "", ("the first 10k", "shin splints", "carb loading", "hill repeats")), "Paula Strand", 0.22),
    ("pod_small_print", "Small Print", "Plain-language explainers on personal finance, budgeting, taxes and saving money.",
     ("personal finance", "", ("emergency funds", "credit scores", "index funds", "filing taxes")), "Ivo Renner", 0.3),
    ("pod_orbit_club", "Orbit Club", "Astronomers and rocket engineers on space exploration, telescopes and distant planets.",
     ("space", "", ("the James Webb telescope", "Mars landers", "exoplanets", "reusable rockets")), "Noor Halvorsen", 0.28),
)

"""The built-in demo catalog: a deterministic, seeded, fictional music + podcast catalog.

``generate(seed)`` builds ~24,500 entities (tracks, artists, albums, playlists, stations,
podcasts, episodes) and plants the article's hard cases, listed in :data:`HARD_CASES`.
All dates are relative to :data:`REFERENCE_DATE`, never to today.

``python -m ltrr_core.demo_catalog --write`` writes ``data/default_catalog.jsonl.gz``
(byte-deterministic); the ``default`` source loads it, or generates when it is absent.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import random
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

from ltrr_core.catalog import Catalog, Entity, register_loader

REFERENCE_DATE = date(2026, 11, 1)
DEFAULT_SEED = 7
DATA_FILE = Path(__file__).resolve().parents[1] / "data" / "default_catalog.jsonl.gz"
FRESH_DAYS = 14
_CATALOG_START = date(2008, 1, 1)  # the fictional service's launch: earliest date_added
_LATEST_ESTABLISHED = REFERENCE_DATE - timedelta(days=FRESH_DAYS + 1)

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

# ---------------------------------------------------------------- vocabulary
GENRES = (
    "pop", "rock", "hip hop", "country", "jazz", "classical", "electronic", "r&b", "latin",
    "metal", "folk", "indie", "k-pop", "j-pop", "blues", "reggae", "soul", "punk", "ambient",
    "love songs",
)
GENRE_WEIGHTS = (14, 12, 11, 7, 5, 4, 8, 6, 7, 4, 5, 7, 4, 2, 3, 2, 3, 3, 2, 4)
GENRE_LABEL = {"hip hop": "Hip Hop", "r&b": "R&B", "k-pop": "K-Pop", "j-pop": "J-Pop", "love songs": "Love Songs"}
MOODS = (
    "happy", "sad", "chill", "energetic", "romantic", "melancholic", "dreamy", "angry",
    "uplifting", "nostalgic", "dark", "peaceful",
)
GENRE_MOODS = {
    "pop": ("happy", "energetic", "romantic", "uplifting"), "rock": ("energetic", "angry", "nostalgic", "sad"),
    "hip hop": ("energetic", "dark", "angry", "happy"), "country": ("nostalgic", "sad", "happy", "romantic"),
    "jazz": ("chill", "romantic", "melancholic", "peaceful"), "classical": ("peaceful", "melancholic", "dreamy", "uplifting"),
    "electronic": ("energetic", "dreamy", "happy", "dark"), "r&b": ("romantic", "chill", "sad", "dreamy"),
    "latin": ("happy", "romantic", "energetic", "uplifting"), "metal": ("angry", "dark", "energetic", "melancholic"),
    "folk": ("nostalgic", "peaceful", "melancholic", "sad"), "indie": ("dreamy", "melancholic", "chill", "happy"),
    "k-pop": ("happy", "energetic", "romantic", "uplifting"), "j-pop": ("happy", "dreamy", "energetic", "nostalgic"),
    "blues": ("sad", "melancholic", "nostalgic", "chill"), "reggae": ("chill", "happy", "uplifting", "peaceful"),
    "soul": ("romantic", "uplifting", "sad", "nostalgic"), "punk": ("angry", "energetic", "happy", "dark"),
    "ambient": ("peaceful", "dreamy", "chill", "melancholic"), "love songs": ("romantic", "sad", "dreamy", "happy"),
}
GENRE_SOUND = {
    "pop": ("glossy synths and a big chorus", "handclaps and a bright hook"), "rock": ("distorted guitars", "pounding drums and a guitar solo"),
    "hip hop": ("a heavy 808 beat", "sampled soul loops and sharp verses"), "country": ("pedal steel and acoustic guitar", "fiddle and a storytelling verse"),
    "jazz": ("brushed drums and upright bass", "a muted trumpet solo"), "classical": ("a string quartet", "solo piano"),
    "electronic": ("pulsing synthesizers", "a four-on-the-floor groove"), "r&b": ("smooth vocals over a slow groove", "warm keys and layered harmonies"),
    "latin": ("reggaeton rhythms", "congas and bright brass"), "metal": ("double-kick drums and growled vocals", "down-tuned riffs"),
    "folk": ("fingerpicked guitar and banjo", "close harmonies"), "indie": ("jangly guitars", "lo-fi drums and hazy vocals"),
    "k-pop": ("slick choreography-ready beats", "a genre-hopping bridge"), "j-pop": ("sparkling synths and a soaring chorus", "city-pop bass lines"),
    "blues": ("slide guitar", "a shuffling twelve-bar groove"), "reggae": ("offbeat skanks and deep bass", "dub echoes"),
    "soul": ("a horn section and gospel backing vocals", "Hammond organ"), "punk": ("three chords at full speed", "shouted gang vocals"),
    "ambient": ("slow-evolving drones", "field recordings and soft pads"), "love songs": ("a tender piano ballad", "strings swelling under the vocal"),
}
GENRE_LANGUAGES = {"k-pop": (("ko", 1.0),), "j-pop": (("ja", 1.0),), "latin": (("es", 0.7), ("pt", 0.3))}
DEFAULT_LANGUAGES = (("en", 0.72), ("es", 0.07), ("pt", 0.04), ("fr", 0.06), ("de", 0.05), ("ko", 0.03), ("ja", 0.03))
LANGUAGE_NAME = {"en": "English", "es": "Spanish", "pt": "Portuguese", "fr": "French", "de": "German", "ko": "Korean", "ja": "Japanese"}

SYLLABLES = (
    "ka ma li ra no ve sa ti lo da mi ren jo el an ar bel cor dan fen gal har is jun kel lan mar "
    "nel or per quin ros sel tor ul val wen zan yor zel bri cal dor ev fin gra hel ivo"
).split()
FIRST_ENDINGS = ("a", "o", "e", "", "n", "ie", "el")
SURNAME_ENDINGS = ("son", "ley", "berg", "ton", "ez", "ova", "elli", "ard", "ford", "stein", "wood", "ski", "ani", "er")
ACCENTED_FIRST = ("Zoé", "Inès", "Björn", "Anaïs", "Mónica", "José", "Renée", "Jürgen", "Noémie", "Joaquín", "Ana Lúcia", "Søren")
ACCENTED_LAST = ("Lefèvre", "Muñoz", "Ström", "Gonçalves", "Dubé", "Fernández", "Núñez", "Östberg", "Jáuregui", "Brontë")
KOREAN_WORDS = ("하늘", "별빛", "소리", "바다", "달빛", "민준", "서연", "지우", "노을", "은하")
JAPANESE_WORDS = ("月光", "サクラ", "ミナ", "ハルカ", "夜空", "青い鳥", "ユウキ", "ひかり", "風街", "ソラ")
BAND_ADJ = ("Velvet", "Electric", "Silver", "Midnight", "Paper", "Neon", "Golden", "Wild", "Hollow", "Crimson", "Lucky", "Broken", "Quiet", "Distant", "Northern", "Copper")
BAND_NOUN = ("Foxes", "Engines", "Lanterns", "Ghosts", "Rivers", "Owls", "Satellites", "Harbors", "Tigers", "Mirrors", "Kites", "Echoes", "Pilots", "Wolves", "Roses", "Comets")
STAGE_PREFIX = ("DJ", "MC", "Lil", "Yung", "Big", "Kid")

TITLE_WORDS = {
    "en": {
        "adj": ("Midnight", "Golden", "Electric", "Broken", "Wild", "Silent", "Burning", "Neon", "Summer", "Lonely", "Sweet", "Cold", "Endless", "Paper", "Crystal", "Blue", "Faded", "Velvet", "Hidden", "Last", "Little", "Open", "Restless", "Slow"),
        "noun": ("Rain", "Hearts", "Fire", "Dreams", "Lights", "Roads", "Ocean", "Stars", "Love", "Shadows", "Heaven", "Thunder", "Sky", "Waves", "Letters", "Gold", "Mirror", "River", "Dance", "Echo", "Garden", "Highway", "Morning", "Night", "Promise", "Satellite", "Storm", "Window"),
        "verb": ("Hold", "Call", "Take", "Find", "Save", "Wake", "Show", "Meet", "Lead", "Tell", "Kiss", "Carry", "Chase", "Love"),
        "adv": ("Home", "Slowly", "Tonight", "Again", "Closer", "Back", "Away", "Forever", "Higher", "Down"),
    },
    "es": {"noun": ("Corazón", "Noche", "Fuego", "Luna", "Amor", "Sol", "Mar", "Calle", "Sueño", "Vida", "Cielo", "Baile", "Lluvia", "Verano"), "join": ("de", "sin", "y")},
    "pt": {"noun": ("Saudade", "Coração", "Mar", "Noite", "Lua", "Amor", "Cidade", "Sol", "Rio", "Sonho", "Janela", "Verão"), "join": ("de", "e", "sem")},
    "fr": {"noun": ("Nuit", "Cœur", "Ciel", "Rêve", "Amour", "Mer", "Ville", "Lumière", "Été", "Étoile", "Pluie", "Danse"), "join": ("et", "sans", "de")},
    "de": {"noun": ("Nacht", "Herz", "Himmel", "Traum", "Liebe", "Meer", "Stadt", "Licht", "Sommer", "Stern", "Regen", "Feuer"), "join": ("und", "ohne")},
    "ko": {"noun": ("사랑", "밤", "별", "꿈", "바다", "하늘", "눈물", "봄", "여름", "우리", "빛", "비"), "join": ("의",)},
    "ja": {"noun": ("夜", "桜", "夢", "空", "恋", "雨", "光", "星", "海", "心", "風", "月"), "join": ("の",)},
}
ALBUM_SUFFIXES = ("", "", "", "", " (Deluxe Edition)", " EP", " Vol. 2", " (Live)", " Sessions", " - Single")

PLAYLIST_SUFFIXES = ("", " Mix", " Essentials", " Vibes", " Evenings", " Hits", " Favorites")
ACTIVITIES = (
    ("Workout", "tracks to push through your workout"), ("Road Trip", "songs for long drives with the windows down"),
    ("Study", "background tracks for reading and revision"), ("Rainy Day", "songs for grey skies and warm tea"),
    ("Dinner Party", "easy listening for hosting friends"), ("Late Night", "after-hours listening"),
    ("Morning Commute", "a gentle start to the working day"), ("Sunday Morning", "slow songs for a lazy weekend"),
)
CURATORS = ("LTR&R Editors", "LTR&R Editors", "LTR&R Editors", "crate_digger", "mixtape_mara", "nightowl", "dj_pablo", "sofia.listens")

PODCAST_TOPICS = (
    ("true crime", "unsolved cases and courtroom drama", ("the missing heiress", "a forged painting", "the night train robbery", "a cold case reopened", "the jury's doubt", "an alibi that cracked")),
    ("history", "forgotten moments of world history", ("the fall of Constantinople", "the Silk Road traders", "the printing press", "Roman engineering", "the Hanseatic League", "the first census")),
    ("technology", "software, startups and the future of computing", ("open-source maintainers", "chip shortages", "the first web browser", "robots in warehouses", "quantum computers", "password managers")),
    ("music industry", "how records get made, promoted and streamed", ("royalties explained", "the producer's chair", "touring on a budget", "vinyl's comeback", "writing a hit chorus", "mastering engineers")),
    ("comedy", "improvised comedy and silly interviews", ("the worst job interview", "a wedding gone wrong", "pets with opinions", "bad first impressions", "holiday disasters", "the office fridge")),
    ("science", "experiments, discoveries and the scientists behind them", ("deep-sea creatures", "the immune system", "volcano forecasting", "the smell of rain", "CRISPR", "sleep research")),
    ("cooking", "recipes, chefs and kitchen techniques", ("knife skills", "the perfect omelette", "street food in Bangkok", "spice blends", "one-pot dinners", "pickling vegetables")),
    ("football", "matches, transfers and tactics", ("the pressing game", "transfer deadline day", "goalkeeper psychology", "derby nights", "youth academies", "the offside rule")),
    ("mental health", "anxiety, therapy and everyday wellbeing", ("panic attacks", "burnout", "journaling", "talking to a therapist", "loneliness", "digital detox")),
    ("business", "founders, markets and money decisions", ("raising a seed round", "pricing a product", "family businesses", "layoffs", "franchise economics", "negotiating a raise")),
    ("film", "movies, directors and what makes a scene work", ("practical effects", "film noir", "the montage", "documentary ethics", "sound design", "the opening shot")),
    ("travel", "slow travel and places off the map", ("night trains across Europe", "Patagonia on foot", "island hopping", "travelling solo", "street markets", "mountain huts")),
    ("parenting", "raising kids and keeping your sense of humour", ("toddler tantrums", "screen time", "bedtime routines", "teenagers and phones", "school choices", "sibling rivalry")),
    ("gardening", "vegetable patches, houseplants and compost", ("tomato blight", "balcony gardens", "composting", "seed saving", "pruning roses", "native wildflowers")),
    ("language learning", "learning languages as an adult", ("Spanish verbs", "immersion trips", "flashcards", "accents", "learning Korean", "bilingual kids")),
    ("politics", "elections, policy and the people in power", ("swing voters", "campaign finance", "local councils", "polling errors", "debate night", "housing policy")),
)
PODCAST_ON_TOPIC = ("{T} Weekly", "The {T} Hour", "{T} Unpacked", "All About {T}", "{T} Tonight", "Inside {T}")
PODCAST_OPAQUE_ADJ = ("Loose", "Open", "Hidden", "Late", "Bright", "Slow", "Second", "Little", "Common", "Parallel", "Tall", "Quiet")
PODCAST_OPAQUE_NOUN = ("Threads", "Window", "Compass", "Kettle", "Lantern", "Harbor", "Ladder", "Orchard", "Signal", "Porch", "Atlas", "Bench")


class _Builder:
    """Accumulates entities with a single seeded RNG; every random draw goes through it."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.entities: list[Entity] = []
        self.artists: dict[str, dict] = {}
        self.tracks: list[Entity] = []
        self.used_names: set[str] = set()

    # -- primitives ---------------------------------------------------------
    def pick(self, options, weights=None):
        return self.rng.choices(options, weights=weights)[0] if weights else self.rng.choice(options)

    def date_in(self, start: date, end: date) -> date:
        return start + timedelta(days=self.rng.randint(0, max(0, (end - start).days)))

    def long_tail(self, scale: float = 1.0) -> float:
        return round(min(1.0, max(0.0005, scale * self.rng.betavariate(0.6, 5.0))), 4)

    def add(self, entity: Entity) -> Entity:
        self.entities.append(entity)
        if entity.type == "track":
            self.tracks.append(entity)
        return entity

    # -- names and titles ---------------------------------------------------
    def word(self, n: int, endings) -> str:
        return ("".join(self.pick(SYLLABLES) for _ in range(n)) + self.pick(endings)).capitalize()

    def artist_name(self, language: str) -> str:
        for _ in range(50):
            roll = self.rng.random()
            if language == "ko" and roll < 0.35:
                name = f"{self.pick(KOREAN_WORDS)} {self.pick(KOREAN_WORDS)}"
            elif language == "ja" and roll < 0.35:
                name = f"{self.pick(JAPANESE_WORDS)}{self.pick(JAPANESE_WORDS)}"
            elif roll < 0.08:
                name = f"{self.pick(ACCENTED_FIRST)} {self.pick(ACCENTED_LAST)}"
            elif roll < 0.25:
                name = f"The {self.pick(BAND_ADJ)} {self.pick(BAND_NOUN)}"
            elif roll < 0.35:
                name = f"{self.pick(STAGE_PREFIX)} {self.word(2, FIRST_ENDINGS)}"
            elif roll < 0.42:
                name = self.word(2, ("x", "o", "a", "y", "")).upper() if self.rng.random() < 0.3 else self.word(3, ("",))
            else:
                name = f"{self.word(self.rng.randint(1, 2), FIRST_ENDINGS)} {self.word(2, SURNAME_ENDINGS)}"
            if name not in self.used_names:
                self.used_names.add(name)
                return name
        raise RuntimeError("could not draw a unique artist name")

    def title(self, language: str) -> str:
        words = TITLE_WORDS["en" if language not in TITLE_WORDS else language]
        if language in ("en",) or (language in ("ko", "ja") and self.rng.random() < 0.4):
            w = TITLE_WORDS["en"]
            pattern = self.rng.randint(0, 4)
            if pattern == 0:
                return f"{self.pick(w['adj'])} {self.pick(w['noun'])}"
            if pattern == 1:
                return f"{self.pick(w['noun'])} of {self.pick(w['noun'])}"
            if pattern == 2:
                return f"{self.pick(w['verb'])} Me {self.pick(w['adv'])}"
            if pattern == 3:
                return f"{self.pick(w['adj'])} {self.pick(w['noun'])} {self.pick(w['adv'])}"
            return self.pick(w["noun"]) if self.rng.random() < 0.3 else f"{self.pick(w['verb'])} the {self.pick(w['noun'])}"
        first, second = self.pick(words["noun"]), self.pick(words["noun"])
        if self.rng.random() < 0.3 or first == second:
            return first
        join = self.pick(words["join"])
        return f"{first}{join}{second}" if language in ("ko", "ja") else f"{first} {join} {second}"

    # -- music --------------------------------------------------------------
    def new_artist(self, artist_id: str, name: str | None = None, genres: dict[str, float] | None = None,
                   language: str | None = None, popularity: float | None = None) -> dict:
        if genres is None:
            primary = self.pick(GENRES, GENRE_WEIGHTS)
            genres = {primary: 1.0}
            if self.rng.random() < 0.3:
                second = self.pick(GENRES, GENRE_WEIGHTS)
                if second != primary:
                    w = round(self.rng.uniform(0.15, 0.45), 2)
                    genres = {primary: round(1 - w, 2), second: w}
        primary = max(genres, key=genres.get)
        if language is None:
            options = GENRE_LANGUAGES.get(primary, DEFAULT_LANGUAGES)
            language = self.pick([o[0] for o in options], [o[1] for o in options])
        if name is None:
            name = self.artist_name(language)
        self.used_names.add(name)
        start = 1960 + int(64 * self.rng.betavariate(2.2, 1.3))
        info = {"id": artist_id, "name": name, "genres": genres, "language": language,
                "popularity": self.long_tail() if popularity is None else popularity,
                "start": min(start, 2025), "albums": [], "tracks": []}
        self.artists[artist_id] = info
        return info

    def artist_entity(self, info: dict) -> Entity:
        primary = max(info["genres"], key=info["genres"].get)
        genre_text = " and ".join(GENRE_LABEL.get(g, g) for g in info["genres"])
        description = (f"{LANGUAGE_NAME[info['language']]}-language {genre_text} artist, active since {info['start']}."
                       if info["tracks"] else f"New {genre_text} artist.")
        added = info.get("added") or min(_LATEST_ESTABLISHED, max(_CATALOG_START, date(info["start"], 6, 1)))
        moods = GENRE_MOODS[primary][:2]
        return Entity(
            id=info["id"], type="artist", title=info["name"], genres=dict(info["genres"]), moods=moods,
            language=info["language"], release_date=f"{info['start']}-01-01", date_added=added.isoformat(),
            popularity=info["popularity"], description=description,
            related={"albums": tuple(info["albums"])} if info["albums"] else {},
        )

    def track_description(self, artist: str, album: str, genre: str, moods: tuple[str, ...], language: str, year: int) -> str:
        mood = moods[0] if moods else "timeless"
        label = GENRE_LABEL.get(genre, genre)
        sung = f", sung in {LANGUAGE_NAME[language]}" if language != "en" and genre not in ("classical", "ambient") else ""
        sound = self.pick(GENRE_SOUND[genre])
        template = self.rng.randint(0, 2)
        if template == 0:
            article = "An" if mood[0] in "aeiou" else "A"
            return f"{article} {mood} {label} song by {artist}{sung}, from the {year} album {album}."
        if template == 1:
            return f"{artist}'s {mood} {label} track with {sound}{sung} ({year})."
        return f"{mood.capitalize()} {label} from {year}: {sound}{sung}."

    def album_with_tracks(self, info: dict, album_id: str, track_ids: list[str], *, album_title: str | None = None,
                          titles: list[str] | None = None, genres: list[str] | None = None,
                          release: date | None = None, added: date | None = None,
                          popularity: list[float] | None = None) -> list[Entity]:
        """One album of ``len(track_ids)`` tracks; every keyword overrides the random draw."""
        lang = info["language"]
        if release is None:
            year = self.rng.randint(info["start"], 2026)
            release = min(_LATEST_ESTABLISHED, self.date_in(date(year, 1, 1), date(year, 12, 28)))
        if added is None:
            added = min(_LATEST_ESTABLISHED, max(release, self.date_in(_CATALOG_START, _CATALOG_START + timedelta(days=900))) + timedelta(days=self.rng.randint(0, 60)))
        album_title = album_title or (self.title(lang) + self.pick(ALBUM_SUFFIXES))
        tracks = []
        for i, track_id in enumerate(track_ids):
            genre = genres[i] if genres else self.pick(list(info["genres"]), list(info["genres"].values()))
            own = GENRE_MOODS[genre]
            moods = tuple(dict.fromkeys(self.rng.sample(own, 2 if self.rng.random() < 0.5 else 1) + ([self.pick(MOODS)] if self.rng.random() < 0.15 else [])))
            track_genres = {genre: 1.0}
            if "romantic" in moods and genre != "love songs" and self.rng.random() < 0.5:
                track_genres["love songs"] = 0.5
            title = titles[i] if titles else self.title(lang)
            pop = popularity[i] if popularity else round(min(1.0, max(0.0005, info["popularity"] * self.rng.lognormvariate(0, 0.5))), 4)
            tracks.append(self.add(Entity(
                id=track_id, type="track", title=title, creator=info["name"], album=album_title, genres=track_genres,
                moods=moods, language=lang, release_date=release.isoformat(), date_added=added.isoformat(), popularity=pop,
                description=self.track_description(info["name"], album_title, genre, moods, lang, release.year),
                related={"artist": (info["id"],), "album": (album_id,)},
            )))
        album_genres: dict[str, float] = defaultdict(float)
        for t in tracks:
            for g, w in t.genres.items():
                album_genres[g] += w / len(tracks)
        self.add(Entity(
            id=album_id, type="album", title=album_title, creator=info["name"],
            genres={g: round(w, 3) for g, w in album_genres.items()}, moods=tracks[0].moods, language=lang,
            release_date=release.isoformat(), date_added=added.isoformat(),
            popularity=round(max(t.popularity for t in tracks) * 0.9, 4),
            description=f"{len(tracks)}-track {'single' if len(tracks) == 1 else 'album'} by {info['name']}, released {release.year}.",
            related={"artist": (info["id"],), "tracks": tuple(t.id for t in tracks)},
        ))
        info["albums"].append(album_id)
        info["tracks"].extend(t.id for t in tracks)
        return tracks


def _generic_music(b: _Builder, n_artists: int) -> None:
    album_no = track_no = 0
    for a in range(n_artists):
        info = b.new_artist(f"art_{a:05d}")
        for _ in range(b.pick((1, 1, 2, 2, 3, 4))):
            n = b.pick((1, 1, 2, 3, 4, 5, 6, 8))
            b.album_with_tracks(info, f"alb_{album_no:05d}", [f"trk_{track_no + i:05d}" for i in range(n)])
            album_no += 1
            track_no += n


def _hard_music(b: _Builder) -> None:
    """Love-keyword entities, typo-prone and multi-genre artists, same-title tracks."""
    lovelace = b.new_artist("art_lovelace_rivers", "Lovelace Rivers", {"soul": 0.6, "r&b": 0.4}, "en", 0.62)
    b.album_with_tracks(lovelace, "alb_lovelace_rivers_1", ["trk_love_me_slowly", "trk_lovelace_2", "trk_lovelace_3"],
                        album_title="Velvet Hours", titles=["Love Me Slowly", "Quiet Fire", "Sunday Letters"], genres=["soul", "r&b", "soul"])
    arcade = b.new_artist("art_love_arcade", "Love Arcade", {"indie": 0.7, "electronic": 0.3}, "en", 0.35)
    b.album_with_tracks(arcade, "alb_love_arcade_1", ["trk_love_arcade_1", "trk_love_arcade_2", "trk_endless_love"],
                        album_title="Coin-Op Hearts", titles=["Pixel Summer", "High Score", "Endless Love"], genres=["indie", "electronic", "indie"])
    ballad = b.new_artist("art_mara_vale", "Mara Vale", {"love songs": 0.8, "pop": 0.2}, "en", 0.48)
    b.album_with_tracks(ballad, "alb_mara_vale_1", ["trk_paper_hearts", "trk_stay_a_while", "trk_love_in_the_rain"],
                        album_title="Paper Hearts", titles=["Paper Hearts", "Stay a While", "Love in the Rain"], genres=["love songs"] * 3)

    multi = (("art_marisol_okafor", "Marisol Okafor", {"latin": 0.5, "pop": 0.3, "r&b": 0.2}, "es"),
             ("art_dallas_kingsley", "Dallas Kingsley", {"country": 0.6, "rock": 0.25, "pop": 0.15}, "en"),
             ("art_yuki_brandt", "Yuki Brandt", {"electronic": 0.5, "j-pop": 0.3, "ambient": 0.2}, "ja"))
    for artist_id, name, genres, lang in multi:
        info = b.new_artist(artist_id, name, genres, lang, 0.4)
        order = [g for g, w in genres.items() for _ in range(round(w * 10))]
        for half in range(2):
            part = order[half * 5:(half + 1) * 5]
            b.album_with_tracks(info, f"alb_{artist_id[4:]}_{half + 1}", [f"trk_{artist_id[4:]}_{half * 5 + i + 1}" for i in range(5)], genres=part)

    for artist_id, name, _query in HARD_CASES["typo_artists"]:
        info = b.new_artist(artist_id, name, popularity=round(b.rng.uniform(0.2, 0.6), 4))
        b.album_with_tracks(info, f"alb_{artist_id[4:]}_1", [f"trk_{artist_id[4:]}_{i + 1}" for i in range(4)])

    ranked = sorted((a for a in b.artists.values() if a["id"].startswith("art_0")), key=lambda a: -a["popularity"])
    popular, obscure = ranked[:40], ranked[-400:]
    titles: dict[str, list[str]] = defaultdict(list)
    for title, hit, low in HARD_CASES["same_title"]:
        titles[title] += [i for i in (hit, low) if i not in titles[title]]
    for title, ids in titles.items():
        for rank, track_id in enumerate(ids):
            info = b.pick(popular) if rank == 0 else b.pick(obscure)
            pop = round(b.rng.uniform(0.8, 0.95), 4) if rank == 0 else round(b.rng.uniform(0.005, 0.05), 4)
            b.album_with_tracks(info, "alb" + track_id[3:], [track_id], album_title=f"{title} - Single", titles=[title], popularity=[pop])


def _playlist_entity(b: _Builder, pl_id: str, title: str, description: str, tracks: list[Entity],
                     genres: dict[str, float], moods: tuple[str, ...], popularity: float | None = None,
                     added: date | None = None) -> Entity:
    added = added or b.date_in(_CATALOG_START, _LATEST_ESTABLISHED)
    return b.add(Entity(
        id=pl_id, type="playlist", title=title, creator=b.pick(CURATORS), genres=genres, moods=moods,
        date_added=added.isoformat(), popularity=b.long_tail(2.5) if popularity is None else popularity,
        description=description, related={"tracks": tuple(t.id for t in tracks)},
    ))


def _sample_tracks(b: _Builder, pool: list[Entity], n: int) -> list[Entity]:
    """Popularity-weighted sample without replacement (Efraimidis-Spirakis keys)."""
    if len(pool) <= n:
        return sorted(pool, key=lambda t: -t.popularity)
    keyed = sorted(pool, key=lambda t: -(b.rng.random() ** (1.0 / (t.popularity + 0.01))))
    return keyed[:n]


def _playlists_and_stations(b: _Builder, n_playlists: int) -> None:
    by_genre: dict[str, list[Entity]] = defaultdict(list)
    by_genre_mood: dict[tuple[str, str], list[Entity]] = defaultdict(list)
    by_genre_decade: dict[tuple[str, int], list[Entity]] = defaultdict(list)
    by_mood: dict[str, list[Entity]] = defaultdict(list)
    for t in b.tracks:
        decade = int(t.release_date[:3]) * 10
        for g in t.genres:
            by_genre[g].append(t)
            by_genre_decade[(g, decade)].append(t)
            for m in t.moods:
                by_genre_mood[(g, m)].append(t)
        for m in t.moods:
            by_mood[m].append(t)

    specs = []
    for (g, m), pool in by_genre_mood.items():
        if len(pool) >= 15:
            specs.append((f"{m.capitalize()} {GENRE_LABEL.get(g, g.title())}", f"The best {m} {GENRE_LABEL.get(g, g)} tracks, hand-picked and updated weekly.", pool, {g: 1.0}, (m,)))
    for (g, d), pool in by_genre_decade.items():
        if len(pool) >= 15:
            specs.append((f"{str(d)[2:]}s {GENRE_LABEL.get(g, g.title())} Classics", f"Defining {GENRE_LABEL.get(g, g)} songs of the {d}s.", pool, {g: 1.0}, ()))
    for activity, phrase in ACTIVITIES:
        for g in GENRES:
            specs.append((f"{activity} {GENRE_LABEL.get(g, g.title())}", f"{GENRE_LABEL.get(g, g).capitalize()} {phrase}.", by_genre[g], {g: 1.0}, ()))
    b.rng.shuffle(specs)
    seen: set[str] = set()
    count = 0
    for title, description, pool, genres, moods in specs:
        if count >= n_playlists:
            break
        title = title + b.pick(PLAYLIST_SUFFIXES)
        if title in seen or len(pool) < 10:
            continue
        seen.add(title)
        _playlist_entity(b, f"pl_{count:04d}", title, description, _sample_tracks(b, pool, b.rng.randint(15, 40)), genres, moods)
        count += 1

    st = 0
    for (g, d), pool in sorted(by_genre_decade.items()):
        if len(pool) >= 25 and d >= 1960:
            b.add(Entity(
                id=f"st_{st:04d}", type="station", title=f"{str(d)[2:]}s {GENRE_LABEL.get(g, g.title())} Radio",
                genres={g: 1.0}, release_date=f"{d}-01-01", date_added=b.date_in(_CATALOG_START, _LATEST_ESTABLISHED).isoformat(),
                popularity=b.long_tail(2.0), description=f"Non-stop {GENRE_LABEL.get(g, g)} from the {d}s, around the clock.",
                related={"tracks": tuple(t.id for t in _sample_tracks(b, pool, 10))},
            ))
            st += 1
    for m in MOODS:
        b.add(Entity(
            id=f"st_{st:04d}", type="station", title=f"{m.capitalize()} Radio", moods=(m,),
            date_added=b.date_in(_CATALOG_START, _LATEST_ESTABLISHED).isoformat(), popularity=b.long_tail(2.0),
            description=f"An endless stream of {m} music across every genre.",
            related={"tracks": tuple(t.id for t in _sample_tracks(b, by_mood[m], 10))},
        ))
        st += 1
    for info in sorted(b.artists.values(), key=lambda a: -a["popularity"])[:40]:
        b.add(Entity(
            id=f"st_{st:04d}", type="station", title=f"{info['name']} Radio", creator=info["name"], genres=dict(info["genres"]),
            date_added=b.date_in(_CATALOG_START, _LATEST_ESTABLISHED).isoformat(), popularity=b.long_tail(2.0),
            description=f"Songs by {info['name']} and artists like them.", related={"artist": (info["id"],)},
        ))
        st += 1


def _hard_playlists(b: _Builder) -> None:
    love = [t for t in b.tracks if "love songs" in t.genres]
    love_titled = [t for t in b.tracks if "love" in t.title.lower().split()]
    _playlist_entity(b, "pl_love_songs_forever", "Love Songs Forever", "Timeless romantic ballads and slow dances, from the sixties to now.",
                     _sample_tracks(b, love, 40), {"love songs": 1.0}, ("romantic",), popularity=0.71)
    _playlist_entity(b, "pl_love_on_repeat", "Love on Repeat", "Every song with love in the title that we cannot stop playing.",
                     _sample_tracks(b, love_titled, 30), {"pop": 0.6, "love songs": 0.4}, ("romantic", "happy"), popularity=0.44)
    opaque = (
        ("pl_side_b", "Side B", "Deep cuts and forgotten gems pressed on vinyl records in the seventies.", "rock", ("nostalgic",)),
        ("pl_quiet_hours", "Quiet Hours", "Soft piano and ambient textures that help you concentrate while studying.", "classical", ("peaceful",)),
        ("pl_golden_hour", "Golden Hour", "Warm acoustic tunes for cooking dinner with friends.", "folk", ("chill",)),
    )
    for pl_id, title, description, genre, moods in opaque:
        pool = [t for t in b.tracks if genre in t.genres]
        _playlist_entity(b, pl_id, title, description, _sample_tracks(b, pool, 25), {genre: 1.0}, moods, popularity=0.2)


def _podcast(b: _Builder, pod_id: str, title: str, description: str, topic: tuple, host: str,
             popularity: float, n_episodes: int, ep_prefix: str) -> None:
    name, _phrase, subjects = topic
    added = b.date_in(_CATALOG_START, REFERENCE_DATE - timedelta(days=400))
    b.add(Entity(
        id=pod_id, type="podcast", title=title, creator=host, genres={name: 1.0}, language="en",
        release_date=added.isoformat(), date_added=added.isoformat(), popularity=popularity, description=description,
        related={"episodes": tuple(f"{ep_prefix}_{i + 1:02d}" for i in range(n_episodes))},
    ))
    for i in range(n_episodes):
        subject = subjects[(i + b.rng.randint(0, len(subjects) - 1)) % len(subjects)]
        guest = f"{b.word(2, FIRST_ENDINGS)} {b.word(2, SURNAME_ENDINGS)}"
        day = min(_LATEST_ESTABLISHED, added + timedelta(days=14 * (i + 1) + b.rng.randint(0, 6)))
        b.add(Entity(
            id=f"{ep_prefix}_{i + 1:02d}", type="episode", title=f"{subject[0].upper()}{subject[1:]}, with {guest}",
            creator=host, album=title, genres={name: 1.0}, language="en", release_date=day.isoformat(), date_added=day.isoformat(),
            popularity=round(min(1.0, max(0.0005, popularity * b.rng.lognormvariate(-0.3, 0.5))), 4),
            description=f"Episode {i + 1} of {title}: {host} and {guest} discuss {subject}.",
            related={"podcast": (pod_id,)},
        ))


def _podcasts(b: _Builder, n_podcasts: int) -> None:
    titles = set()
    for p in range(n_podcasts):
        topic = PODCAST_TOPICS[p % len(PODCAST_TOPICS)]
        while True:
            if b.rng.random() < 0.5:
                title = b.pick(PODCAST_ON_TOPIC).replace("{T}", topic[0].title())
            else:
                title = f"The {b.pick(PODCAST_OPAQUE_ADJ)} {b.pick(PODCAST_OPAQUE_NOUN)}"
            if title not in titles:
                titles.add(title)
                break
            title = f"{title} with {b.word(2, FIRST_ENDINGS)}"
            if title not in titles:
                titles.add(title)
                break
        host = f"{b.word(2, FIRST_ENDINGS)} {b.word(2, SURNAME_ENDINGS)}"
        description = f"A show about {topic[1]}, hosted by {host}."
        _podcast(b, f"pod_{p:04d}", title, description, topic, host, b.long_tail(1.5), b.pick((4, 6, 8, 10, 12)), f"ep_{p:04d}")


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


def _hard_podcasts(b: _Builder) -> None:
    for pod_id, title, description, topic, host, pop in HARD_PODCASTS:
        _podcast(b, pod_id, title, description, topic, host, pop, 4, "ep" + pod_id[3:])


def _fresh_releases(b: _Builder) -> None:
    """Added within FRESH_DAYS of REFERENCE_DATE with popularity 0: nobody has played them yet."""
    fresh = [REFERENCE_DATE - timedelta(days=d) for d in (3, 5, 9)]
    star = max((a for a in b.artists.values() if a["id"].startswith("art_0")), key=lambda a: a["popularity"])
    b.album_with_tracks(star, "alb_fresh_existing_artist", ["trk_fresh_existing_artist"], album_title="First Light - Single",
                        titles=["First Light"], release=fresh[0], added=fresh[0], popularity=[0.0])
    debut = b.new_artist("art_fresh_debut", "Nova Quartermaine", {"indie": 0.7, "pop": 0.3}, "en", 0.0)
    b.album_with_tracks(debut, "alb_fresh_debut", ["trk_fresh_debut"], album_title="Static Bloom - Single",
                        titles=["Static Bloom"], genres=["indie"], release=fresh[1], added=fresh[1], popularity=[0.0])
    debut["added"] = fresh[1]
    b.add(Entity(
        id="ep_fresh_long_table", type="episode", title="Rye, revisited, with Hester Quayle", creator="Hester Quayle",
        album="The Long Table", genres={"baking": 1.0}, language="en", release_date=fresh[2].isoformat(),
        date_added=fresh[2].isoformat(), popularity=0.0, description="A brand-new episode of The Long Table on dense rye loaves.",
        related={"podcast": ("pod_the_long_table",)},
    ))
    new_tracks = [b.tracks[-2], b.tracks[-1]]
    _playlist_entity(b, "pl_fresh_finds", "Fresh Finds", "Brand-new releases from the last two weeks.", new_tracks,
                     {"indie": 0.5, "pop": 0.5}, ("uplifting",), popularity=0.0, added=fresh[2])


def generate(seed: int = DEFAULT_SEED) -> list[Entity]:
    """The full demo catalog for ``seed`` (same seed -> identical entities)."""
    b = _Builder(seed)
    _generic_music(b, n_artists=1900)
    _hard_music(b)
    _playlists_and_stations(b, n_playlists=600)
    _hard_playlists(b)
    _podcasts(b, n_podcasts=220)
    _hard_podcasts(b)
    _fresh_releases(b)
    return [b.artist_entity(info) for info in b.artists.values()] + b.entities


def _compact(entity: Entity) -> dict:
    """Entity JSON without empty/default fields (``Entity.from_json`` restores them)."""
    return {k: v for k, v in entity.to_json().items() if v or k in ("id", "type", "title")}


def to_jsonl_gz(entities: list[Entity]) -> bytes:
    """Byte-deterministic gzip of one compact Entity JSON per line (mtime=0)."""
    lines = "".join(json.dumps(_compact(e), ensure_ascii=False, separators=(",", ":")) + "\n" for e in entities)
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write(lines.encode("utf-8"))
    return buffer.getvalue()


@register_loader("default")
def load_default(_argument: str = "") -> Catalog:
    """The demo catalog: the committed ``data/default_catalog.jsonl.gz`` if present, else generated."""
    if DATA_FILE.exists():
        from ltrr_core.loaders import load_jsonl

        return load_jsonl(DATA_FILE, source="default")
    return Catalog(generate(), source="default")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {DATA_FILE}")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    entities = generate(args.seed)
    catalog = Catalog(entities, source="default")
    print(json.dumps(catalog.summary()["by_type"]), len(catalog))
    if args.write:
        DATA_FILE.parent.mkdir(parents=True, exist_ok=True)
        DATA_FILE.write_bytes(to_jsonl_gz(entities))
        print(f"wrote {DATA_FILE} ({DATA_FILE.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()

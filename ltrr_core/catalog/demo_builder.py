"""The demo generator's seeded builder: names, dates, popularity and the entity list it accumulates.

All dates are relative to :data:`REFERENCE_DATE`, never to today.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path

from ltrr_core.catalog.demo_words import (
    ACCENTED_FIRST,
    ACCENTED_LAST,
    ALBUM_SUFFIXES,
    BAND_ADJ,
    BAND_NOUN,
    DEFAULT_LANGUAGES,
    FIRST_ENDINGS,
    GENRE_LABEL,
    GENRE_LANGUAGES,
    GENRE_MOODS,
    GENRE_SOUND,
    GENRE_WEIGHTS,
    GENRES,
    JAPANESE_WORDS,
    KOREAN_WORDS,
    LANGUAGE_NAME,
    MOODS,
    STAGE_PREFIX,
    SURNAME_ENDINGS,
    SYLLABLES,
    TITLE_WORDS,
)
from ltrr_core.catalog.schema import Entity

REFERENCE_DATE = date(2026, 11, 1)
DEFAULT_SEED = 7
DATA_FILE = Path(__file__).resolve().parents[2] / "data" / "default_catalog.jsonl.gz"
FRESH_DAYS = 14
CATALOG_START = date(2008, 1, 1)  # the fictional service's launch: earliest date_added
LATEST_ESTABLISHED = REFERENCE_DATE - timedelta(days=FRESH_DAYS + 1)

class Builder:
    """Accumulates entities with a single seeded RNG; every random draw goes through it."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.entities: list[Entity] = []
        self.artists: dict[str, dict] = {}
        self.tracks: list[Entity] = []
        self.used_names: set[str] = set()
        self.pool_cap: int | None = None  # playlists draw from at most this many tracks of a pool

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
        choice = self.rng.choice
        return ("".join([choice(SYLLABLES) for _ in range(n)]) + choice(endings)).capitalize()

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
        rng, choice = self.rng, self.rng.choice  # called once per track: no pick() frames
        words = TITLE_WORDS["en" if language not in TITLE_WORDS else language]
        if language in ("en",) or (language in ("ko", "ja") and rng.random() < 0.4):
            w = TITLE_WORDS["en"]
            pattern = rng.randint(0, 4)
            if pattern == 0:
                return f"{choice(w['adj'])} {choice(w['noun'])}"
            if pattern == 1:
                return f"{choice(w['noun'])} of {choice(w['noun'])}"
            if pattern == 2:
                return f"{choice(w['verb'])} Me {choice(w['adv'])}"
            if pattern == 3:
                return f"{choice(w['adj'])} {choice(w['noun'])} {choice(w['adv'])}"
            return choice(w["noun"]) if rng.random() < 0.3 else f"{choice(w['verb'])} the {choice(w['noun'])}"
        first, second = choice(words["noun"]), choice(words["noun"])
        if rng.random() < 0.3 or first == second:
            return first
        join = choice(words["join"])
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
        added = info.get("added") or min(LATEST_ESTABLISHED, max(CATALOG_START, date(info["start"], 6, 1)))
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
        sound = self.rng.choice(GENRE_SOUND[genre])
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
        """One album of ``len(track_ids)`` tracks; every keyword overrides the random draw.

        The track loop is the generator's hot path: per-album values are computed once, and it
        draws through ``rng`` directly, in the same order and number as :meth:`pick` would."""
        rng, lang, name = self.rng, info["language"], info["name"]
        if release is None:
            year = self.rng.randint(info["start"], 2026)
            release = min(LATEST_ESTABLISHED, self.date_in(date(year, 1, 1), date(year, 12, 28)))
        if added is None:
            added = min(LATEST_ESTABLISHED, max(release, self.date_in(CATALOG_START, CATALOG_START + timedelta(days=900))) + timedelta(days=self.rng.randint(0, 60)))
        album_title = album_title or (self.title(lang) + self.pick(ALBUM_SUFFIXES))
        release_date, date_added, release_year = release.isoformat(), added.isoformat(), release.year
        artist_ref, album_ref, artist_pop = (info["id"],), (album_id,), info["popularity"]
        genre_names = list(info["genres"])
        genre_cum = list(accumulate(info["genres"].values()))  # what choices(weights=...) builds on every call
        tracks = []
        for i, track_id in enumerate(track_ids):
            genre = genres[i] if genres else rng.choices(genre_names, cum_weights=genre_cum)[0]
            moods = tuple(dict.fromkeys(rng.sample(GENRE_MOODS[genre], 2 if rng.random() < 0.5 else 1)
                                        + ([rng.choice(MOODS)] if rng.random() < 0.15 else [])))
            track_genres = {genre: 1.0}
            if "romantic" in moods and genre != "love songs" and rng.random() < 0.5:
                track_genres["love songs"] = 0.5
            title = titles[i] if titles else self.title(lang)
            pop = popularity[i] if popularity else round(min(1.0, max(0.0005, artist_pop * rng.lognormvariate(0, 0.5))), 4)
            tracks.append(Entity(
                id=track_id, type="track", title=title, creator=name, album=album_title, genres=track_genres,
                moods=moods, language=lang, release_date=release_date, date_added=date_added, popularity=pop,
                description=self.track_description(name, album_title, genre, moods, lang, release_year),
                related={"artist": artist_ref, "album": album_ref},
            ))
        self.entities += tracks
        self.tracks += tracks
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

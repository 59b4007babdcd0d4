"""Simulated users: profiles and search intents with known targets.

Pure: a catalog and a seed in, typed records out (no engine import). The simulation loop
draws intents from a :class:`TrafficGenerator`, runs ``intent.query`` through the engine and
turns the ranked ids into clicks with :class:`ltrr_core.clicks.ClickModel`.

Intent kinds (``INTENT_KINDS``, name -> builder of a sampler over the catalog):

- ``spearfish``: an exact title or artist name, sometimes with a realistic typo;
- ``broad``: a genre / mood / decade phrase; relevant = the most popular matching entities;
- ``semantic``: a paraphrase of a podcast / playlist / episode description;
- ``fresh``: a new, not-yet-popular release, asked for by artist name or genre + type.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Callable, Mapping, Protocol

import numpy as np

from ltrr_core.catalog import Catalog, Entity
from ltrr_core.context import Context, UserProfile
from ltrr_core.text import STOPWORDS, analyze

DEFAULT_MIX: dict[str, float] = {"spearfish": 0.45, "broad": 0.25, "semantic": 0.2, "fresh": 0.1}
MIN_GENRE_WEIGHT = 0.3  # an entity "is" a genre when it carries at least this weight of it
MIN_TYPO_TOKEN = 4  # users' typos never hit tokens shorter than this

# ----------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Intent:
    """What a simulated user wants, with the truth the simulator grades against.

    ``query`` is what the user types; ``intended_query`` the same before typos.
    ``attribute`` names what a broad intent asks for (``genre=rock``, ``mood=sad``,
    ``decade=1980s``, optionally ``;type=track``) or the entity a query was made from.
    """

    kind: str
    query: str
    target_id: str
    relevant: frozenset[str]
    context: Context
    intended_query: str = ""
    attribute: str = ""

    def __post_init__(self) -> None:
        if self.kind not in INTENT_KINDS:
            raise ValueError(f"kind: {self.kind!r} is not one of {sorted(INTENT_KINDS)}")
        if not self.query.strip():
            raise ValueError("query: empty")
        if self.target_id not in self.relevant:
            raise ValueError(f"relevant: target_id {self.target_id!r} is not in it")
        if not self.intended_query:
            object.__setattr__(self, "intended_query", self.query)

    @property
    def user(self) -> UserProfile:
        return self.context.user

    @property
    def has_typo(self) -> bool:
        return self.query != self.intended_query


@dataclass(frozen=True)
class TrafficConfig:
    """Knobs of the traffic generator, validated on creation.

    ``typo_rate``: share of spearfish queries with a typo; ``taste_bias``: how often a user's
    favourite genres steer spearfish/broad targets; ``broad_size``: relevant set size of broad
    intents; fresh = added within ``fresh_days`` before ``reference_date`` with popularity
    <= ``fresh_max_popularity``; ``p_holiday``: share of searches on a holiday.
    """

    typo_rate: float = 0.2
    taste_bias: float = 0.6
    broad_size: int = 25
    reference_date: str = "2026-11-01"
    fresh_days: int = 30
    fresh_max_popularity: float = 0.02
    p_holiday: float = 0.04

    def __post_init__(self) -> None:
        for name in ("typo_rate", "taste_bias", "fresh_max_popularity", "p_holiday"):
            check_probability(name, getattr(self, name))
        for name in ("broad_size", "fresh_days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: {value!r} is not an integer >= 1")
        try:
            date.fromisoformat(self.reference_date)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"reference_date: {self.reference_date!r} is not an ISO date YYYY-MM-DD") from exc


def check_probability(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}: {value!r} is not a probability in [0, 1]")


def validate_mix(mix: Mapping[str, float] | None) -> dict[str, float]:
    """The mix as weights summing to 1; ValueError naming the kind for unknown kinds or bad weights."""
    mix = DEFAULT_MIX if mix is None else mix
    if not isinstance(mix, Mapping) or not mix:
        raise ValueError(f"mix: expected a non-empty dict kind -> weight, got {mix!r}")
    for kind, weight in mix.items():
        if kind not in INTENT_KINDS:
            raise ValueError(f"mix: unknown kind {kind!r}; known kinds: {', '.join(INTENT_KINDS)}")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight < 0:
            raise ValueError(f"mix[{kind!r}]: weight {weight!r} is not a finite number >= 0")
    total = float(sum(mix.values()))
    if total <= 0:
        raise ValueError("mix: all weights are 0; give at least one kind a positive weight")
    return {kind: float(weight) / total for kind, weight in mix.items() if weight > 0}


# ----------------------------------------------------------------------------- profiles


def make_profiles(catalog: Catalog, n: int = 12, seed: int = 0) -> list[UserProfile]:
    """``n`` users with 1-3 favourite genres and 1-2 preferred types drawn from the catalog.

    Frequent genres are favoured (weight ~ sqrt(count)); first favourites rotate through
    distinct genres so tastes differ. Catalogs without genres give genre-less profiles.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n: {n!r} is not an integer >= 1")
    rng = np.random.default_rng(seed)
    genre_counts: dict[str, int] = {}
    type_counts: dict[str, int] = {}
    for entity in catalog:
        type_counts[entity.type] = type_counts.get(entity.type, 0) + 1
        for genre, weight in entity.genres.items():
            if weight >= MIN_GENRE_WEIGHT:
                genre_counts[genre] = genre_counts.get(genre, 0) + 1
    genres, genre_p = _sqrt_weights(genre_counts)
    types, type_p = _sqrt_weights(type_counts)
    unused_first = list(genres)
    profiles = []
    for i in range(n):
        favourites: list[str] = []
        if genres:
            if not unused_first:
                unused_first = list(genres)
            first_p = np.array([genre_p[genres.index(g)] for g in unused_first])
            first = unused_first.pop(int(rng.choice(len(unused_first), p=first_p / first_p.sum())))
            extra = rng.choice(len(genres), size=min(len(genres), 3), replace=False, p=genre_p)
            favourites = [first] + [genres[j] for j in extra if genres[j] != first][: int(rng.integers(0, 3))]
        n_types = min(len(types), int(rng.integers(1, 3)))
        preferred = [types[j] for j in rng.choice(len(types), size=n_types, replace=False, p=type_p)] if types else []
        profiles.append(UserProfile(f"user-{i + 1:02d}", tuple(favourites), tuple(preferred)))
    return profiles


def _sqrt_weights(counts: Mapping[str, int]) -> tuple[list[str], np.ndarray]:
    names = sorted(counts)
    if not names:
        return [], np.empty(0)
    weights = np.sqrt(np.array([counts[k] for k in names], dtype=float))
    return names, weights / weights.sum()


# ----------------------------------------------------------------------------- typos

_QWERTY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
KEYBOARD_NEIGHBOURS: dict[str, str] = {}
for _r, _row in enumerate(_QWERTY_ROWS):
    for _c, _ch in enumerate(_row):
        near = [_row[j] for j in (_c - 1, _c + 1) if 0 <= j < len(_row)]
        for _other in (_r - 1, _r + 1):
            if 0 <= _other < len(_QWERTY_ROWS):
                near += [_QWERTY_ROWS[_other][j] for j in (_c - 1, _c, _c + 1) if 0 <= j < len(_QWERTY_ROWS[_other])]
        KEYBOARD_NEIGHBOURS[_ch] = "".join(near)
VOWELS = "aeiou"


def _keyboard_neighbour(token: str, rng: np.random.Generator) -> str | None:
    spots = [i for i, ch in enumerate(token) if ch.lower() in KEYBOARD_NEIGHBOURS]
    if not spots:
        return None
    i = spots[int(rng.integers(len(spots)))]
    near = KEYBOARD_NEIGHBOURS[token[i].lower()]
    new = near[int(rng.integers(len(near)))]
    return token[:i] + (new.upper() if token[i].isupper() else new) + token[i + 1 :]


def _drop_letter(token: str, rng: np.random.Generator) -> str:
    i = int(rng.integers(1, len(token)))  # people rarely drop the first letter
    return token[:i] + token[i + 1 :]


def _double_letter(token: str, rng: np.random.Generator) -> str:
    i = int(rng.integers(len(token)))
    return token[: i + 1] + token[i] + token[i + 1 :]


def _transpose(token: str, rng: np.random.Generator) -> str | None:
    spots = [i for i in range(1, len(token) - 1) if token[i] != token[i + 1]]
    if not spots:
        return None
    i = spots[int(rng.integers(len(spots)))]
    return token[:i] + token[i + 1] + token[i] + token[i + 2 :]


def _vowel_swap(token: str, rng: np.random.Generator) -> str | None:
    spots = [i for i, ch in enumerate(token) if ch.lower() in VOWELS]
    if not spots:
        return None
    i = spots[int(rng.integers(len(spots)))]
    options = VOWELS.replace(token[i].lower(), "")
    new = options[int(rng.integers(len(options)))]
    return token[:i] + (new.upper() if token[i].isupper() else new) + token[i + 1 :]


TYPO_OPERATIONS: dict[str, Callable[[str, np.random.Generator], str | None]] = {
    "keyboard_neighbour": _keyboard_neighbour,
    "drop_letter": _drop_letter,
    "double_letter": _double_letter,
    "transposition": _transpose,
    "vowel_swap": _vowel_swap,
}
_TYPO_NAMES = tuple(TYPO_OPERATIONS)


def typo_token(token: str, rng: np.random.Generator) -> str:
    """``token`` with one realistic typo (Levenshtein distance 1, or 2 for a transposition).

    Tokens shorter than ``MIN_TYPO_TOKEN`` or not purely alphabetic come back unchanged.
    """
    if len(token) < MIN_TYPO_TOKEN or not token.isalpha():
        return token
    for j in rng.permutation(len(_TYPO_NAMES)):
        typo = TYPO_OPERATIONS[_TYPO_NAMES[j]](token, rng)
        if typo is not None and typo != token:
            return typo
    return token


def add_typos(query: str, rng: np.random.Generator, max_tokens: int = 2) -> str:
    """One typo in a random eligible token (a second one in a quarter of the longer queries)."""
    tokens = query.split(" ")
    eligible = [i for i, t in enumerate(tokens) if len(t) >= MIN_TYPO_TOKEN and t.isalpha()]
    if not eligible:
        return query
    howmany = 2 if len(eligible) >= 2 and max_tokens >= 2 and rng.random() < 0.25 else 1
    for i in rng.choice(eligible, size=howmany, replace=False):
        tokens[int(i)] = typo_token(tokens[int(i)], rng)
    return " ".join(tokens)


# ----------------------------------------------------------------------------- catalog view


class _Urn:
    """Weighted draws (with replacement) over catalog positions, O(log n) each."""

    def __init__(self, positions: np.ndarray, weights: np.ndarray) -> None:
        self.positions = np.asarray(positions, dtype=np.int64)
        self._cumulative = np.cumsum(np.asarray(weights, dtype=float))

    def draw(self, rng: np.random.Generator) -> int:
        i = int(np.searchsorted(self._cumulative, rng.random() * self._cumulative[-1], side="right"))
        return int(self.positions[min(i, len(self.positions) - 1)])


class CatalogView:
    """Per-attribute member arrays over one catalog, built in one pass (shared by all samplers)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.entities: list[Entity] = catalog.entities
        self.popularity = np.fromiter((e.popularity for e in catalog), dtype=float, count=len(catalog))
        self.primary_genre: list[str] = []
        members: dict[str, dict[str, list[int]]] = {"type": {}, "genre": {}, "mood": {}, "decade": {}}
        for i, e in enumerate(self.entities):
            members["type"].setdefault(e.type, []).append(i)
            top = max(e.genres.items(), key=lambda kv: kv[1], default=("", 0.0))
            self.primary_genre.append(top[0] if top[1] >= MIN_GENRE_WEIGHT else "")
            for genre, weight in e.genres.items():
                if weight >= MIN_GENRE_WEIGHT:
                    members["genre"].setdefault(genre, []).append(i)
            for mood in e.moods:
                members["mood"].setdefault(mood, []).append(i)
            year = e.release_date[:4]
            if year.isdigit() and e.type != "document":
                members["decade"].setdefault(f"{int(year) // 10 * 10}s", []).append(i)
        self.members = {attr: {k: np.array(v, dtype=np.int64) for k, v in values.items()} for attr, values in members.items()}

    def of(self, attribute: str, value: str) -> np.ndarray:
        """Sorted positions whose ``attribute`` (type, genre, mood, decade) is ``value``."""
        return self.members[attribute].get(value, np.empty(0, dtype=np.int64))

    def positions_of_types(self, types: tuple[str, ...]) -> np.ndarray:
        return np.sort(np.concatenate([self.of("type", t) for t in types] + [np.empty(0, dtype=np.int64)]))

    def matching(self, facets: tuple[tuple[str, str], ...]) -> np.ndarray:
        """Positions matching every (attribute, value) facet."""
        out = self.of(*facets[0])
        for facet in facets[1:]:
            out = np.intersect1d(out, self.of(*facet), assume_unique=True)
        return out

    def top_popular(self, positions: np.ndarray, k: int) -> np.ndarray:
        """The ``k`` most popular of ``positions`` (ties by position), most popular first."""
        order = np.lexsort((positions, -self.popularity[positions]))
        return positions[order[:k]]

    def id(self, position: int) -> str:
        return self.entities[position].id


# ----------------------------------------------------------------------------- context

WEEKDAY_WEIGHTS = np.array([0.13, 0.13, 0.135, 0.14, 0.155, 0.16, 0.15])  # Monday .. Sunday
HOUR_WEIGHTS = np.array(  # diurnal listening: commute, lunch and evening peaks, a quiet night
    [1.5, 1.0, 0.6, 0.4, 0.4, 0.8, 2.0, 4.0, 5.5, 4.5, 4.0, 4.5, 5.5, 5.0, 4.5, 4.5, 5.0, 6.5, 7.0, 7.0, 6.5, 5.5, 4.0, 2.5]
)


def draw_contexts(rng: np.random.Generator, n: int, profiles: list[UserProfile], p_holiday: float) -> list[Context]:
    """``n`` search contexts: a user, a weekday (weekend-heavy), an hour (diurnal peaks), a holiday flag."""
    users = rng.integers(len(profiles), size=n)
    weekdays = rng.choice(7, size=n, p=WEEKDAY_WEIGHTS / WEEKDAY_WEIGHTS.sum())
    hours = rng.choice(24, size=n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    holidays = rng.random(n) < p_holiday
    return [
        Context(profiles[u], int(d), int(h), bool(f))
        for u, d, h, f in zip(users.tolist(), weekdays.tolist(), hours.tolist(), holidays.tolist())
    ]


# ----------------------------------------------------------------------------- intent kinds


class IntentSampler(Protocol):
    """Draws intents of one kind; built once per catalog (pools precomputed)."""

    unavailable: str | None  # why this catalog cannot produce the kind, or None

    def draw(self, rng: np.random.Generator, context: Context) -> Intent: ...


def _lower_sometimes(text: str, rng: np.random.Generator, p: float = 0.6) -> str:
    """Users mostly type in lower case."""
    return text.lower() if rng.random() < p else text


_DECORATION = re.compile(r"\s*[\(\[][^\)\]]*[\)\]]|\s+-\s+.*$")


def typed_title(title: str) -> str:
    """A title as people type it: no '(feat. X)', '[Live]' or ' - Remastered 2011' decoration."""
    cleaned = _DECORATION.sub("", title).strip()
    return cleaned or title.strip()


def _favourite_pool(view: CatalogView, base: np.ndarray, genre: str, cache: dict[str, _Urn | None]) -> _Urn | None:
    if genre not in cache:
        members = np.intersect1d(base, view.of("genre", genre), assume_unique=True)
        cache[genre] = _Urn(members, 0.02 + view.popularity[members]) if len(members) else None
    return cache[genre]


class SpearfishSampler:
    """An exact title ("artist title" often) or an artist name; popular items are asked for more."""

    types = ("track", "album", "artist")

    def __init__(self, view: CatalogView, config: TrafficConfig) -> None:
        self.view, self.config = view, config
        base = view.positions_of_types(self.types)
        self.base = base[[bool(view.entities[p].title.strip()) for p in base]] if len(base) else base
        self.urn = _Urn(self.base, 0.02 + view.popularity[self.base])
        self._by_genre: dict[str, _Urn | None] = {}
        self.unavailable = None if len(self.base) else "no track, album or artist entities"

    def draw(self, rng: np.random.Generator, context: Context) -> Intent:
        urn = self.urn
        favourites = context.user.favourite_genres
        if favourites and rng.random() < self.config.taste_bias:
            urn = _favourite_pool(self.view, self.base, favourites[int(rng.integers(len(favourites)))], self._by_genre) or urn
        entity = self.view.entities[urn.draw(rng)]
        title = typed_title(entity.title)
        form = rng.random()
        if entity.type == "artist" or not entity.creator:
            intended, shape = title, "title"
        elif form < 0.45:
            intended, shape = title, "title"
        elif form < 0.88:
            intended, shape = f"{entity.creator} {title}", "artist title"
        else:
            intended, shape = f"{title} {entity.creator}", "title artist"
        intended = _lower_sometimes(intended, rng)
        query = add_typos(intended, rng) if rng.random() < self.config.typo_rate else intended
        return Intent("spearfish", query, entity.id, frozenset({entity.id}), context, intended, f"form={shape}")


GENRE_TEMPLATES: tuple[tuple[str, str | None], ...] = (
    ("{genre}", None),
    ("{genre} music", None),
    ("{genre} songs", "track"),
    ("best {genre} songs", "track"),
    ("{genre} playlist", "playlist"),
    ("{genre} albums", "album"),
    ("{genre} artists", "artist"),
    ("{genre} podcasts", "podcast"),
)
MOOD_TEMPLATES: tuple[tuple[str, str | None], ...] = (
    ("{mood}", None),
    ("{mood} songs", "track"),
    ("{mood} music", None),
    ("{mood} playlist", "playlist"),
)
MOOD_ALIASES: dict[str, tuple[tuple[str, str | None], ...]] = {  # how people ask for a mood
    "romantic": (("love songs", "track"), ("romantic songs", "track")),
    "sad": (("sad songs", "track"), ("songs to cry to", "track")),
    "melancholic": (("sad songs", "track"),),
    "energetic": (("workout music", None), ("pump up songs", "track")),
    "chill": (("chill", None), ("chill vibes", None)),
    "happy": (("happy songs", "track"), ("feel good music", None)),
}
DECADE_TEMPLATES: tuple[tuple[str, str | None], ...] = (
    ("{decade} hits", "track"),
    ("{decade} music", None),
    ("songs from the {decade}", "track"),
)
GENRE_DECADE_TEMPLATES: tuple[tuple[str, str | None], ...] = (("{decade} {genre}", None), ("{decade} {genre} songs", "track"))
BROAD_FAMILIES: dict[str, float] = {"genre": 0.45, "mood": 0.3, "decade": 0.1, "genre_decade": 0.15}
MIN_BROAD_MATCHES = 5


def spoken_decade(decade: str) -> str:
    """'1980s' -> '80s' (how people say it); 2000s and later stay whole."""
    return decade[2:] if decade.startswith("19") else decade


class BroadSampler:
    """A genre / mood / decade phrase; relevant = the most popular entities matching it (and its type)."""

    def __init__(self, view: CatalogView, config: TrafficConfig) -> None:
        self.view, self.config = view, config
        self.values = {
            attr: {k: v for k, v in view.members[attr].items() if len(v) >= MIN_BROAD_MATCHES}
            for attr in ("genre", "mood", "decade")
        }
        self.names = {attr: sorted(vals) for attr, vals in self.values.items()}
        self.value_urns = {
            attr: _Urn(np.arange(len(names)), np.sqrt([len(self.values[attr][k]) for k in names]))
            for attr, names in self.names.items() if names
        }
        families = {
            "genre": bool(self.values["genre"]),
            "mood": bool(self.values["mood"]),
            "decade": bool(self.values["decade"]),
            "genre_decade": bool(self.values["genre"]) and bool(self.values["decade"]),
        }
        self.families = [f for f, ok in families.items() if ok]
        self.family_urn = _Urn(np.arange(len(self.families)), np.array([BROAD_FAMILIES[f] for f in self.families]))
        self._facets: dict[tuple, tuple[frozenset[str], _Urn] | None] = {}
        self.unavailable = None if self.families else "no genre, mood or decade shared by enough entities"

    def _value(self, attr: str, rng: np.random.Generator, context: Context) -> str:
        if attr == "genre":
            liked = [g for g in context.user.favourite_genres if g in self.values["genre"]]
            if liked and rng.random() < self.config.taste_bias:
                return liked[int(rng.integers(len(liked)))]
        return self.names[attr][self.value_urns[attr].draw(rng)]

    def _relevant(self, facets: tuple[tuple[str, str], ...]) -> tuple[frozenset[str], _Urn] | None:
        """The relevant ids for ``facets`` and an urn drawing targets by popularity (cached)."""
        if facets not in self._facets:
            matches = self.view.matching(facets)
            if len(matches) < MIN_BROAD_MATCHES:
                self._facets[facets] = None
            else:
                top = self.view.top_popular(matches, self.config.broad_size)
                ids = frozenset(self.view.id(p) for p in top.tolist())
                self._facets[facets] = (ids, _Urn(top, 1e-3 + self.view.popularity[top]))
        return self._facets[facets]

    def _templates(self, family: str, values: dict[str, str]) -> tuple[tuple[str, str | None], ...]:
        if family == "mood":
            return MOOD_ALIASES.get(values["mood"], ()) + MOOD_TEMPLATES
        return {"genre": GENRE_TEMPLATES, "decade": DECADE_TEMPLATES, "genre_decade": GENRE_DECADE_TEMPLATES}[family]

    def draw(self, rng: np.random.Generator, context: Context) -> Intent:
        for _ in range(20):
            family = self.families[self.family_urn.draw(rng)]
            attrs = ("genre", "decade") if family == "genre_decade" else (family,)
            values = {attr: self._value(attr, rng, context) for attr in attrs}
            templates = self._templates(family, values)
            start = int(rng.integers(len(templates)))
            for template, wanted_type in templates[start:] + templates[:start]:
                facets = tuple(values.items()) + ((("type", wanted_type),) if wanted_type else ())
                found = self._relevant(facets)
                if found is None:
                    continue
                ids, urn = found
                phrase = template.format(
                    genre=values.get("genre", ""), mood=values.get("mood", ""), decade=spoken_decade(values.get("decade", ""))
                )
                target = self.view.id(urn.draw(rng))
                attribute = ";".join(f"{a}={v}" for a, v in facets)
                return Intent("broad", phrase, target, ids, context, attribute=attribute)
        raise RuntimeError("broad: no facet with enough matching entities after 20 draws")


TYPE_WORDS: dict[str, tuple[str, ...]] = {  # how people name a type in a query (singular, plural)
    "track": ("song", "songs"),
    "album": ("album", "albums"),
    "artist": ("artist", "artists"),
    "playlist": ("playlist", "playlists"),
    "station": ("station", "radio"),
    "podcast": ("podcast", "podcasts"),
    "episode": ("episode", "episodes"),
    "document": ("article", "articles"),
}


class FreshSampler:
    """A new release nobody has played yet, asked for by artist name or genre + type word.

    Fresh = added (or, without ``date_added``, released) within ``fresh_days`` before the
    reference date -- or before the catalog's newest date when the catalog ends earlier --
    with popularity <= ``fresh_max_popularity``.
    """

    def __init__(self, view: CatalogView, config: TrafficConfig) -> None:
        self.view = view
        dated = [(e.date_added or e.release_date)[:10] for e in view.entities]
        newest = max((d for d in dated if len(d) == 10), default="")
        start_of_window = (date.fromisoformat(config.reference_date) - timedelta(days=config.fresh_days)).isoformat()
        end = config.reference_date if newest > start_of_window else newest  # a catalog that ends earlier: its last days
        self.window = ((date.fromisoformat(end) - timedelta(days=config.fresh_days)).isoformat(), end) if end else ("", "")
        start, end = self.window
        self.positions = np.array(
            [
                i
                for i, (e, d) in enumerate(zip(view.entities, dated))
                if end and start < d <= end and e.popularity <= config.fresh_max_popularity
                and (e.creator or view.primary_genre[i] or e.type == "artist")
            ],
            dtype=np.int64,
        )
        self.unavailable = (
            None if len(self.positions) else f"no entity added in the {config.fresh_days} days up to {end or 'the reference date'} "
            f"with popularity <= {config.fresh_max_popularity}"
        )

    def draw(self, rng: np.random.Generator, context: Context) -> Intent:
        position = int(self.positions[int(rng.integers(len(self.positions)))])
        entity = self.view.entities[position]
        genre = self.view.primary_genre[position]
        singular, plural = TYPE_WORDS.get(entity.type, ("", ""))
        forms: list[tuple[str, str]] = []
        if entity.type == "artist":
            forms.append((entity.title, "artist name"))
        elif entity.creator and entity.type != "playlist":
            forms += [(entity.creator, "artist name"), (f"{entity.creator} new {singular}", "artist new type")]
        if genre:
            forms += [(f"new {genre} {plural}", "new genre type"), (f"{genre} {singular}", "genre type")]
        query, shape = forms[int(rng.integers(len(forms)))]
        query = _lower_sometimes(query.strip(), rng)
        added = entity.date_added or entity.release_date
        return Intent("fresh", query, entity.id, frozenset({entity.id}), context, attribute=f"form={shape};added={added}")


# Paraphrases of the description vocabulary (the demo catalog's topics, activities, moods and
# genres, plus common topic words). Keys are lower-case phrases found in descriptions; values
# are ways to ask for them that share no word with the key.
PARAPHRASES: dict[str, tuple[str, ...]] = {
    # podcast topics
    "unsolved cases and courtroom drama": ("murder mysteries and trials", "detectives chasing killers"),
    "forgotten moments of world history": ("what happened centuries ago", "empires kings and ancient battles"),
    "software, startups and the future of computing": ("tech founders and coding", "silicon valley and programming"),
    "how records get made, promoted and streamed": ("behind the scenes of producing albums", "musicians earning royalties"),
    "improvised comedy and silly interviews": ("funny chats that make you laugh", "hilarious banter"),
    "experiments, discoveries and the scientists behind them": ("laboratory research explained", "curious facts about nature and physics"),
    "recipes, chefs and kitchen techniques": ("learning to cook meals", "food and culinary tips"),
    "matches, transfers and tactics": ("soccer analysis", "premier league talk"),
    "anxiety, therapy and everyday wellbeing": ("coping with stress", "psychology for feeling better"),
    "founders, markets and money decisions": ("entrepreneurship and finance", "investing and companies"),
    "movies, directors and what makes a scene work": ("cinema analysis", "hollywood filmmaking"),
    "slow travel and places off the map": ("backpacking adventures abroad", "exploring remote destinations"),
    "raising kids and keeping your sense of humour": ("mums and dads with toddlers", "advice for new parents"),
    "vegetable patches, houseplants and compost": ("growing tomatoes at home", "allotment and soil tips"),
    "learning languages as an adult": ("becoming fluent in spanish", "grammar and vocabulary practice"),
    "elections, policy and the people in power": ("government and voting", "parliament and campaigns news"),
    # playlist activities
    "tracks to push through your workout": ("gym motivation", "pump up for lifting weights"),
    "songs for long drives with the windows down": ("highway cruising", "car journey soundtrack"),
    "background tracks for reading and revision": ("concentration while doing homework", "focus for exams"),
    "songs for grey skies and warm tea": ("cozy drizzly afternoon", "cloudy weather comfort"),
    "easy listening for hosting friends": ("guests coming over for supper", "entertaining at home"),
    "after-hours listening": ("music at 2am", "when everyone is asleep"),
    "a gentle start to the working day": ("on the bus to the office", "calm early commute"),
    "slow songs for a lazy weekend": ("relaxed saturday brunch", "unhurried sunday"),
    # moods (playlists "the best {mood} {genre} tracks", stations "endless stream of {mood} music")
    "happy": ("cheerful", "joyful"),
    "sad": ("heartbreak", "tearjerkers"),
    "chill": ("laid back", "mellow"),
    "energetic": ("high energy", "upbeat"),
    "romantic": ("date night", "for couples"),
    "melancholic": ("bittersweet", "wistful"),
    "dreamy": ("ethereal", "floaty"),
    "angry": ("furious", "rage"),
    "uplifting": ("inspiring", "feel good"),
    "nostalgic": ("throwback", "memories of youth"),
    "dark": ("brooding", "gloomy"),
    "peaceful": ("calm", "serene"),
    # genres
    "hip hop": ("rap",),
    "rock": ("guitar bands",),
    "electronic": ("edm", "techno and house"),
    "classical": ("orchestral", "symphonies"),
    "r&b": ("rhythm and blues",),
    "latin": ("reggaeton and salsa",),
    "metal": ("headbanging", "heavy riffs"),
    "folk": ("acoustic singer songwriter",),
    "country": ("nashville", "cowboy"),
    "jazz": ("swing and bebop", "saxophone"),
    "ambient": ("drone soundscapes",),
    "k-pop": ("korean idols",),
    "j-pop": ("japanese idols",),
    "reggae": ("jamaican",),
    "punk": ("mosh pit",),
    "love songs": ("ballads about romance",),
    # common topic words (episode subjects, other catalogs)
    "sourdough": ("homemade loaves",),
    "fermentation": ("pickling and brewing",),
    "baking": ("making bread",),
    "nurses": ("hospital staff",),
    "paramedics": ("ambulance crews",),
    "runners": ("joggers",),
    "marathon": ("long distance races",),
    "budgeting": ("managing household spending",),
    "taxes": ("irs returns",),
    "astronomers": ("stargazers",),
    "space exploration": ("nasa missions",),
    "telescopes": ("observatories",),
    "planets": ("solar system worlds",),
    "dating": ("romance and relationships",),
    "breakups": ("getting dumped",),
    "vinyl": ("lp records",),
    "piano": ("keys and ivories",),
    "studying": ("revision for exams",),
    "cooking": ("preparing a meal",),
    "dinner": ("evening meal",),
    "robots": ("automation machines",),
    "immune system": ("how the body fights germs",),
    "volcano": ("lava and eruptions",),
    "burnout": ("exhaustion at work",),
    "loneliness": ("feeling isolated",),
    "composting": ("turning scraps into soil",),
    "toddler": ("little kids",),
    "football": ("soccer",),
    "goalkeeper": ("keeper between the posts",),
    "elections": ("voting",),
    "documentary": ("nonfiction filmmaking",),
    "omelette": ("eggs for breakfast",),
    "knife skills": ("chopping vegetables",),
    "startups": ("young companies",),
    "quantum computers": ("qubits",),
    "password managers": ("online account security",),
    "royalties": ("how artists get paid",),
    "seed round": ("early investors",),
    "panic attacks": ("sudden anxiety",),
    "therapist": ("counselling sessions",),
}
_PARAPHRASE_KEYS = re.compile(r"(?<![\w-])(" + "|".join(re.escape(k) for k in sorted(PARAPHRASES, key=len, reverse=True)) + r")(?![\w-])")
SEMANTIC_TYPES = ("podcast", "playlist", "episode")
SEMANTIC_TEMPLATES: dict[str, tuple[str, ...]] = {
    "podcast": ("{x}", "podcast about {x}", "a show on {x}", "{x} talk"),
    "playlist": ("{x}", "music for {x}", "{x} songs", "{x} mix"),
    "episode": ("{x}", "episode about {x}", "{x} interview"),
}
SEMANTIC_FALLBACK_TYPES = ("document",)  # non-music catalogs (BEIR): paraphrase documents instead
DESCRIPTION_LEAD = 600  # long descriptions (abstracts) are paraphrased from their first characters only


_WORDS = re.compile(r"[^\W\d_]+")  # fast word split for long descriptions (no accent folding needed there)


@lru_cache(maxsize=8192)
def _stems(text: str) -> frozenset[str]:
    return frozenset(analyze(text))


class SemanticSampler:
    """A paraphrase of a podcast / playlist / episode description, sharing no stem with its title.

    Uses the catalog's planted paraphrases (``HARD_CASES['description_only']``) when present,
    else the ``PARAPHRASES`` table over the description; falls back to description keywords
    that are not in the title (other catalogs).
    """

    def __init__(self, view: CatalogView, config: TrafficConfig) -> None:
        from ltrr_core.demo_catalog import HARD_CASES

        self.view = view
        self.broad_size = config.broad_size
        self.planted = {i: q for i, q in HARD_CASES.get("description_only", ()) if i in view.catalog}
        positions = view.positions_of_types(SEMANTIC_TYPES)
        use_table = bool(len(positions))  # the table speaks music/podcast English; documents get keywords
        if not use_table:
            positions = view.positions_of_types(SEMANTIC_FALLBACK_TYPES)
        self.keys: dict[int, list[str]] = {}
        keyworded = []
        for p in positions.tolist():
            entity = view.entities[p]
            if entity.id in self.planted:
                self.keys[p] = []
            elif entity.description:
                lead = entity.description[:DESCRIPTION_LEAD].lower() if use_table else ""
                found = list(dict.fromkeys(_PARAPHRASE_KEYS.findall(lead)))
                if found:
                    self.keys[p] = found
                elif len(entity.description) >= 20:
                    keyworded.append(p)
        chosen = np.array(sorted(self.keys) if self.keys else keyworded, dtype=np.int64)
        self.same_topic: dict[tuple[str, frozenset[str]], list[str]] = {}
        for p, keys in self.keys.items():
            if keys:
                entity = view.entities[p]
                self.same_topic.setdefault((entity.type, frozenset(keys)), []).append(entity.id)
        self._wording: dict[int, tuple[list[list[str]], list[str], list[str]]] = {}
        self.urn = _Urn(chosen, 0.05 + view.popularity[chosen])
        self.unavailable = None if len(chosen) else "no podcast, playlist, episode or document with a description"

    def draw(self, rng: np.random.Generator, context: Context) -> Intent:
        for _ in range(10):
            position = self.urn.draw(rng)
            entity = self.view.entities[position]
            if entity.id in self.planted:
                query, how = self.planted[entity.id], "planted"
            else:
                query, how = self._paraphrase(position, rng)
            if query:
                return Intent("semantic", query, entity.id, self._relevant(position), context, attribute=f"paraphrase={how}")
        raise RuntimeError("semantic: no paraphrasable description after 10 draws")

    def _relevant(self, position: int) -> frozenset[str]:
        """The target plus up to ``broad_size`` same-type entities on exactly the same topics:
        whoever asks for 'how the body fights germs' is served by any immune-system episode."""
        entity = self.view.entities[position]
        peers = self.same_topic.get((entity.type, frozenset(self.keys.get(position, ()))), ())
        if not peers:
            return frozenset({entity.id})
        ranked = sorted(peers, key=lambda i: -self.view.popularity[self.view.catalog.position[i]])
        return frozenset({entity.id, *ranked[: self.broad_size]})

    def _wording_of(self, position: int) -> tuple[list[list[str]], list[str], list[str]]:
        """Per description key the paraphrases sharing no stem with the entity's text, the
        templates that share none either, and the description keywords not in the title (cached)."""
        if position not in self._wording:
            entity = self.view.entities[position]
            lead = entity.description[:DESCRIPTION_LEAD]
            per_key: list[list[str]] = []
            templates: list[str] = []
            if self.keys.get(position):
                taken = _stems(entity.title) | _stems(lead) | _stems(entity.creator)
                per_key = [[p for p in PARAPHRASES[k] if not _stems(p) & taken] for k in self.keys[position]]
                templates = [t for t in SEMANTIC_TEMPLATES[entity.type] if not _stems(t.format(x="")) & taken]
            # a cheap match, stricter than shared stems: no keyword starts like a title word
            heads = {w[:3] for w in _WORDS.findall(entity.title.lower()) if len(w) >= 3 and w not in STOPWORDS}
            words = [w for w in dict.fromkeys(_WORDS.findall(lead.lower())) if len(w) >= 4 and w not in STOPWORDS and w[:3] not in heads]
            self._wording[position] = ([o for o in per_key if o], templates, words)
        return self._wording[position]

    def _paraphrase(self, position: int, rng: np.random.Generator) -> tuple[str, str]:
        per_key, templates, words = self._wording_of(position)
        if per_key:
            order = rng.permutation(len(per_key))[: 1 + int(rng.random() < 0.3)]
            phrase = " and ".join(per_key[j][int(rng.integers(len(per_key[j])))] for j in order.tolist())
            return templates[int(rng.integers(len(templates)))].format(x=phrase), "table"
        if not words:
            return "", ""
        start = int(rng.integers(max(1, len(words) - 2)))
        return " ".join(words[start : start + 3]), "keywords"


INTENT_KINDS: dict[str, Callable[[CatalogView, TrafficConfig], IntentSampler]] = {
    "spearfish": SpearfishSampler,
    "broad": BroadSampler,
    "semantic": SemanticSampler,
    "fresh": FreshSampler,
}


# ----------------------------------------------------------------------------- traffic


class TrafficGenerator:
    """Draws intents for one catalog; pools are built once, the mix can change between draws.

    Same catalog + seed + sequence of ``draw`` calls -> the same intents.
    """

    def __init__(
        self, catalog: Catalog, seed: int = 0, profiles: list[UserProfile] | None = None, config: TrafficConfig | None = None
    ) -> None:
        self.config = config or TrafficConfig()
        self.profiles = profiles if profiles is not None else make_profiles(catalog, seed=seed)
        if not self.profiles:
            raise ValueError("profiles: empty; pass None for generated profiles or at least one UserProfile")
        self.rng = np.random.default_rng(seed)
        view = CatalogView(catalog)
        self.samplers: dict[str, IntentSampler] = {kind: build(view, self.config) for kind, build in INTENT_KINDS.items()}

    @property
    def unavailable(self) -> dict[str, str]:
        """Kinds this catalog cannot produce, with the reason."""
        return {kind: s.unavailable for kind, s in self.samplers.items() if s.unavailable}

    def effective_mix(self, mix: Mapping[str, float] | None = None) -> dict[str, float]:
        """The validated mix; the default mix silently drops kinds the catalog cannot produce,
        an explicit mix asking for one raises ValueError naming it."""
        weights = validate_mix(mix)
        missing = {k: why for k, why in self.unavailable.items() if k in weights}
        if missing and mix is not None:
            kind, why = next(iter(missing.items()))
            raise ValueError(f"mix[{kind!r}]: this catalog has {why}; set its weight to 0")
        kept = {k: w for k, w in weights.items() if k not in missing}
        if not kept:
            raise ValueError(f"mix: this catalog can produce none of {sorted(weights)} ({missing})")
        return validate_mix(kept)

    def draw(self, n: int, mix: Mapping[str, float] | None = None) -> list[Intent]:
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"n: {n!r} is not an integer >= 0")
        weights = self.effective_mix(mix)
        kinds = list(weights)
        picks = self.rng.choice(len(kinds), size=n, p=np.array([weights[k] for k in kinds]))
        contexts = draw_contexts(self.rng, n, self.profiles, self.config.p_holiday)
        return [self.samplers[kinds[j]].draw(self.rng, ctx) for j, ctx in zip(picks.tolist(), contexts)]


def generate_intents(
    catalog: Catalog,
    n: int,
    mix: Mapping[str, float] | None = None,
    seed: int = 0,
    profiles: list[UserProfile] | None = None,
    reference_date: str = "2026-11-01",
) -> list[Intent]:
    """``n`` intents in proportions ``mix`` (default ``DEFAULT_MIX``); deterministic for a seed."""
    return TrafficGenerator(catalog, seed, profiles, TrafficConfig(reference_date=reference_date)).draw(n, mix)

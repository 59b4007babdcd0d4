"""Intent samplers: spearfish (exact titles and names, sometimes misspelled), broad (genre, mood,
decade phrases) and fresh (new releases). The semantic sampler is :mod:`ltrr_core.simulation.paraphrase`."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Protocol

import numpy as np

from ltrr_core.selection.context import Context
from ltrr_core.simulation.catalog_view import CatalogView, Urn
from ltrr_core.simulation.intents import Intent, TrafficConfig
from ltrr_core.simulation.typos import add_typos
from ltrr_core.understanding.vocabulary import TYPES


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


def _favourite_pool(view: CatalogView, base: np.ndarray, genre: str, cache: dict[str, Urn | None]) -> Urn | None:
    if genre not in cache:
        members = np.intersect1d(base, view.of("genre", genre), assume_unique=True)
        cache[genre] = Urn(members, 0.02 + view.popularity[members]) if len(members) else None
    return cache[genre]


class SpearfishSampler:
    """An exact title ("artist title" often) or an artist name; popular items are asked for more."""

    types = ("track", "album", "artist")

    def __init__(self, view: CatalogView, config: TrafficConfig) -> None:
        self.view, self.config = view, config
        base = view.positions_of_types(self.types)
        self.base = base[[bool(view.entities[p].title.strip()) for p in base]] if len(base) else base
        self.urn = Urn(self.base, 0.02 + view.popularity[self.base])
        self._by_genre: dict[str, Urn | None] = {}
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
            attr: Urn(np.arange(len(names)), np.sqrt([len(self.values[attr][k]) for k in names]))
            for attr, names in self.names.items() if names
        }
        families = {
            "genre": bool(self.values["genre"]),
            "mood": bool(self.values["mood"]),
            "decade": bool(self.values["decade"]),
            "genre_decade": bool(self.values["genre"]) and bool(self.values["decade"]),
        }
        self.families = [f for f, ok in families.items() if ok]
        self.family_urn = Urn(np.arange(len(self.families)), np.array([BROAD_FAMILIES[f] for f in self.families]))
        self._facets: dict[tuple, tuple[frozenset[str], Urn] | None] = {}
        self.unavailable = None if self.families else "no genre, mood or decade shared by enough entities"

    def _value(self, attr: str, rng: np.random.Generator, context: Context) -> str:
        if attr == "genre":
            liked = [g for g in context.user.favourite_genres if g in self.values["genre"]]
            if liked and rng.random() < self.config.taste_bias:
                return liked[int(rng.integers(len(liked)))]
        return self.names[attr][self.value_urns[attr].draw(rng)]

    def _relevant(self, facets: tuple[tuple[str, str], ...]) -> tuple[frozenset[str], Urn] | None:
        """The relevant ids for ``facets`` and an urn drawing targets by popularity (cached)."""
        if facets not in self._facets:
            matches = self.view.matching(facets)
            if len(matches) < MIN_BROAD_MATCHES:
                self._facets[facets] = None
            else:
                top = self.view.top_popular(matches, self.config.broad_size)
                ids = frozenset(self.view.id(p) for p in top.tolist())
                self._facets[facets] = (ids, Urn(top, 1e-3 + self.view.popularity[top]))
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
        singular, plural = TYPES[entity.type].asked_as if entity.type in TYPES else ("", "")
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

"""Search context (who, when) and the context feature vector the bandit reads."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class UserProfile:
    """A (simulated or chosen) user: tastes the context features and click model use."""

    id: str = "anonymous"
    favourite_genres: tuple[str, ...] = ()
    preferred_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class Context:
    """Who searches and when. ``weekday`` 0 = Monday; ``hour`` 0-23."""

    user: UserProfile = field(default_factory=UserProfile)
    weekday: int = 2
    hour: int = 14
    holiday: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday: {self.weekday} is not in 0..6")
        if not 0 <= self.hour <= 23:
            raise ValueError(f"hour: {self.hour} is not in 0..23")


# Each feature of the bandit's context vector, in order: (name, what it measures).
CONTEXT_FEATURES: tuple[tuple[str, str], ...] = (
    ("const", "1.0 always: the arms' ridge regressions have no intercept"),
    ("q_tokens", "number of query tokens / 5, capped at 2"),
    ("q_chars", "query length in characters / 40, capped at 2"),
    ("q_typo", "1 if query understanding corrected a token"),
    ("q_non_latin", "1 if the query is not in Latin script"),
    ("q_field_artist", "likelihood that a span names a catalog artist/creator"),
    ("q_field_title", "likelihood that a span names a catalog title or album"),
    ("q_attr_genre", "likelihood of a genre reading ('love songs', 'jazz')"),
    ("q_attr_mood", "likelihood of a mood reading ('chill', 'sad')"),
    ("q_attr_decade", "likelihood of a decade reading ('80s')"),
    ("q_type_track", "likelihood the query asks for tracks/albums"),
    ("q_type_artist", "likelihood the query asks for artists"),
    ("q_type_list", "likelihood the query asks for playlists or stations"),
    ("q_type_spoken", "likelihood the query asks for podcasts or episodes"),
    ("q_no_reading", "1 if no interpretation stands at all (free topic text)"),
    ("q_recency", "1 if the query asks for something new ('new', 'latest', 'fresh', ...)"),
    ("u_likes_spoken", "1 if the user prefers podcasts/episodes"),
    ("u_genre_match", "1 if a genre reading is one of the user's favourite genres"),
    ("t_weekend", "1 on Saturday and Sunday"),
    ("t_evening", "1 from 18:00 to 05:59"),
    ("t_holiday", "1 in holiday season"),
)
CONTEXT_FEATURE_NAMES = tuple(name for name, _ in CONTEXT_FEATURES)
RECENCY_WORDS = frozenset({"new", "newest", "latest", "fresh", "recent", "just", "released", "upcoming"})
_TYPE_GROUPS = {
    "q_type_track": ("track", "album"),
    "q_type_artist": ("artist",),
    "q_type_list": ("playlist", "station"),
    "q_type_spoken": ("podcast", "episode"),
}


def context_feature_names(strategies: list[str]) -> list[str]:
    """All names of x: CONTEXT_FEATURES, then ``h_hit_<strategy>`` per strategy."""
    return list(CONTEXT_FEATURE_NAMES) + [f"h_hit_{s}" for s in strategies]


def category(understanding) -> str:
    """The query's understood category (the key of the history features): its best reading."""
    if understanding.interpretations:
        best = understanding.interpretations[0]
        return f"{best.kind}:{best.name}"
    return "free-text"


def featurize(understanding, context: Context, history: dict[str, float] | None = None) -> np.ndarray:
    """The context vector x: CONTEXT_FEATURES, then one running hit rate per strategy
    for this query's category (``history``, in the engine's strategy order)."""
    def best(kind: str, names: tuple[str, ...]) -> float:
        return max((i.likelihood for i in understanding.interpretations if i.kind == kind and i.name in names), default=0.0)

    types = understanding.entity_types
    genres = {i.value for i in understanding.interpretations if i.kind == "attribute" and i.name == "genre"}
    values = {
        "const": 1.0,
        "q_tokens": min(len(understanding.tokens) / 5, 2.0),
        "q_chars": min(len(understanding.normalized) / 40, 2.0),
        "q_typo": float(bool(understanding.corrections)),
        "q_non_latin": float(understanding.script not in ("latin", "none")),
        "q_field_artist": best("field", ("artist", "creator")),
        "q_field_title": best("field", ("title", "album")),
        "q_attr_genre": best("attribute", ("genre",)),
        "q_attr_mood": best("attribute", ("mood",)),
        "q_attr_decade": best("attribute", ("decade",)),
        **{name: max((types.get(t, 0.0) for t in group), default=0.0) for name, group in _TYPE_GROUPS.items()},
        "q_no_reading": float(not understanding.interpretations),
        "q_recency": float(bool(RECENCY_WORDS.intersection(understanding.tokens))),
        "u_likes_spoken": float(any(t in ("podcast", "episode") for t in context.user.preferred_types)),
        "u_genre_match": float(bool(genres & set(context.user.favourite_genres))),
        "t_weekend": float(context.weekday >= 5),
        "t_evening": float(context.hour >= 18 or context.hour < 6),
        "t_holiday": float(context.holiday),
    }
    base = [values[name] for name in CONTEXT_FEATURE_NAMES]
    return np.asarray(base + list((history or {}).values()), dtype=float)


class HitHistory:
    """Running per-strategy hit rate per query category (a Beta(1, 1) prior: 0.5 unseen)."""

    def __init__(self, strategies: list[str]) -> None:
        self.strategies = list(strategies)
        self.hits: dict[tuple[str, str], float] = {}
        self.pulls: dict[tuple[str, str], float] = {}

    def rates(self, category_key: str) -> dict[str, float]:
        return {
            s: (self.hits.get((category_key, s), 0.0) + 1) / (self.pulls.get((category_key, s), 0) + 2)
            for s in self.strategies
        }

    def add(self, category_key: str, strategy: str, reward: float, weight: float = 1.0) -> None:
        """One reward of ``strategy`` in the category, counted ``weight`` times (a replayed round's weight)."""
        key = (category_key, strategy)
        self.hits[key] = self.hits.get(key, 0.0) + reward * weight
        self.pulls[key] = self.pulls.get(key, 0) + weight

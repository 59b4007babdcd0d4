"""Simulated users' profiles (favourite genres, preferred types) and when they search."""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ltrr_core.catalog.schema import Catalog
from ltrr_core.selection.context import Context, UserProfile
from ltrr_core.simulation.intents import MIN_GENRE_WEIGHT


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

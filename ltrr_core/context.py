"""Search context (who, when) and the context feature vector the bandit reads."""

from __future__ import annotations

from dataclasses import dataclass, field


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

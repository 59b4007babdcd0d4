"""What a simulated user wants: the :class:`Intent` record (with its hidden truth) and the traffic knobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ltrr_core.selection.context import Context, UserProfile

INTENT_KIND_NAMES: tuple[str, ...] = ("spearfish", "broad", "semantic", "fresh")  # samplers: simulation.traffic
DEFAULT_MIX: dict[str, float] = {"spearfish": 0.45, "broad": 0.25, "semantic": 0.2, "fresh": 0.1}
MIN_GENRE_WEIGHT = 0.3  # an entity "is" a genre when it carries at least this weight of it
MIN_TYPO_TOKEN = 4  # users' typos never hit tokens shorter than this




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
        if self.kind not in INTENT_KIND_NAMES:
            raise ValueError(f"kind: {self.kind!r} is not one of {sorted(INTENT_KIND_NAMES)}")
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

"""Typed records the feedback store writes and reads, validated on creation (errors name the field)."""

from __future__ import annotations

import json
import math
import operator
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from ltrr_core.base.grades import MAX_GRADE

SOURCES = ("human", "simulated")
FEEDBACK_KINDS = ("click", "engage", "thumbs_up", "thumbs_down")  # engage: the user kept playing (>= 30 s)
# Why a search's reward window closed (the ``settle_reason`` of a search).
SETTLE_REASONS = ("engage", "thumbs_up", "label", "none_of_these", "next_search", "timeout",
                  "interleaved")  # interleaved: logged closed, never a bandit round (feedback.store)
REPLAYED = "replayed"  # the reason of a bandit round replayed from an imported page (feedback.replay)


def _json_default(obj: Any) -> Any:
    """numpy scalars/arrays (anything with ``tolist``) become plain Python values."""
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def to_json(value: Any) -> str:
    return json.dumps(value, default=_json_default, separators=(",", ":"))


def _plain(name: str, value: Any) -> Any:
    """``value`` as plain JSON-able Python (tuples -> lists, numpy -> float), or a ValueError naming ``name``."""
    try:
        return json.loads(to_json(value))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: not JSON-serializable ({exc})") from exc


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name}: {value!r} is not one of {choices}")


def _check_text(name: str, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name}: expected a non-empty string, got {value!r}")


def _finite_floats(name: str, values: Iterable[Any]) -> tuple[float, ...]:
    try:
        out = tuple(float(v) for v in values)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected numbers ({exc})") from exc
    if not all(math.isfinite(v) for v in out):
        raise ValueError(f"{name}: contains NaN or infinity")
    return out


def integer(name: str, value: Any, low: int | None = None, high: int | None = None) -> int:
    """``value`` as a plain int (numpy ints accepted; bools, floats and strings refused) within [low, high]."""
    try:
        if isinstance(value, bool):
            raise TypeError
        out = operator.index(value)
    except TypeError:
        raise ValueError(f"{name}: expected an integer, got {value!r}") from None
    if (low is not None and out < low) or (high is not None and out > high):
        bounds = f"{low if low is not None else '-inf'}..{high if high is not None else 'inf'}"
        raise ValueError(f"{name}: {out} is not in {bounds}")
    return out


def _set(obj: object, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)


@dataclass(frozen=True, kw_only=True)
class SearchRecord:
    """One search as the engine ran it: what the bandit saw, scored and picked.

    ``arms_scored`` holds one dict per arm (keys ``arm``, ``expected``, ``bonus``, ``score``,
    ``picked``, ``why``); ``propensity`` is the probability the policy picked ``chosen_arms``.
    """

    query: str
    normalized_query: str
    user_id: str
    features: tuple[float, ...]
    policy: str
    arms_scored: tuple[dict, ...]
    chosen_arms: tuple[str, ...]
    propensity: float
    ranker: str
    context: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    source: str = "human"
    created_at: float = field(default_factory=time.time)
    category: str = ""  # the query's understood category (the hit-history key)

    def __post_init__(self) -> None:
        if not isinstance(self.query, str) or not isinstance(self.normalized_query, str):
            raise ValueError("query/normalized_query: expected strings")
        _check_text("user_id", self.user_id)
        _check_text("policy", self.policy)
        _check_text("ranker", self.ranker)
        check_choice("source", self.source, SOURCES)
        _set(self, "features", _finite_floats("features", self.features))
        _set(self, "chosen_arms", tuple(self.chosen_arms))
        if not self.chosen_arms or not all(isinstance(a, str) and a for a in self.chosen_arms):
            raise ValueError(f"chosen_arms: expected one or more arm names, got {self.chosen_arms!r}")
        if len(set(self.chosen_arms)) != len(self.chosen_arms):
            raise ValueError(f"chosen_arms: duplicate arm in {self.chosen_arms!r}")
        arms = _plain("arms_scored", list(self.arms_scored))
        for i, arm in enumerate(arms):
            if not isinstance(arm, dict) or not isinstance(arm.get("arm"), str):
                raise ValueError(f"arms_scored[{i}]: expected a dict with an 'arm' name, got {arm!r}")
        _set(self, "arms_scored", tuple(arms))
        if not 0.0 < float(self.propensity) <= 1.0:
            raise ValueError(f"propensity: {self.propensity} is not in (0, 1]")
        _set(self, "propensity", float(self.propensity))
        for name in ("context", "timings"):
            value = _plain(name, getattr(self, name))
            if not isinstance(value, dict):
                raise ValueError(f"{name}: expected a dict, got {type(value).__name__}")
            _set(self, name, value)
        _set(self, "created_at", float(self.created_at))


@dataclass(frozen=True)
class ImpressionRow:
    """One result shown for a search: entity, 1-based rank, ranker score, strategies that found it."""

    entity_id: str
    rank: int
    score: float
    found_by: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_text("entity_id", self.entity_id)
        _set(self, "rank", integer("rank", self.rank, low=1))
        _set(self, "score", _finite_floats("score", [self.score])[0])
        _set(self, "found_by", tuple(str(s) for s in self.found_by))


@dataclass(frozen=True)
class FeedbackEvent:
    """A click or thumbs on a result; ``search_id`` is None for feedback outside a logged search."""

    search_id: int | None
    query: str
    entity_id: str
    kind: str
    source: str
    user_id: str
    value: float = 1.0
    created_at: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        if self.search_id is not None:
            _set(self, "search_id", integer("search_id", self.search_id))
        if not isinstance(self.query, str):
            raise ValueError(f"query: expected a string, got {self.query!r}")
        _check_text("entity_id", self.entity_id)
        check_choice("kind", self.kind, FEEDBACK_KINDS)
        check_choice("source", self.source, SOURCES)
        _check_text("user_id", self.user_id)
        _set(self, "value", _finite_floats("value", [self.value])[0])
        _set(self, "created_at", float(self.created_at))


@dataclass(frozen=True)
class Label:
    """A graded relevance judgement (0 = not relevant .. 3 = perfect), one per (query, entity, judge)."""

    query: str
    normalized_query: str
    entity_id: str
    grade: int
    judge: str
    source: str = "human"
    updated_at: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        _check_text("entity_id", self.entity_id)
        _check_text("judge", self.judge)
        check_choice("source", self.source, SOURCES)
        _set(self, "grade", integer("grade", self.grade, 0, MAX_GRADE))
        _set(self, "updated_at", float(self.updated_at))


@dataclass(frozen=True)
class BanditLogRecord:
    """What off-policy estimators and bandit replay read: context, chosen subset, propensity, per-arm rewards."""

    search_id: int
    features: tuple[float, ...]
    chosen_arms: tuple[str, ...]
    propensity: float
    rewards: dict[str, float]
    policy: str


@dataclass(frozen=True)
class PendingSearch:
    """A logged search whose reward window is still open."""

    search_id: int
    user_id: str
    created_at: float
    chosen_arms: tuple[str, ...]


@dataclass(frozen=True)
class SettledRound:
    """One closed reward window as the bandit learns it: ``seq`` orders the rounds as they were settled."""

    seq: int
    search_id: int
    features: tuple[float, ...]
    category: str
    rewards: dict[str, float]
    reason: str = ""  # a SETTLE_REASONS value, or REPLAYED


@dataclass(frozen=True)
class Q2EStat:
    """Query-to-entity statistics aggregated from impressions and feedback; ``examined`` sums the
    examination probability of each impression's rank (:mod:`ltrr_core.base.examination`)."""

    normalized_query: str
    entity_id: str
    examined: float
    clicks: int
    thumbs_up: int
    thumbs_down: int


@dataclass(frozen=True)
class LoggedPage:
    """One imported result page: who searched what and when, what it showed at which position
    (``shown``: entity id, position), and the events on it in log order (``events``: entity id, kind)."""

    page: int
    created_at: float
    session: str
    query: str
    shown: tuple[tuple[str, int], ...]
    events: tuple[tuple[str, str], ...]

"""The reward window: how the events a search collects become the bandit's per-arm rewards.

A search's window closes, once, at the first *positive* event on a result it showed: an
engagement (the user opened the result and kept playing for 30 s or more), a thumbs up, or a
relevance label of 2 or more. The picked arms whose own candidates held that result earn 1, the
others 0. Without a positive event the window closes with the default reward (0) for every
picked arm when the same session searches again, when the analyst says "none of these", or when
``wait_s`` has passed. A click alone closes nothing: it shows interest, not satisfaction.

The app, the CLI and the simulator all settle through :class:`RewardWindow`; the simulator's
hidden truth never reaches it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from ltrr_core.base.grades import MAX_GRADE
from ltrr_core.selection.bandit import split_arm

NONE_OF_THESE = "none_of_these"


@dataclass(frozen=True)
class Settlement:
    """A closed reward window: why it closed, on which result (None: default reward) and the rewards."""

    search_id: int
    reason: str
    entity_id: str | None
    rewards: dict[str, float]


@dataclass(frozen=True)
class RewardWindow:
    """When a search's reward is decided, and what it is.

    ``positive``: event kinds that close the window with a reward; ``label_grade``: a label at
    least this high on a shown result closes it too; ``wait_s``: an open window closes with
    ``default_reward`` after this many seconds (the next search of the session closes it sooner).
    """

    positive: tuple[str, ...] = ("engage", "thumbs_up")
    label_grade: int = 2
    wait_s: float = 1800.0
    default_reward: float = 0.0

    def __post_init__(self) -> None:
        if not self.positive:
            raise ValueError("positive: give at least one event kind that closes the window")
        if not 0 <= self.label_grade <= MAX_GRADE:
            raise ValueError(f"label_grade: {self.label_grade} is not in 0..{MAX_GRADE}")
        if not self.wait_s > 0:
            raise ValueError(f"wait_s: {self.wait_s!r} must be a positive number of seconds")
        if not 0.0 <= self.default_reward <= 1.0:
            raise ValueError(f"default_reward: {self.default_reward!r} is not in [0, 1]")

    def first_positive(self, events: Iterable[tuple[str, str]]) -> tuple[str, str] | None:
        """The first ``(entity_id, kind)`` of ``events`` that closes the window, or None."""
        return next((event for event in events if event[1] in self.positive), None)

    def rewards(self, chosen_arms: Iterable[str], found_by: tuple[str, ...] | None) -> dict[str, float]:
        """Per picked arm: 1 if its strategy found the positive result (``found_by``, the shown
        result's provenance), else 0; every arm gets the default reward when ``found_by`` is None."""
        if found_by is None:
            return {arm: self.default_reward for arm in chosen_arms}
        return {arm: float(split_arm(arm)[0] in found_by) for arm in chosen_arms}

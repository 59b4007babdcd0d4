"""The simulated user's reaction to a ranked list: the events a deployment would log, from a hidden intent.

Examination follows a position-based or cascade model; an examined item is clicked with a
probability that depends on whether it is relevant (the truth, hidden from the engine). What the
engine sees is only events, with the noise of real signals:

- a click on a relevant item turns into *engagement* (kept playing >= 30 s) with
  ``p_engage_relevant``; a click on an irrelevant one still does with ``p_engage_irrelevant``;
- thumbs are rare (``p_thumbs`` of engaged items) and sometimes wrong (``p_thumbs_wrong``: up on
  an irrelevant item, down on a relevant one).

:meth:`ClickModel.noiseless` keeps the clicks and drops the noise: engagement exactly on relevant
clicks, thumbs never wrong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable

import numpy as np

from ltrr_core.simulation.intents import check_probability

if TYPE_CHECKING:
    from ltrr_core.simulation.intents import Intent


@dataclass(frozen=True)
class Response:
    """What a simulated user did with a ranked list: ``events`` are ``(entity_id, kind)`` in the
    order they happened (top-down: a click, then its engagement and thumb)."""

    events: tuple[tuple[str, str], ...] = ()
    clicks: tuple[tuple[str, int], ...] = ()  # (entity id, 1-based rank)

    def ids(self, kind: str) -> tuple[str, ...]:
        return tuple(entity_id for entity_id, k in self.events if k == kind)


@dataclass(frozen=True)
class ClickModel:
    """A noisy click and engagement model over a ranked list (see the module docstring).

    ``pbm`` (position-based): rank r is examined with probability 1 / r**eta (r <= max_examined),
    independently; ``cascade``: the user scans top-down, continues from rank r-1 to r with
    probability ((r-1)/r)**eta and stops at the first engaging click.
    """

    kind: str = "pbm"
    eta: float = 1.0
    p_click_relevant: float = 0.9
    p_click_irrelevant: float = 0.05
    p_engage_relevant: float = 0.85
    p_engage_irrelevant: float = 0.15
    p_thumbs: float = 0.1
    p_thumbs_wrong: float = 0.1
    max_examined: int = 50

    def __post_init__(self) -> None:
        if self.kind not in CLICK_MODELS:
            raise ValueError(f"kind: {self.kind!r} is not one of {sorted(CLICK_MODELS)}")
        if isinstance(self.eta, bool) or not isinstance(self.eta, (int, float)) or not math.isfinite(self.eta) or self.eta < 0:
            raise ValueError(f"eta: {self.eta!r} is not a finite number >= 0")
        for name in ("p_click_relevant", "p_click_irrelevant", "p_engage_relevant", "p_engage_irrelevant",
                     "p_thumbs", "p_thumbs_wrong"):
            check_probability(name, getattr(self, name))
        if isinstance(self.max_examined, bool) or not isinstance(self.max_examined, int) or self.max_examined < 1:
            raise ValueError(f"max_examined: {self.max_examined!r} is not an integer >= 1")

    def noiseless(self) -> "ClickModel":
        """The same clicks with a truthful signal: engagement iff the click was relevant, right thumbs."""
        return replace(self, p_engage_relevant=1.0, p_engage_irrelevant=0.0, p_thumbs_wrong=0.0)

    def respond(self, ranked_ids: list[str] | tuple[str, ...], intent: Intent, rng: np.random.Generator) -> Response:
        """The user's events on ``ranked_ids`` (best first)."""
        n = min(len(ranked_ids), self.max_examined)
        relevant = np.fromiter((i in intent.relevant for i in ranked_ids[:n]), dtype=bool, count=n)
        u_examine, u_click, u_engage, u_thumb, u_wrong = rng.random((5, n))
        clicked = u_click < np.where(relevant, self.p_click_relevant, self.p_click_irrelevant)
        engaged = clicked & (u_engage < np.where(relevant, self.p_engage_relevant, self.p_engage_irrelevant))
        rows = CLICK_MODELS[self.kind](self, u_examine, engaged) & clicked
        thumbed = rows & engaged & (u_thumb < self.p_thumbs)
        up = relevant ^ (u_wrong < self.p_thumbs_wrong)
        events: list[tuple[str, str]] = []
        for r in np.flatnonzero(rows).tolist():
            entity_id = ranked_ids[r]
            events.append((entity_id, "click"))
            if engaged[r]:
                events.append((entity_id, "engage"))
            if thumbed[r]:
                events.append((entity_id, "thumbs_up" if up[r] else "thumbs_down"))
        return Response(tuple(events), tuple((ranked_ids[r], r + 1) for r in np.flatnonzero(rows).tolist()))


def _examined_pbm(model: ClickModel, u_examine: np.ndarray, _satisfying: np.ndarray) -> np.ndarray:
    """Each rank independently, with probability 1 / r**eta."""
    ranks = np.arange(1, len(u_examine) + 1, dtype=float)
    return u_examine < ranks ** -model.eta


def _examined_cascade(model: ClickModel, u_examine: np.ndarray, satisfying: np.ndarray) -> np.ndarray:
    """Top-down until the user gives up or the first satisfying click."""
    ranks = np.arange(1, len(u_examine) + 1, dtype=float)
    go_on = u_examine < ((ranks - 1) / ranks) ** model.eta
    go_on[:1] = True
    examined = np.logical_and.accumulate(go_on)
    stop = np.flatnonzero(examined & satisfying)
    if len(stop):
        examined[stop[0] + 1 :] = False
    return examined


CLICK_MODELS: dict[str, Callable[[ClickModel, np.ndarray, np.ndarray], np.ndarray]] = {
    "pbm": _examined_pbm,
    "cascade": _examined_cascade,
}

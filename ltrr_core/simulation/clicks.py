"""The simulated user's reaction to a ranked list: a position-based or cascade click model with noise.

Confirmation happens only on relevant items; irrelevant clicks are the noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from ltrr_core.simulation.intents import check_probability

if TYPE_CHECKING:
    from ltrr_core.simulation.intents import Intent


@dataclass(frozen=True)
class Response:
    """What a simulated user did with a ranked list (ranks are 1-based).

    ``confirmed`` is the first relevant item the user clicked (the satisfying click the
    bandit's reward is credited on), or None.
    """

    clicks: tuple[tuple[str, int], ...] = ()
    thumbs_up: tuple[str, ...] = ()
    thumbs_down: tuple[str, ...] = ()
    confirmed: str | None = None

    @property
    def clicked_ids(self) -> tuple[str, ...]:
        return tuple(entity_id for entity_id, _ in self.clicks)


@dataclass(frozen=True)
class ClickModel:
    """A noisy click model over a ranked list.

    ``pbm`` (position-based): rank r is examined with probability 1 / r**eta (r <= max_examined),
    independently; ``cascade``: the user scans top-down, continues from rank r-1 to r with
    probability ((r-1)/r)**eta (so rank r is reached with probability 1 / r**eta when nothing
    satisfied before) and stops at the first relevant click. An examined item is clicked with
    ``p_click_relevant`` / ``p_click_irrelevant``; a clicked relevant item gets a thumbs up with
    ``p_thumbs_up``, a clicked irrelevant one a thumbs down with ``p_thumbs_down``.
    """

    kind: str = "pbm"
    eta: float = 1.0
    p_click_relevant: float = 0.9
    p_click_irrelevant: float = 0.05
    p_thumbs_up: float = 0.7
    p_thumbs_down: float = 0.1
    max_examined: int = 50

    def __post_init__(self) -> None:
        if self.kind not in CLICK_MODELS:
            raise ValueError(f"kind: {self.kind!r} is not one of {sorted(CLICK_MODELS)}")
        if isinstance(self.eta, bool) or not isinstance(self.eta, (int, float)) or not math.isfinite(self.eta) or self.eta < 0:
            raise ValueError(f"eta: {self.eta!r} is not a finite number >= 0")
        for name in ("p_click_relevant", "p_click_irrelevant", "p_thumbs_up", "p_thumbs_down"):
            check_probability(name, getattr(self, name))
        if isinstance(self.max_examined, bool) or not isinstance(self.max_examined, int) or self.max_examined < 1:
            raise ValueError(f"max_examined: {self.max_examined!r} is not an integer >= 1")

    def respond(self, ranked_ids: list[str] | tuple[str, ...], intent: Intent, rng: np.random.Generator) -> Response:
        """The user's clicks, thumbs and confirmed item for ``ranked_ids`` (best first)."""
        n = min(len(ranked_ids), self.max_examined)
        relevant = np.fromiter((i in intent.relevant for i in ranked_ids[:n]), dtype=bool, count=n)
        u_examine, u_click, u_thumb = rng.random(n), rng.random(n), rng.random(n)
        clicked = u_click < np.where(relevant, self.p_click_relevant, self.p_click_irrelevant)
        rows = CLICK_MODELS[self.kind](self, u_examine, clicked & relevant) & clicked
        clicks = tuple((ranked_ids[r], r + 1) for r in np.flatnonzero(rows).tolist())
        up = rows & relevant & (u_thumb < self.p_thumbs_up)
        down = rows & ~relevant & (u_thumb < self.p_thumbs_down)
        satisfied = np.flatnonzero(rows & relevant)
        return Response(
            clicks,
            tuple(ranked_ids[r] for r in np.flatnonzero(up).tolist()),
            tuple(ranked_ids[r] for r in np.flatnonzero(down).tolist()),
            ranked_ids[int(satisfied[0])] if len(satisfied) else None,
        )


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

"""An anytime-valid sequential test of a win probability: the Beta-mixture SPRT and its confidence sequence.

Every comparison that is not a tie is a win or a loss for one side; under the null hypothesis
H0 (the two sides are equally good) a win has probability 1/2. With a Beta(a, a) mixture over
the win probability p, the likelihood ratio against H0 after ``w`` wins and ``l`` losses is

    L = B(a + w, a + l) / B(a, a) * 2 ** (w + l)

a nonnegative martingale under H0 starting at 1. By Ville's inequality
``P(sup_n L_n >= 1 / alpha) <= alpha``: the test may be checked after every impression and
stopped at the first crossing, and its false-positive rate stays below ``alpha`` whatever the
stopping rule (a fixed-horizon test checked as often would not). Unlike Wald's SPRT it needs
no assumed effect size; the mixture is two-sided. Ties carry no direction and are skipped.

The matching confidence sequence ``{p : B(a + w, a + l) / B(a, a) / (p**w (1 - p)**l) < 1 / alpha}``
holds the true p at every n at once with probability at least ``1 - alpha``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import betaln

DEFAULT_ALPHA = 0.05
DEFAULT_PRIOR = 10.0  # a of the Beta(a, a) mixture: spread ~0.11 around 1/2, tuned for win rates of 0.55-0.75
_GRID = np.linspace(1e-4, 1 - 1e-4, 4001)


@dataclass(frozen=True)
class MixtureSPRT:
    """The Beta(``prior``, ``prior``)-mixture sequential probability ratio test of p = 1/2 at level ``alpha``."""

    alpha: float = DEFAULT_ALPHA
    prior: float = DEFAULT_PRIOR

    def __post_init__(self) -> None:
        if not 0.0 < self.alpha < 1.0:
            raise ValueError(f"alpha: {self.alpha!r} is not in (0, 1)")
        if not self.prior > 0:
            raise ValueError(f"prior: {self.prior!r} must be a positive number")

    @property
    def threshold(self) -> float:
        """Reject H0 once the log likelihood ratio reaches ``log(1 / alpha)``."""
        return math.log(1.0 / self.alpha)

    def log_ratio(self, wins: int | np.ndarray, losses: int | np.ndarray) -> float | np.ndarray:
        """log L after ``wins`` and ``losses`` (vectorized over arrays of running counts)."""
        a = self.prior
        return betaln(a + wins, a + losses) - betaln(a, a) + (np.asarray(wins) + losses) * math.log(2.0)

    def significant(self, wins: int, losses: int) -> bool:
        return bool(self.log_ratio(wins, losses) >= self.threshold)

    def first_crossing(self, outcomes: np.ndarray) -> int | None:
        """The 1-based index of the comparison (ties included) at which the test first rejects, or None.

        ``outcomes`` holds +1 (win), -1 (loss) or 0 (tie) per comparison, in order."""
        outcomes = np.asarray(outcomes)
        wins, losses = np.cumsum(outcomes > 0), np.cumsum(outcomes < 0)
        crossed = np.flatnonzero(self.log_ratio(wins, losses) >= self.threshold)
        return int(crossed[0]) + 1 if len(crossed) else None

    def interval(self, wins: int, losses: int) -> tuple[float, float]:
        """The confidence sequence for p after ``wins`` and ``losses`` (valid at every n simultaneously)."""
        log_mixture = betaln(self.prior + wins, self.prior + losses) - betaln(self.prior, self.prior)
        log_likelihood = wins * np.log(_GRID) + losses * np.log1p(-_GRID)
        inside = _GRID[log_mixture - log_likelihood < self.threshold]
        return (float(inside[0]), float(inside[-1])) if len(inside) else (0.0, 1.0)

"""How likely a user examined a result at a rank: the weight of an unclicked impression.

An impression is a failure only if the user looked at it. The memory index counts clicks
against *expected* clicks (COEC, clicks over expected clicks): an impression at rank r adds
``examination(r)`` to the pair's examined count, so a result nobody scrolled to barely moves
its score. The prior is the position discount of DCG, ``1 / log2(r + 1)`` (1 at rank 1, 0.5 at
rank 3, 0.23 at rank 20). Once the curve has been estimated from randomized traffic
(:mod:`ltrr_core.feedback.position_bias`), an :class:`ExaminationCurve` replaces the prior for
the ranks it covers and keeps the prior's shape beyond them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache


@lru_cache(maxsize=1024)
def examination(rank: int) -> float:
    """The prior probability that the result at 1-based ``rank`` was examined."""
    return 1.0 / math.log2(rank + 1) if rank >= 1 else 0.0


@dataclass(frozen=True)
class ExaminationCurve:
    """Examination probability by rank: ``estimated[r - 1]`` for ranks 1..len(estimated); beyond
    them the prior's decay from the last estimated rank; the prior alone when nothing was estimated."""

    estimated: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        values = tuple(float(p) for p in self.estimated)
        if any(not 0.0 < p <= 1.0 for p in values):
            raise ValueError(f"estimated: every examination probability must be in (0, 1], got {values}")
        object.__setattr__(self, "estimated", values)

    @property
    def source(self) -> str:
        return "estimated" if self.estimated else "prior"

    def __call__(self, rank: int) -> float:
        if rank < 1:
            return 0.0
        n = len(self.estimated)
        if rank <= n:
            return self.estimated[rank - 1]
        if not n:
            return examination(rank)
        return self.estimated[-1] * examination(rank) / examination(n)

"""Verdicts in words: p-values and interleaving tallies as sentences a product manager reads.

The expected number of further searches an undecided interleaving test needs is a projection of
the sequential test's current state (:mod:`ltrr_core.evaluation.sequential`), under three stated
assumptions:

- the true win rate equals the current estimate ``wins / (wins + losses)``;
- the share of searches whose clicks differ between the two sides (not a tie, not a search without
  clicks) stays at its current value ``(wins + losses) / impressions``;
- future wins and losses arrive at their expected rates (no noise): after ``m`` more decided
  comparisons the counts are ``wins + p m`` and ``losses + (1 - p) m``.

The test decides once the mixture's log likelihood ratio reaches its threshold; the projection finds
the smallest ``m`` at which the projected counts reach it, and divides by the decided share. Its
drift per decided comparison tends to ``KL(p || 1/2)``, so for large ``m`` this is
``(threshold - log_ratio) / KL(p || 1/2) / decided_share``; the mixture's ``1/2 log m`` penalty,
which the asymptote ignores, is kept. Because the estimate is noisy, this is an order of magnitude,
not a promise (RESULTS.md measures how far off it is). When the estimate is level (or so close to
1/2 that the projection exceeds :data:`NEVER` searches) the test may never decide; the verdict gives
instead the searches needed to detect a :data:`DETECTABLE_WIN_RATE` preference from the start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ltrr_core.evaluation.interleaving import PairTest, TallyReport
from ltrr_core.evaluation.sequential import MixtureSPRT

DETECTABLE_WIN_RATE = 0.6  # the effect quoted when the estimate is level: a 60/40 preference
NEVER = 1_000_000  # projected searches beyond this count as "may never decide"
_GRID = np.unique(np.round(np.geomspace(1, NEVER, 3000))).astype(float)


def p_value_text(p: float) -> str:
    """A p-value as people read it: ``"< 0.001"`` below 0.001, else three significant digits ("0.042")."""
    if math.isnan(p):
        return "n/a"
    if p < 0.001:
        return "< 0.001"
    return f"{p:.3g}" if p < 1 else "1"


@dataclass(frozen=True)
class Verdict:
    """An interleaving tally in words: the ``sentence``, the ``winner`` (None: none yet), the expected
    further searches until a verdict (None: decided, or it may never decide) and, when the estimate
    is level, the searches a :data:`DETECTABLE_WIN_RATE` preference would take (``searches_for_effect``)."""

    sentence: str
    winner: str | None
    expected_more_searches: int | None
    searches_for_effect: int | None = None


def decided_comparisons_needed(test: MixtureSPRT, wins: float, losses: float, rate: float) -> float | None:
    """The fewest further decided comparisons (wins plus losses) at which the test rejects when they
    arrive at win rate ``rate`` exactly; None beyond :data:`NEVER` (or at ``rate`` 1/2)."""
    if test.log_ratio(wins, losses) >= test.threshold:
        return 0.0
    if rate == 0.5:
        return None
    crossed = np.flatnonzero(test.log_ratio(wins + rate * _GRID, losses + (1 - rate) * _GRID) >= test.threshold)
    if not len(crossed):
        return None
    hi = int(_GRID[crossed[0]])
    lo = int(_GRID[crossed[0] - 1]) if crossed[0] else 0
    while hi - lo > 1:  # the first crossing lies between two grid points
        mid = (lo + hi) // 2
        if test.log_ratio(wins + rate * mid, losses + (1 - rate) * mid) >= test.threshold:
            hi = mid
        else:
            lo = mid
    return float(hi)


def _test(tally: TallyReport) -> MixtureSPRT:
    return MixtureSPRT(tally.alpha_per_pair, tally.prior)


def _decided_share(pair: PairTest) -> float:
    decided = pair.wins + pair.losses
    return decided / (decided + pair.ties) if decided else 1.0


def pair_remaining(tally: TallyReport, pair: PairTest, leader: str) -> float | None:
    """Expected further searches until ``pair`` is decided for ``leader`` (0: already; None: not in
    sight, e.g. the estimate favours the other side or is level)."""
    if pair.decided_at is not None:
        return 0.0 if pair.better == leader else None
    wins, losses = (pair.wins, pair.losses) if leader == pair.a else (pair.losses, pair.wins)
    if wins <= losses:
        return None
    needed = decided_comparisons_needed(_test(tally), wins, losses, wins / (wins + losses))
    if needed is None or needed / _decided_share(pair) > NEVER:
        return None
    return needed / _decided_share(pair)


def _searches_for_effect(tally: TallyReport) -> int:
    """Searches from the start to detect a :data:`DETECTABLE_WIN_RATE` preference at the current decided share."""
    share = min(_decided_share(p) for p in tally.pairs)
    needed = decided_comparisons_needed(_test(tally), 0, 0, DETECTABLE_WIN_RATE)
    return math.ceil(needed / share)


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _preference(pair: PairTest, name: str, tally: TallyReport) -> str:
    """'users preferred NAME over OTHER in 62% of the searches where their clicks differed (interval ...)'."""
    other = pair.b if name == pair.a else pair.a
    rate = pair.win_rate if name == pair.a else 1 - pair.win_rate
    lo, hi = pair.interval if name == pair.a else (1 - pair.interval[1], 1 - pair.interval[0])
    level = 100 * (1 - tally.alpha_per_pair)
    confidence = f"{level:.0f}%" if level == round(level) else f"{level:.1f}%"
    return (f"users preferred {name} over {other} in {_pct(rate)} of the {pair.wins + pair.losses:,} searches "
            f"where their clicks differed ({confidence} interval {_pct(lo)}–{_pct(hi)})")


def _closest(tally: TallyReport, name: str) -> PairTest:
    """``name``'s narrowest lead: its pair with the lowest win rate for it."""
    own = [p for p in tally.pairs if name in (p.a, p.b)]
    return min(own, key=lambda p: p.win_rate if name == p.a else 1 - p.win_rate)


def interleaving_verdict(tally: TallyReport) -> Verdict:
    """Who wins, by how much and with what confidence; or how many more searches a verdict is expected
    to need (see the module docstring for the projection and its assumptions)."""
    confidence = _pct(1 - tally.alpha)
    if tally.winner is not None:
        pair = _closest(tally, tally.winner)
        rivals = "every other configuration" if len(tally.pairs) > 1 else pair.b if tally.winner == pair.a else pair.a
        return Verdict(
            f"{tally.winner} wins over {rivals} with {confidence} confidence after {tally.impressions:,} searches: "
            f"{_preference(pair, tally.winner, tally)}.", tally.winner, None)
    if tally.impressions == 0:
        return Verdict("No searches yet: no verdict.", None, None, _searches_for_effect(tally))
    names = sorted({n for p in tally.pairs for n in (p.a, p.b)})
    best: tuple[float, str] | None = None
    for name in names:  # a winner needs every one of its pairs decided for it: the slowest pair sets the pace
        own = [pair_remaining(tally, p, name) for p in tally.pairs if name in (p.a, p.b)]
        if all(r is not None for r in own) and (best is None or max(own) < best[0]):
            best = (max(own), name)
    if best is not None:
        more, leader = math.ceil(best[0]), best[1]
        searches = "search" if more == 1 else "searches"
        return Verdict(
            f"No winner yet: about {more:,} more {searches} expected (if the current rates hold). "
            f"So far {leader} leads: {_preference(_closest(tally, leader), leader, tally)}.", None, more)
    effect = _searches_for_effect(tally)
    pair = max(tally.pairs, key=lambda p: abs(p.win_rate - 0.5))
    lead = pair.a if pair.win_rate >= 0.5 else pair.b
    return Verdict(
        f"No winner yet, and at the current rates the test may never decide: "
        f"{_preference(pair, lead, tally)}. Detecting a {_pct(DETECTABLE_WIN_RATE)}/{_pct(1 - DETECTABLE_WIN_RATE)} "
        f"preference would take about {effect:,} searches in all.", None, None, effect)

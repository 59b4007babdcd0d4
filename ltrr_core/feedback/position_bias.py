"""The position bias, estimated: examination probability by rank from randomized traffic.

Intervention harvesting (Agarwal et al., WSDM 2019): when the same (query, entity) pair was
shown at different ranks by interventions that do not depend on its clicks (the bandit's random
strategy subsets, interleaving, an A/B test of rankers), the change of its click rate with rank
measures the examination curve. Under the position-based model ``P(click) = theta[rank] *
gamma[pair]`` with a power law ``theta[rank] = rank ** -eta`` (1 at rank 1, as IPS weights need
it), ``eta`` is fitted by maximum likelihood *conditional on each pair's clicks*: given that a
pair was clicked C times over its impressions, the clicks fall on those impressions in proportion
to ``theta`` of their ranks, whatever the pair's attractiveness ``gamma`` (the Poisson
fixed-effects likelihood, whose score stays unbiased on sparse logs where a free ``gamma`` per pair
makes the Bernoulli likelihood drift). Pairs seen at one rank, or never clicked, say nothing
about the curve and drop out. One parameter over all harvested clicks is stable where per-rank
factors are noise; the per-rank factors of the same model (``raw``, alternating multiplicative
updates) are kept to show how well the law fits.

**The interventions must not follow the clicks.** A ranker that learns from the clicks being
harvested breaks the model: the engine's ``memory`` strategy lifts a pair after a click and sinks
it after impressions without one, so where a pair was shown depends on whether it was clicked,
and the curve comes out flat (``eta`` 0.03 against the simulator's true 0.5 when every page was
harvested; ``benchmarks/RESULTS.md``). So :func:`estimate_from_impressions` leaves out pages a
learning strategy helped rank (the engine passes ``memory``), and measures on the rest whether
ranks follow clicks: ``rank_shift``, how many ranks higher a pair came back at its next
impression after a click than after an impression without one, within the same pair (an
imported log cannot say what ranked its pages; this is how a feedback loop shows in it).

An estimate replaces the prior only when :attr:`CurveEstimate.refusals` is empty: enough
harvested pairs, every rank harvested, a 95% bootstrap interval over pairs no wider than
``MAX_INTERVAL_WIDTH`` at any rank, and no significant ``rank_shift``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.stats import norm

DEFAULT_MAX_RANK = 20
MIN_PAIRS = 30  # harvested pairs needed before an estimate replaces the prior
EM_ITERATIONS = 300  # updates of the per-rank factors (``raw``)
FLOOR = 1e-4  # the smallest examination probability reported
MAX_ETA = 4.0  # the steepest power law fitted (rank 2 examined 6% as often as rank 1)
BOOTSTRAP = 200  # resamples of the harvested pairs for the interval
CONFIDENCE = 0.95
MAX_INTERVAL_WIDTH = 0.25  # widest interval of theta at any rank for an estimate to be applied


@dataclass(frozen=True)
class CurveEstimate:
    """An estimated examination curve: ``theta[r - 1]`` for rank r (1 at rank 1), with its support,
    its interval and the checks that decide whether it may replace the prior (:attr:`refusals`)."""

    theta: tuple[float, ...]  # the power-law fit, ``rank ** -eta``
    raw: tuple[float, ...]  # the per-rank factors before the fit (noisy where few clicks were harvested)
    eta: float
    impressions: tuple[int, ...]  # harvested impressions per rank
    clicks: tuple[int, ...]
    pairs: int  # (query, entity) pairs seen at >= 2 ranks
    eta_interval: tuple[float, float] = (0.0, MAX_ETA)  # bootstrap over harvested pairs (CONFIDENCE)
    rank_shift: float | None = None  # ranks a click lifted a pair's next impression (None: not measured)
    rank_shift_interval: tuple[float, float] = (0.0, 0.0)
    pages: int = 0  # result pages harvested (estimate_from_impressions)
    pages_left_out: int = 0  # pages a learning strategy helped rank

    @property
    def lower(self) -> tuple[float, ...]:
        """The interval's lower end at every rank (``rank ** -eta_high``)."""
        return _power(len(self.theta), self.eta_interval[1])

    @property
    def upper(self) -> tuple[float, ...]:
        return _power(len(self.theta), self.eta_interval[0])

    @property
    def interval_width(self) -> float:
        """The widest interval of theta over the ranks."""
        return max(hi - lo for lo, hi in zip(self.lower, self.upper))

    @property
    def refusals(self) -> list[str]:
        """Why this estimate must not replace the prior (empty: it may)."""
        reasons = []
        if self.pairs < MIN_PAIRS:
            reasons.append(f"too little randomized traffic: {self.pairs:,} (query, result) pairs were seen at two "
                           f"or more ranks, {MIN_PAIRS} needed")
        missing = [r for r, n in enumerate(self.impressions, start=1) if not n]
        if missing and self.pairs:
            reasons.append(f"ranks never harvested: {_ranks(missing)}")
        if self.pairs and self.interval_width > MAX_INTERVAL_WIDTH:
            rank = 1 + int(np.argmax(np.subtract(self.upper, self.lower)))
            reasons.append(f"too uncertain: the {CONFIDENCE:.0%} interval at rank {rank} is "
                           f"{self.lower[rank - 1]:.2f}-{self.upper[rank - 1]:.2f} (wider than {MAX_INTERVAL_WIDTH}; "
                           f"eta {self.eta:.2f} in [{self.eta_interval[0]:.2f}, {self.eta_interval[1]:.2f}])")
        if self.rank_shift is not None and self.rank_shift_interval[0] > 0:
            lo, hi = self.rank_shift_interval
            reasons.append(f"ranks follow clicks: after a click a result came back {self.rank_shift:.1f} ranks higher "
                           f"({CONFIDENCE:.0%} interval {lo:.1f}-{hi:.1f}) than after an impression without one, so the "
                           "rank changes are not interventions (a ranker learned from these clicks) and the curve "
                           "would be biased")
        return reasons

    @property
    def usable(self) -> bool:
        return not self.refusals

    def to_json(self) -> dict:
        return {"theta": _rounded(self.theta), "eta": round(self.eta, 4),
                "eta_interval": _rounded(self.eta_interval), "lower": _rounded(self.lower),
                "upper": _rounded(self.upper), "raw": _rounded(self.raw), "impressions": list(self.impressions),
                "clicks": list(self.clicks), "pairs": self.pairs, "pages": self.pages,
                "pages_left_out": self.pages_left_out,
                "rank_shift": None if self.rank_shift is None else round(self.rank_shift, 3),
                "rank_shift_interval": _rounded(self.rank_shift_interval),
                "usable": self.usable, "refusals": self.refusals}


def estimate_examination(rows: Iterable[tuple[str, str, int, int, int]], max_rank: int = DEFAULT_MAX_RANK,
                         iterations: int = EM_ITERATIONS, bootstrap: int = BOOTSTRAP, seed: int = 0) -> CurveEstimate:
    """Fit the curve for ranks 1..``max_rank`` from ``(query, entity, rank, impressions, clicks)`` rows,
    with a ``bootstrap`` interval over the harvested pairs."""
    if max_rank < 2:
        raise ValueError(f"max_rank: {max_rank} must be >= 2")
    kept = [(q, e, r, n, c) for q, e, r, n, c in rows if 1 <= r <= max_rank and n > 0]
    ranks_of: dict[tuple[str, str], set[int]] = {}
    for q, e, r, _, _ in kept:
        ranks_of.setdefault((q, e), set()).add(r)
    harvested = {pair for pair, ranks in ranks_of.items() if len(ranks) >= 2}
    index = {pair: i for i, pair in enumerate(sorted(harvested))}
    kept = [row for row in kept if (row[0], row[1]) in index]
    n_by_rank = np.zeros(max_rank, dtype=np.int64)
    c_by_rank = np.zeros(max_rank, dtype=np.int64)
    flat = tuple(1.0 for _ in range(max_rank))
    if not kept:
        return CurveEstimate(flat, flat, 0.0, tuple(n_by_rank), tuple(c_by_rank), 0)
    pair = np.array([index[(q, e)] for q, e, _, _, _ in kept])
    rank = np.array([r - 1 for _, _, r, _, _ in kept])
    n = np.array([row[3] for row in kept], dtype=float)
    c = np.minimum(np.array([row[4] for row in kept], dtype=float), n)
    np.add.at(n_by_rank, rank, n.astype(np.int64))
    np.add.at(c_by_rank, rank, c.astype(np.int64))
    counts = (tuple(int(v) for v in n_by_rank), tuple(int(v) for v in c_by_rank), len(index))
    if not c.any():
        return CurveEstimate(flat, flat, 0.0, *counts)
    fit = _ConditionalFit(pair, rank, n, c, len(index))
    eta = fit.eta()
    rng = np.random.default_rng(seed)
    draws = [fit.eta(np.bincount(rng.integers(0, len(index), len(index)), minlength=len(index)))
             for _ in range(bootstrap)]
    tail = (1 - CONFIDENCE) / 2
    interval = (float(np.quantile(draws, tail)), float(np.quantile(draws, 1 - tail))) if draws else (eta, eta)
    raw = _per_rank_factors(pair, rank, n, c, len(index), max_rank, iterations)
    return CurveEstimate(_power(max_rank, eta), tuple(float(v) for v in np.clip(raw, FLOOR, 1.0)), eta, *counts,
                         eta_interval=interval)


def estimate_from_impressions(impressions: Iterable[tuple[str, str, str, int, bool, tuple[str, ...]]],
                              max_rank: int = DEFAULT_MAX_RANK, leave_out: Iterable[str] = (),
                              **options) -> CurveEstimate:
    """Fit the curve from single impressions in log order, ``(page, query, entity, rank, clicked,
    strategies)``, leaving out pages any of the ``leave_out`` strategies (those that learn from
    clicks) helped rank; measures ``rank_shift`` on the rest. The curve covers ranks 1..``max_rank``,
    or up to the deepest rank shown when pages were shorter. ``options``: :func:`estimate_examination`'s."""
    leave_out = frozenset(leave_out)
    counts: dict[tuple[str, str, int], list[int]] = {}
    previous: dict[tuple[str, str], bool] = {}  # a transition's first impression: clicked?
    after: dict[tuple[str, str], tuple[list[int], list[int]]] = {}  # next ranks after no click, after a click
    pages: set[str] = set()
    left_out: set[str] = set()
    for page, query, entity, rank, clicked, strategies in impressions:
        if leave_out.intersection(strategies):
            left_out.add(page)
            continue
        pages.add(page)
        key = (query, entity)
        seen = counts.setdefault((query, entity, rank), [0, 0])
        seen[0] += 1
        seen[1] += bool(clicked)
        if key in previous:  # the 2nd, 4th, ... impression: where the pair came back after the one before
            after.setdefault(key, ([], []))[previous.pop(key)].append(rank)
        else:  # disjoint transitions: a rank that decides whether the next transition follows a click is never its value
            previous[key] = bool(clicked)
    deepest = max((r for _, _, r in counts), default=max_rank)  # a log of 10-result pages: ranks 1..10
    estimate = estimate_examination(((q, e, r, n, c) for (q, e, r), (n, c) in counts.items()),
                                    max(2, min(max_rank, deepest)), **options)
    shift, interval = _rank_shift(after.values())
    return replace(estimate, rank_shift=shift, rank_shift_interval=interval, pages=len(pages),
                   pages_left_out=len(left_out))


class _ConditionalFit:
    """The conditional (Poisson fixed-effects) likelihood of ``eta``: each pair's clicks spread over its
    impressions in proportion to ``n * rank ** -eta``; ``weights`` per pair for the bootstrap."""

    def __init__(self, pair: np.ndarray, rank: np.ndarray, n: np.ndarray, c: np.ndarray, pairs: int) -> None:
        self.pair, self.n, self.c, self.pairs = pair, n, c, pairs
        self.log_rank = np.log(rank + 1.0)
        self.pair_clicks = np.bincount(pair, weights=c, minlength=pairs)
        self.clicked = self.pair_clicks > 0

    def log_likelihood(self, eta: float, weights: np.ndarray) -> float:
        exposure = np.bincount(self.pair, weights=self.n * np.exp(-eta * self.log_rank), minlength=self.pairs)
        row_weights = weights[self.pair]
        return float(-eta * np.sum(row_weights * self.c * self.log_rank)
                     - np.sum((weights * self.pair_clicks)[self.clicked] * np.log(exposure[self.clicked])))

    def eta(self, weights: np.ndarray | None = None) -> float:
        weights = np.ones(self.pairs) if weights is None else np.asarray(weights, dtype=float)
        found = minimize_scalar(lambda eta: -self.log_likelihood(eta, weights), bounds=(0.0, MAX_ETA),
                                method="bounded", options={"xatol": 1e-4})
        return float(found.x)


def _per_rank_factors(pair: np.ndarray, rank: np.ndarray, n: np.ndarray, c: np.ndarray, pairs: int,
                      max_rank: int, iterations: int) -> np.ndarray:
    """The same model with a free factor per rank: alternating maximum-likelihood updates of the two
    multiplicative factors (iterative proportional fitting), normalized to rank 1."""
    theta = np.ones(max_rank)
    pair_clicks = np.bincount(pair, weights=c, minlength=pairs)
    rank_clicks = np.bincount(rank, weights=c, minlength=max_rank)
    for _ in range(iterations):
        gamma = pair_clicks / np.maximum(np.bincount(pair, weights=n * theta[rank], minlength=pairs), 1e-12)
        theta = rank_clicks / np.maximum(np.bincount(rank, weights=n * gamma[pair], minlength=max_rank), 1e-12)
        theta = theta / theta[0] if theta[0] > 0 else theta
    return theta


def _rank_shift(after: Iterable[tuple[list[int], list[int]]]) -> tuple[float | None, tuple[float, float]]:
    """How many ranks higher a pair's next impression was after a click than after an impression without
    one, compared within each pair (a pair that is simply ranked well does not count), averaged over the
    pairs with both, weighted by their clicks; normal interval over pairs. None below two such pairs."""
    diffs, weights = [], []
    for unclicked, clicked in after:
        if unclicked and clicked:
            diffs.append(np.mean(unclicked) - np.mean(clicked))
            weights.append(len(clicked))
    if len(diffs) < 2:
        return None, (0.0, 0.0)
    d, w = np.array(diffs), np.array(weights, dtype=float)
    mean = float(np.sum(w * d) / w.sum())
    se = float(np.sqrt(np.sum(w ** 2 * (d - mean) ** 2)) / w.sum())
    z = float(norm.ppf(0.5 + CONFIDENCE / 2))
    return mean, (mean - z * se, mean + z * se)


def _power(max_rank: int, eta: float) -> tuple[float, ...]:
    return tuple(float(v) for v in np.maximum(np.arange(1, max_rank + 1, dtype=float) ** -eta, FLOOR))


def _rounded(values) -> list[float]:
    return [round(float(v), 4) for v in values]


def _ranks(ranks: list[int]) -> str:
    return ", ".join(map(str, ranks[:8])) + (f" and {len(ranks) - 8} more" if len(ranks) > 8 else "")

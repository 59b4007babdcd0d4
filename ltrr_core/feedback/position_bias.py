"""The position bias, estimated: examination probability by rank from randomized traffic.

Intervention harvesting (Agarwal et al., WSDM 2019): when the same (query, entity) pair was
shown at different ranks, by different rankers, by the bandit's random subsets, or by any
randomization of the logging system, the change of its click rate with rank measures the
examination curve. Under the position-based model ``P(click) = theta[rank] * gamma[pair]``
the two factors are fitted by alternating maximum-likelihood updates of the multiplicative
model (iterative proportional fitting: each update matches expected to observed clicks per rank,
then per pair) over the pairs seen at two or more ranks; pairs seen at one rank carry no
information about the curve and are left out. Unlike EM on the Bernoulli likelihood (Wang et
al., WSDM 2018), which drifts to theta = 1 when each pair has only a few impressions, these
updates stay identified on sparse logs. The per-rank factors are then smoothed by a power law
``rank ** -eta`` fitted with its own intercept (click-weighted least squares on the logs), so the
curve is relative to rank 1 (``theta[1] = 1``, as IPS weights need it) without resting on rank
1's own noisy factor; the per-rank factors are kept (``raw``) to show how well the law fits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

DEFAULT_MAX_RANK = 20
MIN_PAIRS = 30  # harvested pairs needed before an estimate replaces the prior
EM_ITERATIONS = 300
FLOOR = 1e-4  # the smallest examination probability reported


@dataclass(frozen=True)
class CurveEstimate:
    """An estimated examination curve: ``theta[r - 1]`` for rank r (1 at rank 1), with its support."""

    theta: tuple[float, ...]  # the power-law fit, ``rank ** -eta``
    raw: tuple[float, ...]  # the per-rank factors before the fit (noisy where few clicks were harvested)
    eta: float
    impressions: tuple[int, ...]  # harvested impressions per rank
    clicks: tuple[int, ...]
    pairs: int  # (query, entity) pairs seen at >= 2 ranks

    @property
    def usable(self) -> bool:
        """Enough harvested pairs (``MIN_PAIRS``) and every rank observed."""
        return self.pairs >= MIN_PAIRS and all(self.impressions)

    def to_json(self) -> dict:
        return {"theta": [round(t, 4) for t in self.theta], "eta": round(self.eta, 4),
                "raw": [round(t, 4) for t in self.raw], "impressions": list(self.impressions),
                "clicks": list(self.clicks), "pairs": self.pairs, "usable": self.usable}


def estimate_examination(rows: Iterable[tuple[str, str, int, int, int]], max_rank: int = DEFAULT_MAX_RANK,
                         iterations: int = EM_ITERATIONS) -> CurveEstimate:
    """Fit the curve for ranks 1..``max_rank`` from ``(query, entity, rank, impressions, clicks)`` rows."""
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
    if not kept:
        flat = tuple(1.0 for _ in range(max_rank))
        return CurveEstimate(flat, flat, 0.0, tuple(n_by_rank), tuple(c_by_rank), 0)
    pair = np.array([index[(q, e)] for q, e, _, _, _ in kept])
    rank = np.array([r - 1 for _, _, r, _, _ in kept])
    n = np.array([row[3] for row in kept], dtype=float)
    c = np.minimum(np.array([row[4] for row in kept], dtype=float), n)
    np.add.at(n_by_rank, rank, n.astype(np.int64))
    np.add.at(c_by_rank, rank, c.astype(np.int64))
    theta = np.ones(max_rank)
    pair_clicks = np.bincount(pair, weights=c, minlength=len(index))
    rank_clicks = np.bincount(rank, weights=c, minlength=max_rank)
    for _ in range(iterations):  # alternate the two multiplicative factors' maximum-likelihood updates
        gamma = pair_clicks / np.maximum(np.bincount(pair, weights=n * theta[rank], minlength=len(index)), 1e-12)
        theta = rank_clicks / np.maximum(np.bincount(rank, weights=n * gamma[pair], minlength=max_rank), 1e-12)
        theta = theta / theta[0] if theta[0] > 0 else theta
    eta = _power_law(theta, rank_clicks)
    fitted = np.maximum(np.arange(1, max_rank + 1, dtype=float) ** -eta, FLOOR)
    return CurveEstimate(tuple(float(v) for v in fitted), tuple(float(v) for v in np.clip(theta, FLOOR, 1.0)),
                         float(eta), tuple(int(v) for v in n_by_rank), tuple(int(v) for v in c_by_rank), len(index))


def _power_law(theta: np.ndarray, clicks: np.ndarray) -> float:
    """``eta`` of ``theta[r] ~ a * r ** -eta`` by click-weighted least squares on the logs, with its own
    intercept: the fit does not hang on rank 1's factor, the one the per-rank curve is normalized by."""
    ranks = np.arange(1, len(theta) + 1, dtype=float)
    ok = (theta > 0) & (clicks > 0)
    if ok.sum() < 2:
        return 0.0
    weight = np.sqrt(clicks[ok])
    design = np.column_stack([np.ones(ok.sum()), np.log(ranks[ok])]) * weight[:, None]
    _, slope = np.linalg.lstsq(design, np.log(theta[ok]) * weight, rcond=None)[0]
    return max(0.0, float(-slope))

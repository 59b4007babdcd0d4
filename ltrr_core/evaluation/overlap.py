"""How much two ranked lists agree: rank-biased overlap and the Jaccard index of their top k."""

from __future__ import annotations

from typing import Sequence

RBO_P = 0.9  # persistence: the top 10 carry about 86% of the weight


def jaccard(a: Sequence[str], b: Sequence[str], k: int = 10) -> float:
    """|A ∩ B| / |A ∪ B| of the two top-``k`` sets (1.0 when both are empty)."""
    top_a, top_b = set(a[:k]), set(b[:k])
    union = top_a | top_b
    return len(top_a & top_b) / len(union) if union else 1.0


def rbo(a: Sequence[str], b: Sequence[str], k: int = 10, p: float = RBO_P) -> float:
    """Extrapolated rank-biased overlap of the top ``k`` (Webber, Moffat & Zobel 2010, eq. 32):
    1.0 for identical lists, 0.0 for disjoint ones; agreement near the top weighs most."""
    if not 0 < p < 1:
        raise ValueError(f"p: {p!r} must lie strictly between 0 and 1")
    depth = min(k, max(len(a), len(b)))
    if depth == 0:
        return 1.0
    seen_a, seen_b, overlap, weighted = set(), set(), 0, 0.0
    for d in range(1, depth + 1):
        x, y = (a[d - 1] if d <= len(a) else None), (b[d - 1] if d <= len(b) else None)
        overlap += (x is not None and x in seen_b) + (y is not None and y in seen_a) + (x is not None and x == y)
        seen_a.add(x)
        seen_b.add(y)
        weighted += overlap / d * p ** d
    return overlap / depth * p ** depth + (1 - p) / p * weighted

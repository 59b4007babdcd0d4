"""The candidate union: first-seen order, provenance, per-strategy scores and ranks."""

import numpy as np

from ltrr_core.ranking.pool import CandidatePool
from ltrr_core.retrieval.candidates import Candidates

IDS = [f"e{i}" for i in range(10)]


def _cands(strategy: str, positions: list[int]) -> Candidates:
    scores = np.arange(len(positions), 0, -1, dtype=float)  # best first
    return Candidates.from_scores(strategy, IDS, np.array(positions), scores, len(positions))


def test_union_keeps_first_seen_order_and_provenance():
    pool = CandidatePool.union([_cands("a", [7, 2, 5]), _cands("b", [5, 9, 7]), _cands("c", [])])
    assert pool.ids == ("e7", "e2", "e5", "e9")
    assert pool.positions.tolist() == [7, 2, 5, 9]
    assert pool.found_by == (("a", "b"), ("a",), ("a", "b"), ("b",))
    np.testing.assert_array_equal(pool.ranks["a"], [1, 2, 3, np.nan])
    np.testing.assert_array_equal(pool.ranks["b"], [3, np.nan, 1, 2])
    np.testing.assert_array_equal(pool.scores["b"], [1.0, np.nan, 3.0, 2.0])
    assert np.isnan(pool.scores["c"]).all() and len(pool.scores["c"]) == 4


def test_union_of_nothing_is_empty():
    for lists in ([], [_cands("a", [])]):
        pool = CandidatePool.union(lists)
        assert len(pool) == 0 and pool.ids == () and pool.found_by == ()

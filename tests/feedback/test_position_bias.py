"""The position bias, estimated by intervention harvesting: it recovers a known curve from
randomized traffic, ignores pairs seen at one rank, and, stored, replaces the prior."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ltrr_core.feedback.examination import ExaminationCurve, examination
from ltrr_core.feedback.position_bias import estimate_examination
from ltrr_core.feedback.records import ImpressionRow, SearchRecord
from ltrr_core.feedback.store import FeedbackStore

RANKS = 10
MAX_ERROR = 0.05  # stated bound: max |estimate - truth| over ranks 1..10, 5,000 randomized pages


def search_record() -> SearchRecord:
    return SearchRecord(query="jazz", normalized_query="jazz", user_id="ana", features=[1.0], policy="linucb",
                        arms_scored=[], chosen_arms=["bm25"], propensity=1.0, ranker="interleave")


def simulated_counts(truth: np.ndarray, pages: int, seed: int, shuffle: bool = True) -> list[tuple]:
    """Position-based clicks on pages that show 10 of a query's 20 docs in random order (or always the same)."""
    rng = np.random.default_rng(seed)
    relevance = rng.uniform(0.05, 0.9, size=(100, 20))
    counts: dict[tuple, list[int]] = {}
    for _ in range(pages):
        q = int(rng.integers(100))
        docs = rng.permutation(20)[:RANKS] if shuffle else np.arange(RANKS)
        clicks = rng.random(RANKS) < truth * relevance[q, docs]
        for r, (d, c) in enumerate(zip(docs, clicks), start=1):
            n_c = counts.setdefault((str(q), str(d), r), [0, 0])
            n_c[0] += 1
            n_c[1] += int(c)
    return [(q, d, r, n, c) for (q, d, r), (n, c) in counts.items()]


@pytest.mark.parametrize("eta,seed", [(0.5, 1), (1.0, 2)])
def test_the_estimate_recovers_a_known_curve_from_randomized_traffic(eta, seed):
    truth = 1.0 / np.arange(1, RANKS + 1) ** eta
    estimate = estimate_examination(simulated_counts(truth, 5000, seed), max_rank=RANKS)
    assert estimate.usable and estimate.pairs == 2000
    assert np.abs(np.array(estimate.theta) - truth).max() <= MAX_ERROR
    naive = np.array(estimate.clicks) / np.array(estimate.impressions)  # randomized: click rate tracks theta too
    assert np.abs(naive / naive[0] - truth).max() < 0.1


def test_pairs_seen_at_one_rank_teach_nothing_about_the_curve():
    truth = 1.0 / np.arange(1, RANKS + 1)
    estimate = estimate_examination(simulated_counts(truth, 500, 3, shuffle=False), max_rank=RANKS)
    assert estimate.pairs == 0 and not estimate.usable and estimate.theta == (1.0,) * RANKS


def test_a_stored_curve_replaces_the_prior_for_the_ranks_it_covers(tmp_path: Path):
    store = FeedbackStore(tmp_path / "feedback.db")
    store.log_search_bundle(search_record(), [ImpressionRow("e1", 1, 1.0), ImpressionRow("e2", 3, 0.5),
                                              ImpressionRow("e3", 6, 0.1)])
    examined = {s.entity_id: s.examined for s in store.q2e_stats()}
    assert examined["e2"] == pytest.approx(examination(3))
    store.save_examination_curve([1.0, 0.7, 0.4, 0.3])
    examined = {s.entity_id: s.examined for s in store.q2e_stats()}
    assert examined["e2"] == pytest.approx(0.4)
    assert examined["e3"] == pytest.approx(0.3 * examination(6) / examination(4))  # beyond: the prior's decay
    reopened = FeedbackStore(tmp_path / "feedback.db")
    assert reopened.curve == ExaminationCurve((1.0, 0.7, 0.4, 0.3)) and reopened.curve.source == "estimated"
    with pytest.raises(ValueError, match="^estimated:"):
        store.save_examination_curve([1.0, 0.0])

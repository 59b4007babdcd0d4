"""Verdicts in words: p-value text, interleaving verdicts and the expected-remaining-searches projection."""

from __future__ import annotations

import numpy as np
import pytest

from ltrr_core.evaluation.interleaving import InterleavingTally
from ltrr_core.evaluation.sequential import MixtureSPRT
from ltrr_core.evaluation.verdicts import (
    DETECTABLE_WIN_RATE, decided_comparisons_needed, interleaving_verdict, p_value_text)


@pytest.mark.parametrize("p, text", [
    (0.0, "< 0.001"), (1e-9, "< 0.001"), (0.000999, "< 0.001"), (0.001, "0.001"), (0.04213, "0.0421"),
    (0.042, "0.042"), (0.5, "0.5"), (0.12345, "0.123"), (1.0, "1"), (float("nan"), "n/a")])
def test_p_value_text(p: float, text: str) -> None:
    assert p_value_text(p) == text


def tally(outcomes: list[int], names: tuple[str, ...] = ("A", "B")) -> InterleavingTally:
    """A two-way tally fed +1 (A wins), -1 (B wins) or 0 (tie) per impression."""
    t = InterleavingTally(names)
    for o in outcomes:
        t.add([1, 0] if o > 0 else [0, 1] if o < 0 else [0, 0])
    return t


def test_decided_winner_is_named_with_rate_interval_and_confidence() -> None:
    report = tally([1, 1, 1, -1] * 40).report()
    assert report.winner == "A"
    verdict = interleaving_verdict(report)
    assert verdict.winner == "A" and verdict.expected_more_searches is None
    assert verdict.sentence.startswith("A wins over B with 95% confidence")
    pair = report.pairs[0]
    assert f"{round(100 * pair.win_rate)}%" in verdict.sentence
    assert f"{round(100 * pair.interval[0])}%–{round(100 * pair.interval[1])}%" in verdict.sentence


def test_undecided_lead_gives_expected_more_searches() -> None:
    report = tally([1, -1, 1, 0] * 5).report()  # 10 wins, 5 losses, 5 ties
    assert report.winner is None
    verdict = interleaving_verdict(report)
    assert verdict.winner is None and verdict.expected_more_searches is not None
    assert verdict.sentence.startswith(f"No winner yet: about {verdict.expected_more_searches:,} more searches")
    assert "A leads" in verdict.sentence


def test_projection_matches_the_test_when_rates_hold_exactly() -> None:
    """Feeding the projected outcomes at the estimated rate decides the test where the estimate said."""
    start = [1, 1, -1, 0] * 6  # win rate 2/3, decided share 3/4
    verdict = interleaving_verdict(tally(start).report())
    more = verdict.expected_more_searches
    t = tally(start)
    for n in range(1, 10 * more):
        t.add([1, 0] if n % 4 in (1, 2) else [0, 1] if n % 4 == 3 else [0, 0])
        if t.winner:
            break
    assert abs(n - more) <= 0.15 * more  # the path's wiggle around the projected line crosses a little early


def test_asymptote_of_the_projection_is_threshold_over_kl() -> None:
    """Far from the start the mixture's drift tends to KL(p || 1/2): the projection is within its log penalty."""
    test, p = MixtureSPRT(0.05), 0.55
    kl = p * np.log(2 * p) + (1 - p) * np.log(2 * (1 - p))
    needed = decided_comparisons_needed(test, 0, 0, p)
    assert test.threshold / kl < needed < 4 * test.threshold / kl


def test_level_estimate_may_never_decide_and_quotes_the_effect() -> None:
    report = tally([1, -1, 0] * 20).report()
    verdict = interleaving_verdict(report)
    assert verdict.expected_more_searches is None and verdict.winner is None
    assert "may never decide" in verdict.sentence
    assert verdict.searches_for_effect is not None
    share = 2 / 3
    assert verdict.searches_for_effect == pytest.approx(
        decided_comparisons_needed(MixtureSPRT(0.05), 0, 0, DETECTABLE_WIN_RATE) / share, abs=1)
    assert f"{verdict.searches_for_effect:,} searches" in verdict.sentence


def test_no_searches_yet() -> None:
    verdict = interleaving_verdict(InterleavingTally(("A", "B")).report())
    assert verdict.sentence == "No searches yet: no verdict." and verdict.searches_for_effect


def test_multileaving_winner_and_leader() -> None:
    t = InterleavingTally(("A", "B", "C"))
    for n in range(300):
        t.add([1, 0, 0] if n % 3 else [0, 1, 0] if n % 2 else [0, 0, 1])
    verdict = interleaving_verdict(t.report())
    assert verdict.winner == "A" and "every other configuration" in verdict.sentence
    early = InterleavingTally(("A", "B", "C"))
    for n in range(12):
        early.add([1, 0, 0] if n % 3 else [0, 1, 0] if n % 2 else [0, 0, 1])
    verdict = interleaving_verdict(early.report())
    assert verdict.winner is None and verdict.expected_more_searches and "A leads" in verdict.sentence


def test_multileaving_intervals_are_labelled_at_the_per_pair_level() -> None:
    t = InterleavingTally(("A", "B", "C"))
    for n in range(300):
        t.add([1, 0, 0] if n % 3 else [0, 1, 0] if n % 2 else [0, 0, 1])
    sentence = interleaving_verdict(t.report()).sentence
    assert "with 95% confidence" in sentence and "(98.3% interval" in sentence

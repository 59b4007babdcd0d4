"""Judgments from clicks: COEC under the store's examination curve equals a hand computation on a small
log; the minimum-impressions threshold, the grade thresholds and what a bad ``clicks`` spec says."""

from __future__ import annotations

import pytest

from ltrr_core.base.records import FeedbackEvent, ImpressionRow, SearchRecord
from ltrr_core.evaluation.click_judgments import click_judgments, coec_grade
from ltrr_core.evaluation.query_sets import Query, QuerySet, QuerySetError, judgments_for
from ltrr_core.feedback.store.feedback_store import FeedbackStore
from ltrr_core.understanding.text import normalize

CATALOG = {"a", "b", "c", "d"}


def _search(store: FeedbackStore, text: str, shown: str, clicked: str) -> None:
    record = SearchRecord(query=text, normalized_query=normalize(text), user_id="u", features=(0.0,), policy="linucb",
                          arms_scored=(), chosen_arms=("lexical:100",), propensity=1.0, ranker="rrf")
    sid = store.log_search_bundle(record, [ImpressionRow(e, r, 1.0, ("lexical",)) for r, e in enumerate(shown, 1)])
    store.log_feedback_many([FeedbackEvent(sid, text, e, "click", "human", "u") for e in clicked])


@pytest.fixture
def store(tmp_path):
    """``q`` three times (abc, click a; abc, click a and b; bac, click b); ``r`` once (d, click d); the
    curve in use is estimated as 1, 0.5, 0.2 for ranks 1-3."""
    with FeedbackStore(tmp_path / "f.db") as store:
        _search(store, "q", "abc", "a")
        _search(store, "Q", "abc", "ab")
        _search(store, "q", "bac", "b")
        _search(store, "r", "d", "d")
        store.save_examination_curve([1.0, 0.5, 0.2])
        yield store


def test_clicks_judgments_equal_a_hand_computed_coec(store):
    # examined (curve summed over the impressions): a 1+1+0.5, b 0.5+0.5+1, c 0.2*3, d 1 -> 6.1 in all;
    # 5 clicks: the click rate per examined impression is 5 / 6.1.
    ctr = 5 / 6.1
    expected = {("q", "a"): 2 / (ctr * 2.5), ("q", "b"): 2 / (ctr * 2.0), ("q", "c"): 0.0}
    judged = {(j.query, j.entity_id): j for j in click_judgments(store.click_stats(), min_impressions=2)}
    assert set(judged) == set(expected)  # d was shown once: under the minimum
    for pair, coec in expected.items():
        assert judged[pair].coec == pytest.approx(coec)
    assert judged[("q", "a")].expected == pytest.approx(ctr * 2.5) and judged[("q", "a")].impressions == 3
    assert {pair: j.grade for pair, j in judged.items()} == {("q", "a"): 1, ("q", "b"): 2, ("q", "c"): 0}
    queries = QuerySet("log:top:2", (Query("q", "q"), Query("r", "r")))
    judgments = judgments_for(queries, "clicks:2", CATALOG, clicks=store.click_stats)
    assert judgments.qrels == {"q": {"a": 1, "b": 2, "c": 0}}
    everything = judgments_for(queries, "clicks:1", CATALOG, clicks=store.click_stats).qrels
    assert everything["r"] == {"d": 2}  # d's COEC: 1 / (ctr * 1) = 1.22


def test_grade_thresholds_on_coec():
    assert [coec_grade(x) for x in (0.0, 0.49, 0.5, 0.99, 1.0, 1.99, 2.0, 7.0)] == [0, 0, 1, 1, 2, 2, 3, 3]


@pytest.mark.parametrize("spec, message", [
    ("clicks:x", "minimum impressions 'x'"), ("clicks:0", "minimum impressions '0'"),
    ("clicks:50", "no result was shown 50 times"), ("clickz", "clicks\\[:MIN_IMPRESSIONS\\]"),
])
def test_bad_clicks_specs_name_the_part(store, spec, message):
    queries = QuerySet("q", (Query("q", "q"),))
    with pytest.raises(QuerySetError, match=message):
        judgments_for(queries, spec, CATALOG, clicks=store.click_stats)


def test_a_log_without_clicks_says_so(tmp_path):
    with FeedbackStore(tmp_path / "f.db") as store:
        _search(store, "q", "ab", "")
        with pytest.raises(QuerySetError, match="no clicks"):
            judgments_for(QuerySet("q", (Query("q", "q"),)), "clicks", CATALOG, clicks=store.click_stats)


def test_clicks_judgments_need_the_click_log():
    with pytest.raises(QuerySetError, match="no click log was given"):
        judgments_for(QuerySet("q", (Query("q", "q"),)), "clicks", CATALOG)

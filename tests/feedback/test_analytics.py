"""Query analytics from the log: a log with known frequent, zero-result and abandoned queries is listed
as such by the store's SQL and by the analytics face; click positions, trends and strategy finds."""

from __future__ import annotations

import pytest

from ltrr_core.base.config import Settings
from ltrr_core.base.records import FeedbackEvent, ImpressionRow, SearchRecord
from ltrr_core.engine import Engine
from ltrr_core.feedback.store.feedback_store import FeedbackStore
from ltrr_core.understanding.text import normalize

T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
POSITIVE = ("engage", "thumbs_up")


def _search(store: FeedbackStore, text: str, at: float, shown: list[tuple[str, tuple[str, ...]]]) -> int:
    record = SearchRecord(query=text, normalized_query=normalize(text), user_id="u", features=(0.0,), policy="linucb",
                          arms_scored=(), chosen_arms=("lexical:100",), propensity=1.0, ranker="rrf", created_at=at)
    return store.log_search_bundle(record, [ImpressionRow(e, r, 1.0 / r, f) for r, (e, f) in enumerate(shown, 1)])


def _event(store: FeedbackStore, search_id: int, text: str, entity: str, kind: str, at: float) -> None:
    store.log_feedback_many([FeedbackEvent(search_id, text, entity, kind, "human", "u", created_at=at)])


def build_log(store: FeedbackStore) -> None:
    """``Love songs`` x5 (clicked at rank 1 each time, engaged twice), ``jazz`` x3 (results, never clicked),
    ``zzqx`` x2 (no results), ``rock`` x1 (clicked at rank 2, never engaged); over three hours."""
    shown = [("e1", ("lexical", "semantic")), ("e2", ("semantic",)), ("e3", ("lexical",))]
    for i in range(5):
        at = T0 + i * 1800
        sid = _search(store, "Love songs" if i else "love songs!", at, shown)
        _event(store, sid, "love songs", "e1", "click", at + 5)
        if i < 2:
            _event(store, sid, "love songs", "e1", "engage", at + 40)
    for i in range(3):
        _search(store, "jazz", T0 + 600 + i * 3600, shown)
    for i in range(2):
        _search(store, "zzqx", T0 + 900 + i * 3600, [])
    sid = _search(store, "rock", T0 + 7300, shown)
    _event(store, sid, "rock", "e2", "click", T0 + 7310)
    _event(store, sid, "rock", "e3", "thumbs_up", T0 + 7320)


@pytest.fixture
def store(tmp_path):
    with FeedbackStore(tmp_path / "f.db") as store:
        build_log(store)
        yield store


def test_the_store_lists_frequent_zero_result_and_abandoned_queries(store):
    table = store.query_outcomes(POSITIVE).set_index("normalized_query")
    assert list(table.index) == ["love songs", "jazz", "zzqx", "rock"]  # most searched first
    assert table.loc["love songs", "query"] == "Love songs"  # the latest text
    assert table.loc["love songs"][["searches", "zero_result", "no_click", "no_positive", "clicks"]].tolist() == [5, 0, 0, 3, 5]
    assert table.loc["jazz"][["searches", "zero_result", "no_click", "no_positive"]].tolist() == [3, 0, 3, 3]
    assert table.loc["zzqx"][["searches", "zero_result", "no_click", "no_positive"]].tolist() == [2, 2, 0, 0]
    assert table.loc["rock"][["no_click", "no_positive", "clicks"]].tolist() == [0, 0, 1]
    hourly = store.query_trend(3600, POSITIVE)
    assert hourly["searches"].sum() == 11 and hourly["bucket"].dt.tz is not None
    assert hourly.groupby("normalized_query")["bucket"].nunique()["jazz"] == 3
    clicks = store.click_positions(3600)
    assert clicks.groupby("rank")["clicks"].sum().to_dict() == {1: 5, 2: 1}


def test_strategy_finds_count_what_only_one_strategy_found(store):
    finds = store.strategy_finds(("click", "engage", "thumbs_up")).set_index("strategy")
    # confirmed (search, entity): e1 in 5 searches (both strategies), e2 (semantic only), e3 (lexical only)
    assert finds["confirmed"].unique().tolist() == [7]
    assert finds.loc["lexical", ["found", "only_found"]].tolist() == [6, 1]
    assert finds.loc["semantic", ["found", "only_found"]].tolist() == [6, 1]


def test_the_face_lists_them_and_buckets_by_hour(default_catalog, tmp_path, app_cache_dir):
    engine = Engine.open("default", Settings(cache_dir=app_cache_dir, db_path=tmp_path / "feedback.db"),
                         catalog=default_catalog)
    build_log(engine.runtime.store)
    analytics = engine.analytics
    summary = analytics.summary()
    assert (summary.searches, summary.queries, summary.zero_result, summary.no_click, summary.clicks) == (11, 4, 2, 3, 6)
    assert summary.bucket == "hour" and summary.first < summary.last
    assert analytics.top_queries(2)["normalized_query"].tolist() == ["love songs", "jazz"]
    assert analytics.zero_result_queries()["normalized_query"].tolist() == ["zzqx"]
    abandoned = analytics.abandoned_queries()
    assert abandoned["normalized_query"].tolist() == ["jazz"] and abandoned["no_click_rate"].tolist() == [1.0]
    assert analytics.abandoned_queries(by="positive")["normalized_query"].tolist() == ["jazz", "love songs"]
    overall = analytics.trend()
    assert set(overall["normalized_query"]) == {"(all)"} and overall["searches"].sum() == 11
    assert analytics.trend(["zzqx"])["zero_result"].sum() == 2
    positions = analytics.click_positions()
    assert positions["share"].round(3).tolist() == [round(5 / 6, 3), round(1 / 6, 3)]
    assert analytics.strategy_finds().set_index("strategy")["only_share"].round(3).to_dict() == {
        "lexical": round(1 / 7, 3), "semantic": round(1 / 7, 3)}
    with pytest.raises(ValueError, match="by: 'views'"):
        analytics.abandoned_queries(by="views")


def test_recall_at_depth_per_strategy_on_labelled_queries(default_catalog, tmp_path, app_cache_dir):
    engine = Engine.open("default", Settings(cache_dir=app_cache_dir, db_path=tmp_path / "feedback.db"),
                         catalog=default_catalog)
    assert engine.analytics.strategy_recall().empty  # nothing labelled
    entity = next(iter(default_catalog.entities))
    engine.runtime.store.set_label(entity.title, entity.id, 3, "analyst")
    recall = engine.analytics.strategy_recall(depth=50).set_index("strategy")
    assert set(recall.index) == set(engine.runtime.strategy_names)
    assert recall.loc["lexical", "recall"] == 1.0 and recall["queries"].unique().tolist() == [1]
    assert recall["recall"].between(0, 1).all()

"""The Query analytics page renders over a small log: its figures, the frequent, zero-result and
abandoned queries, and a click-through that runs a query on Search."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ltrr_core.base.records import FeedbackEvent, ImpressionRow, SearchRecord
from ltrr_core.feedback.store.feedback_store import FeedbackStore
from ltrr_core.understanding.text import normalize

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 300  # the first run opens the engine (model load, cached embeddings)
T0 = 1_700_000_000.0


def build_log(store: FeedbackStore, catalog_ids: list[str]) -> None:
    """``Love songs`` x5 (clicked), ``jazz`` x3 (results, no click), ``zzqx`` x2 (no results), ``rock`` x1."""
    shown = [ImpressionRow(e, r, 1.0, ("lexical",) if r % 2 else ("semantic",)) for r, e in enumerate(catalog_ids, 1)]
    for i, (text, results, click) in enumerate([("Love songs", shown, True)] * 5 + [("jazz", shown, False)] * 3
                                               + [("zzqx", [], False)] * 2 + [("rock", shown, True)]):
        record = SearchRecord(query=text, normalized_query=normalize(text), user_id="u", features=(0.0,),
                              policy="linucb", arms_scored=(), chosen_arms=("lexical:100",), propensity=1.0,
                              ranker="rrf", created_at=T0 + 600 * i)
        sid = store.log_search_bundle(record, results)
        if click:
            store.log_feedback_many([FeedbackEvent(sid, text, catalog_ids[i % 2], "click", "human", "u",
                                                   created_at=T0 + 600 * i + 5)])


@pytest.fixture(scope="module")
def db_path(db_path, default_catalog):
    """The module's app database (tests/app/conftest.py), holding the small log."""
    with FeedbackStore(db_path) as store:
        build_log(store, [e.id for e in default_catalog.entities[:3]])
    return db_path


def opened() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    at.switch_page("pages/analytics.py").run()
    assert not at.exception, at.exception
    return at


def test_the_page_lists_frequent_zero_result_and_abandoned_queries(db_path):
    at = opened()
    assert at.title[0].value == "Query analytics" and not at.error
    assert [m.value for m in at.metric][:2] == ["11", "4"]
    tables = [t.value for t in at.dataframe]
    assert tables[0]["query"].tolist() == ["Love songs", "jazz", "zzqx", "rock"]  # top queries
    assert tables[1]["query"].tolist() == ["zzqx"]  # no results
    assert tables[2]["query"].tolist() == ["jazz"]  # results, no click
    assert len(at.get("plotly_chart")) >= 4  # the log's trend, a query's trend, click positions, strategies


def test_a_query_opens_on_search(db_path):
    at = opened()
    at.selectbox(key="qa_top_pick").set_value("jazz")
    at.button(key="qa_top_open").click().run()
    assert not at.exception, at.exception
    assert at.session_state["query"] == "jazz"
    assert at.session_state["last_result"].query == "jazz"  # the Search page ran it

"""The analyst's workbench (issue 26, items 3, 6 and 7) driven with AppTest: the active catalog is
named on every page, a search is carried by the URL and a URL reruns it, the Labelling page stays
true after an import, and a letterless query is searched."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ltrr_core.feedback.store.feedback_store import FeedbackStore
from apptest import settled

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 300


def started(page: str | None = None, params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    for name, value in (params or {}).items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, at.exception
    if page:
        at.switch_page(page).run()
        assert not at.exception, at.exception
    return at


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def top_result(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("**1. ")]


def test_every_page_names_the_active_catalog(db_path):
    at = started()
    assert "Catalog: `default`" in texts(at.sidebar.caption)
    at.switch_page("pages/labelling.py").run()
    assert "Catalog: `default`" in texts(at.sidebar.caption)


def test_a_search_writes_the_url_and_the_url_reruns_it(db_path):
    at = started()
    at.selectbox(key="ctx_weekday").set_value(5)
    at.text_input(key="query").set_value("jazz for a rainy evening")
    at.button(key="search").click().run()
    assert not at.exception, at.exception
    params = {name: at.query_params[name][0] if isinstance(at.query_params[name], list) else at.query_params[name]
              for name in at.query_params}
    assert params["q"] == "jazz for a rainy evening" and params["catalog"] == "default" and params["weekday"] == "5"
    shown = top_result(at)
    assert shown
    again = started(params=params)  # a new session opened on the copied link
    assert again.text_input(key="query").value == "jazz for a rainy evening"
    assert again.selectbox(key="ctx_weekday").value == 5
    assert top_result(again) == shown


@pytest.mark.parametrize("query", ["🎸🔥", "¿?", "♪"])
def test_a_letterless_query_is_searched_not_refused(db_path, query):
    at = started()
    at.text_input(key="query").set_value(query)
    at.button(key="search").click().run()
    assert not at.exception, at.exception
    assert "Type a query" not in texts(at.info)
    res = at.session_state["last_result"]
    assert res.selection is not None and res.search_id is not None  # searched (and logged)
    assert top_result(at) or f"understood as `{res.understanding.normalized}`" in texts(at.info)


def queue_frame(at: AppTest):
    return next(d.value for d in at.dataframe if "why" in d.value.columns)


def progress_text(at: AppTest) -> str:
    return at.get("progress")[0].proto.text


def search(at: AppTest, query: str) -> AppTest:
    at.text_input(key="query").set_value(query)
    at.button(key="search").click().run()
    assert not at.exception, at.exception
    return at


def test_after_a_label_import_counts_and_the_whole_queue_match_the_store(db_path):
    at = started()
    for query in ("jazz", "calm piano", "podcast about history", "rock anthems", "love", "summer hits", "sad songs"):
        search(at, query)
    at.switch_page("pages/labelling.py").run()
    assert int(progress_text(at).split("·")[1].split()[0].replace(",", "")) > 50  # its real size, not the first 50
    first = queue_frame(at).iloc[0]
    at.file_uploader(key="labels_upload").set_value(
        ("mine.csv", f"query,docid,rating\n{first['query']},{first['entity_id']},3\n".encode(), "text/csv"))
    at.run()
    settled(at.button(key="labels_import").click().run(), "labels_import_job")
    with FeedbackStore(db_path) as store:
        stored = len(store.labels(judge="analyst"))
    assert progress_text(at).startswith(f"{stored} labelled by analyst")
    assert at.get("download_button")[0].proto.label.startswith(f"Download {stored} labels")
    after = queue_frame(at)
    assert not ((after["query"] == first["query"]) & (after["entity_id"] == first["entity_id"])).any()


def test_trec_topics_give_the_imported_queries_their_text(db_path):
    at = started("pages/labelling.py")
    with FeedbackStore(db_path) as store:
        known = store.impressions(int(store.searches(limit=1)["search_id"].iloc[0]))[0].entity_id
    at.file_uploader(key="labels_upload").set_value(("judged.qrels", f"q1 0 {known} 2\n".encode(), "text/plain"))
    at.file_uploader(key="labels_topics").set_value(
        ("topics.txt", b"<top>\n<num> Number: q1\n<title> late night jazz\n<desc> Description:\nsmoky\n</top>\n",
         "text/plain"))
    at.text_input(key="judge_labelling").set_value("trec").run()
    at.run()
    settled(at.button(key="labels_import").click().run(), "labels_import_job")
    with FeedbackStore(db_path) as store:
        assert [(lab.query, lab.entity_id) for lab in store.labels(judge="trec")] == [("late night jazz", known)]


def test_a_topics_file_without_an_imported_id_is_refused_and_nothing_is_stored(db_path):
    at = started("pages/labelling.py")
    with FeedbackStore(db_path) as store:
        known = store.impressions(int(store.searches(limit=1)["search_id"].iloc[0]))[0].entity_id
    at.file_uploader(key="labels_upload").set_value(("more.qrels", f"q2 0 {known} 1\n".encode(), "text/plain"))
    at.file_uploader(key="labels_topics").set_value(("topics.tsv", b"q9\tsomething else\n", "text/plain"))
    at.text_input(key="judge_labelling").set_value("strict").run()
    settled(at.button(key="labels_import").click().run(), "labels_import_job")
    assert "no topic for query id(s) q2" in texts(at.error)
    with FeedbackStore(db_path) as store:
        assert store.labels(judge="strict") == []

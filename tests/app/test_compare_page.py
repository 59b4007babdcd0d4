"""The Compare page driven headlessly with AppTest: it starts from the Search page's query, shows
both rankings with their movement, and a bad configuration is its message, not a traceback."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from apptest import TIMEOUT

ROOT = Path(__file__).resolve().parents[2]
QUERY = "smooth jazz for a rainy evening"


def test_compare_starts_from_the_searched_query_and_names_a_bad_configuration(db_path):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    at.text_input(key="query").set_value(QUERY)
    at.button(key="search").click().run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    assert at.text_input(key="cmp_query").value == QUERY
    at.text_input(key="cmp_a").set_value("lexical@100+semantic@25/rrf")
    at.text_input(key="cmp_b").set_value("all@100/rrf").run()
    shown = "\n".join(m.value for m in at.markdown)
    assert "new" in shown and ("up " in shown or "down " in shown) and "dropped" in shown, shown
    assert any("rank-biased overlap" in c.value for c in at.caption)

    at.text_input(key="cmp_b").set_value("all@100/nope").run()
    assert not at.exception, at.exception
    assert any("unknown ranker 'nope'" in e.value for e in at.error), [e.value for e in at.error]

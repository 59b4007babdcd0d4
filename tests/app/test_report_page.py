"""The Report page driven with AppTest: it lists the recorded simulated runs, shows each finding's
sentences beside its chart and intervals, offers the HTML, and says what to run when nothing is stored."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ltrr_core.cli import main
from ltrr_core.studio import simulation_report

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 300


@pytest.fixture(scope="module")
def database(app_cache_dir, tmp_path_factory):
    """A recorded simulated run (`ltrr simulate`) beside this module's live database."""
    db = tmp_path_factory.mktemp("report_page_db") / "feedback.db"
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LTRR_CACHE_DIR", str(app_cache_dir))
        mp.setenv("LTRR_DB_PATH", str(db))
        with contextlib.redirect_stdout(printed):
            assert main(["simulate", "--rounds", "15", "--seed", "4", "--json"]) == 0
        yield json.loads(printed.getvalue())["database"]


@pytest.mark.slow
def test_the_page_shows_the_recorded_run_and_says_what_is_missing(database):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    at.switch_page("pages/report.py").run()
    assert not at.exception and not at.error, at.exception or at.error
    assert at.title[0].value == "Report"
    report = simulation_report(database)
    shown = "\n".join(m.value for m in at.markdown)
    assert all(s.replace("$", "\\$") in shown for s in report.sentences)
    assert [s.value for s in at.subheader] == [s.title for s in report.sections] + ["Setup"]
    assert len(at.get("plotly_chart")) == len(report.sections)
    assert any("95% Wilson interval" in c.value for c in at.caption)
    at.radio(key="report_kind").set_value("Sweep").run()
    assert not at.exception and "ltrr sweep" in at.info[0].value

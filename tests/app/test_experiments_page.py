"""The Experiments page driven with AppTest: it opens on a runnable default (simulated queries
and their truth on the current catalog), runs, shows the table and per-query detail, and turns
bad input into one message."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ltrr_core.feedback.store import FeedbackStore
from ui.offline import bundled_scifact

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 300


@pytest.fixture(scope="module")
def db_path(app_cache_dir, tmp_path_factory):
    db = tmp_path_factory.mktemp("experiments_db") / "feedback.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LTRR_CACHE_DIR", str(app_cache_dir))
        mp.setenv("LTRR_DB_PATH", str(db))
        yield db


def opened() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    at.switch_page("pages/experiments.py").run()
    assert not at.exception, at.exception
    return at


def frame_with(at: AppTest, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def test_the_default_experiment_runs_and_shows_what_changed(db_path):
    at = opened()
    assert at.title[0].value == "Experiments" and not at.error
    assert at.text_input(key="beir_eval_dir").value == bundled_scifact()
    at.number_input(key="exp_n").set_value(20)
    at.button(key="exp_run").click().run()
    assert not at.exception and not at.error, texts(at.error)
    experiment = at.session_state["experiment"]
    assert experiment.names == ["bandit", "all", "lexical+semantic", "all-interleaved"]
    table = frame_with(at, "p50 ms")
    assert list(table.index) == experiment.names and {"ndcg@10", "p ndcg@10", "candidates"} <= set(table.columns)
    assert len(frame_with(at, "rbo")) > 0
    side = at.table[0].value
    assert {"bandit", "bandit grade", "all", "all grade"} <= set(side.columns)
    with FeedbackStore(db_path) as store:
        assert store.experiments()["experiment_id"].tolist() == [experiment.snapshot_id]
        assert store.counts()["searches"] == 0  # experiments are not logged as searches


def test_bad_configuration_is_one_message_naming_it(db_path):
    at = opened()
    at.text_input(key="exp_configs").set_value("bandit/rrf,lexcal:10/rrf")
    at.button(key="exp_run").click().run()
    assert not at.exception
    assert "unknown strategy 'lexcal'" in texts(at.error)


def test_beir_folder_is_validated(db_path, tmp_path):
    at = opened()
    at.text_input(key="beir_eval_dir").set_value(str(tmp_path / "nowhere"))
    at.button(key="eval_run").click().run()
    assert not at.exception
    assert "is not a folder" in texts(at.error)

"""The Experiments page driven with AppTest: it opens on a runnable default (simulated queries
and their truth on the current catalog), runs as a job (polled, never calling Streamlit from the
worker), shows the table and per-query detail, turns bad input into one message, keeps uploads in
the job's own folder (gone when it ends), and runs the BEIR evaluation on SciFact as a job."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ltrr_core.feedback.store.feedback_store import FeedbackStore
from apptest import settled
from ui.offline import bundled_scifact

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 300
EMBED_SCIFACT_S = 840  # a fresh cache embeds SciFact's 5,183 abstracts (fp32) first, beside the other tests


def opened() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    at.switch_page("pages/experiments.py").run()
    assert not at.exception, at.exception
    return at


def frame_with(at: AppTest, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


@pytest.mark.slow
def test_the_default_experiment_runs_and_shows_what_changed(db_path):
    at = opened()
    assert at.title[0].value == "Experiments" and not at.error
    assert at.text_input(key="beir_eval_dir").value == bundled_scifact()
    at.number_input(key="exp_n").set_value(20)
    at.button(key="exp_run").click().run()
    assert not at.exception and not at.error, texts(at.error)
    settled(at, "exp_job")
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


@pytest.mark.slow
def test_uploads_live_in_the_job_folder_and_are_removed_when_it_ends(db_path, default_catalog):
    at = opened()
    at.selectbox(key="exp_query_source").set_value("File (one query a line, or TREC topics)").run()
    at.selectbox(key="exp_judgment_source").set_value("Qrels file (TREC, BEIR TSV or Quepid CSV)").run()
    at.file_uploader(key="exp_query_file").upload("queries.txt", b"love\njazz\n", "text/plain")
    ids = [e.id for e in default_catalog.entities[:2]]
    at.file_uploader(key="exp_qrels_file").upload("qrels.txt", f"love 0 {ids[0]} 2\njazz 0 {ids[1]} 1\n".encode())
    at.run()
    at.button(key="exp_run").click().run()
    settled(at, "exp_job")
    assert not at.exception and not at.error, texts(at.error)
    experiment = at.session_state["experiment"]
    used = Path(experiment.query_set.removeprefix("file:"))
    assert used.name == "queries.txt" and used.parent.name.startswith("ltrr-job-")
    assert not used.parent.exists(), "the job's upload folder outlived the job"


@pytest.mark.slow
def test_beir_evaluation_runs_as_a_job_with_progress_and_shows_its_table(db_path):
    at = opened()
    at.multiselect(key="eval_systems").set_value(["lexical"])  # the smallest honest run: one system, SciFact test
    at.button(key="eval_run").click().run()
    assert not at.exception, at.exception
    settled(at, "eval_job", timeout=EMBED_SCIFACT_S)
    assert not at.exception and not at.error, texts(at.error)
    report = at.session_state["eval_report"]
    assert report.dataset == "scifact" and report.queries == 300 and list(report.table.index) == ["lexical"]
    assert 0.5 < report.table.loc["lexical", "ndcg@10"] < 0.8
    shown = next(t.value for t in at.table if "ndcg@10" in t.value.columns)
    assert list(shown.index) == ["lexical"]

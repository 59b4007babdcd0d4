"""The Streamlit dashboard driven headlessly with AppTest: every page renders, search shows the
trace, feedback lands in SQLite, bad input is a message (never a traceback), a simulation feeds
the live charts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ltrr_core.catalog.hard_cases import HARD_CASES
from ltrr_core.feedback.store.feedback_store import FeedbackStore
from apptest import settled
from ui.widgets import propensity_sentence

ROOT = Path(__file__).resolve().parents[2]
PAGES = tuple(sorted(f"pages/{page.name}" for page in (ROOT / "pages").glob("*.py")))  # every page, new ones too
TIMEOUT = 300  # the first run of the module opens the engine (model load, cached embeddings)


def started(page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    if page:
        at.switch_page(page).run()
        assert not at.exception, at.exception
    return at


def search(at: AppTest, query: str) -> AppTest:
    at.text_input(key="query").set_value(query)
    at.button(key="search").click().run()
    assert not at.exception, at.exception
    return at


def label_count(db_path: Path) -> int:
    with FeedbackStore(db_path) as store:
        return len(store.labels(judge="analyst"))


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_exception(db_path, page):
    at = started(page)
    assert at.title, f"{page} shows no title"
    assert not at.error, texts(at.error)


def test_first_run_shows_three_example_queries(db_path):
    at = started()
    examples = [at.button(key=f"example_{i}").label for i in range(3)]
    assert HARD_CASES["love_types"]["query"] in examples[2]
    at.button(key="example_0").click().run()
    res = at.session_state["last_result"]
    assert res.query == HARD_CASES["typo_artists"][0][2]
    assert res.understanding.corrections, "the typo'd artist example shows no typo fix"


def test_search_shows_arm_table_understanding_and_results(db_path):
    at = search(started(), "love")
    res = at.session_state["last_result"]
    assert len(res.items) == 10
    shown = texts(at.markdown) + texts(at.caption)
    assert f"1. {res.items[0].title}" in shown
    assert ":blue-badge[" in shown or ":orange-badge[" in shown or ":green-badge[" in shown
    assert not [t for t in at.table if "why" in t.value.columns], "a closed trace tab was built"
    at.session_state["trace_view"] = "Strategies picked"  # the tab the analyst opens
    at.run()
    assert not at.exception, at.exception
    arm_table = next(t.value for t in at.table if "propensity" not in t.value.columns and "why" in t.value.columns)
    assert set(arm_table["arm"]) == {a.arm for a in res.selection.arms}
    assert (arm_table["picked"] == "yes").sum() == len(res.selection.chosen)
    assert propensity_sentence(res.selection) in texts(at.caption)
    assert at.session_state["last_result"] is res, "opening a trace tab must not rerun the search"


def test_empty_query_gives_a_message_not_an_error(db_path):
    at = search(started(), "   ")
    assert "Type a query" in texts(at.info)
    assert not at.error
    assert "last_result" not in at.session_state


def test_thumbs_up_and_label_are_written_to_the_store(db_path):
    at = search(started(), HARD_CASES["description_only"][0][1])
    res = at.session_state["last_result"]
    first = res.items[0]
    at.button(key="up_1").click().run()
    assert not at.exception
    assert at.session_state["last_result"] is res, "a feedback click must not rerun the search"
    with FeedbackStore(db_path) as store:
        events = store.feedback_events(kind="thumbs_up", search_id=res.search_id)
    assert list(events["entity_id"]) == [first.id]
    at.segmented_control(key=f"grade_{res.search_id}_1").set_value(3).run()
    with FeedbackStore(db_path) as store:
        labels = [(l.entity_id, l.grade) for l in store.labels(judge="analyst")]
    assert (first.id, 3) in labels


def test_open_logs_a_click_and_none_of_these_settles_the_search_as_a_miss(db_path):
    at = search(started(), "jazz")
    res = at.session_state["last_result"]
    at.button(key="open_2").click().run()
    assert not at.exception
    with FeedbackStore(db_path) as store:
        assert list(store.feedback_events(search_id=res.search_id)["kind"]) == ["click"]
        assert [p.search_id for p in store.pending()] == [res.search_id]  # a click alone leaves it open
    assert "Reward window **open**" in texts(at.caption)
    at.button(key="none_of_these").click().run()
    with FeedbackStore(db_path) as store:
        assert store.pending() == []
        assert set(store.bandit_log()[0].rewards.values()) == {0.0}
    assert "Reward window **closed**" in texts(at.caption)


def test_explain_toggle_shows_contributions_or_a_note(db_path):
    at = search(started(), "love")
    at.toggle(key="show_explain").set_value(True).run()
    assert not at.exception
    res = at.session_state["last_result"]
    explained = at.session_state[f"explain_{res.search_id}"]
    # before a model exists the interleaving ranker explains itself: one row per shown result, whose
    # contributions add up to its score
    assert list(explained.index) == [item.id for item in res.items]
    assert explained["score"].tolist() == pytest.approx([item.score for item in res.items])


def test_short_simulation_updates_the_live_charts(db_path):
    at = started("pages/live.py")
    at.number_input(key="sim_rounds").set_value(20)
    at.button(key="sim_start").click().run()
    assert not at.exception, at.exception
    runner = at.session_state["sim_runner"]
    assert runner.wait(600), "the 20-round simulation did not finish"
    at.run()
    assert not at.exception, at.exception
    snap = runner.snapshot()
    assert snap.status == "done" and snap.done_rounds == 20
    assert list(snap.history["round"]) == list(range(1, 21))
    charts = {c.proto.id: json.loads(c.proto.spec) for c in at.get("plotly_chart")}
    titles = [spec["layout"]["title"]["text"] for spec in charts.values()]
    assert any("Cumulative regret" in t for t in titles) and any("Running reward" in t for t in titles)
    summary = next(t.value for t in at.table if "oracle_hit_rate" in t.value.columns)
    assert int(summary.loc["linucb", "rounds"]) == 20


def test_absurd_simulation_input_is_a_message(db_path):
    at = started("pages/live.py")
    at.multiselect(key="sim_policies").set_value([])
    at.button(key="sim_start").click().run()
    assert not at.exception
    assert "pick at least one policy" in texts(at.error)


def test_catalog_page_lists_counts_and_applies_a_policy(db_path):
    at = started("pages/catalog.py")
    counts = next(t.value for t in at.table if "entities" in t.value.columns)
    assert counts["entities"].sum() > 20_000 and "track" in counts.index
    at.selectbox(key="policy_name").set_value("egreedy")
    at.number_input(key="policy_epsilon").set_value(0.2)
    at.button(key="apply_policy").click().run()
    assert not at.exception
    assert "Policy set to egreedy" in texts(at.success)
    at.selectbox(key="policy_name").set_value("linucb")
    at.number_input(key="policy_epsilon").set_value(0.05)
    at.button(key="apply_policy").click().run()


def test_catalog_bad_csv_inputs_are_messages(db_path, tmp_path):
    at = started("pages/catalog.py")
    at.radio(key="source_kind").set_value("csv").run()
    at.text_input(key="csv_path").set_value(str(tmp_path / "missing.csv")).run()
    assert "is not a file" in texts(at.error)
    unmapped = tmp_path / "unmapped.csv"
    unmapped.write_text("name,artist\nHello,Adele\n")
    at.text_input(key="csv_path").set_value(str(unmapped)).run()
    assert "map the required field(s) id, type, title" in texts(at.error)
    bad = tmp_path / "bad.csv"
    bad.write_text("id,type,title,popularity\nx1,track,Hello,0.5\nx2,track,World,250\n")
    at.text_input(key="csv_path").set_value(str(bad)).run()
    settled(at.button(key="apply_source").click().run(), "open_catalog_job")
    message = texts(at.error)
    assert "line 3" in message and "popularity" in message


def test_catalog_default_size_bad_input_is_a_message(db_path):
    at = started("pages/catalog.py")
    at.text_input(key="default_size").set_value("lots").run()
    settled(at.button(key="apply_source").click().run(), "open_catalog_job")
    assert "default:lots: N must be a whole number of entities" in texts(at.error)


def test_labelling_page_grades_and_rejects_a_malformed_file(db_path):
    at = search(started(), "love")
    at.switch_page("pages/labelling.py").run()
    assert not at.exception
    before = label_count(db_path)
    at.radio(key="grade_choice").set_value(2)
    at.button(key="grade_submit").click().run()
    assert not at.exception
    assert label_count(db_path) == before + 1
    at.file_uploader(key="labels_upload").set_value(("bad.csv", b"query,docid,rating\nlove,trk_x,2\nlove,trk_y,seven\n", "text/csv"))
    at.run()
    settled(at.button(key="labels_import").click().run(), "labels_import_job")
    assert "bad.csv: line 3" in texts(at.error)


def test_the_judge_set_on_labelling_grades_on_search_and_never_replaces_another_judge(db_path):
    at = search(started(), "love")
    res = at.session_state["last_result"]
    first = res.items[0]
    at.segmented_control(key=f"grade_{res.search_id}_1").set_value(3).run()  # the session's first judge
    at.switch_page("pages/labelling.py").run()
    at.text_input(key="judge_labelling").set_value("alice").run()
    at.radio(key="grade_choice").set_value(2)
    at.button(key="grade_submit").click().run()
    assert not at.exception, at.exception
    with FeedbackStore(db_path) as store:
        assert len(store.labels(judge="alice")) == 1  # the Labelling grade names alice
    at.switch_page("pages/search.py").run()
    assert not at.exception, at.exception
    assert at.text_input(key="judge_search").value == "alice", "navigation reset the session's judge"
    at.segmented_control(key=f"grade_{res.search_id}_1").set_value(1).run()
    assert not at.exception, at.exception
    with FeedbackStore(db_path) as store:
        grades = {(label.judge, label.grade) for label in store.labels()
                  if label.entity_id == first.id and label.normalized_query == "love"}
    assert grades == {("analyst", 3), ("alice", 1)}
    at.switch_page("pages/labelling.py").run()
    assert at.text_input(key="judge_labelling").value == "alice"


def test_history_page_imports_a_log_refuses_a_bad_row_and_warm_starts(db_path):
    at = started("pages/history.py")
    bad = b"timestamp,session,query,entity_id,event,position\n1,s,love,trk_00001,impression,1\n2,s,love,trk_00001,zap,\n"
    at.file_uploader(key="log_upload").set_value(("bad.csv", bad, "text/csv"))
    at.run()
    settled(at.button(key="log_import").click().run(), "log_import_job")
    assert "bad.csv: line 3: field 'event'" in texts(at.error)
    with FeedbackStore(db_path) as store:
        assert store.log_event_counts() == {}
    settled(at.button(key="log_import_example").click().run(), "log_import_job")
    assert "Imported 1,732 events" in texts(at.success)
    at.button(key="bias_estimate").click().run()
    assert not at.exception, at.exception
    assert at.session_state["log_format"] == "detect" and "Curve in use" in texts(at.caption)
    settled(at.button(key="warm_start").click().run(), "warm_start_job")
    assert "Replayed 149 pages" in texts(at.success) and "counting 0.5 of a live one" in texts(at.success)


def test_scenario_preset_starts_a_shifted_run_with_its_caption(db_path):
    at = started("pages/live.py")
    at.number_input(key="sim_rounds").set_value(20)
    at.button(key="scenario_3").click().run()
    assert not at.exception, at.exception
    runner = at.session_state["sim_runner"]
    try:
        config = runner.configs["linucb"]
        assert config.shift_at == 10
        assert config.mix == {"spearfish": 0.9, "broad": 0.1, "semantic": 0.0, "fresh": 0.0}
        assert config.mix_after == {"spearfish": 0.0, "broad": 0.2, "semantic": 0.8, "fresh": 0.0}
        assert "the dashed line" in texts(at.info) and "keeps rising" in texts(at.info)
    finally:
        runner.stop()


def test_search_page_shows_results_first_with_a_why_popover(db_path):
    at = search(started(), "love")
    res = at.session_state["last_result"]
    tabs = [t.label for t in at.tabs]
    assert tabs[:2] == ["Results", "Strategies picked"]
    assert f"explain_{res.search_id}" not in at.session_state, "the explanation was computed before it was asked"
    at.session_state["why_1"] = True  # the first result's explanation, one click away
    at.run()
    assert not at.exception, at.exception
    first = at.get("popover")[0]
    shown = texts(first.markdown) + texts(first.caption)
    assert "Ranked **1**" in shown and res.items[0].found_by[0] in list(first.table[0].value.index)


def test_interleaving_page_runs_a_simulated_experiment_and_a_live_search(db_path):
    at = started("pages/interleaving.py")
    at.text_input(key="il_configs").set_value("good=lexical:100+structured:100/rrf,bad=popular:100/interleave").run()
    at.number_input(key="il_rounds").set_value(40)
    settled(at.button(key="il_run").click().run(), "il_job")
    summary = at.session_state["il_summary"]
    assert summary.searches <= 40 and summary.tally.pairs[0].a == "good"
    pairs = next(t.value for t in at.table if "A wins" in t.value.columns)
    assert int(pairs["A wins"].iloc[0]) == summary.tally.pairs[0].wins
    at.button(key="il_live_start").click().run()
    at.text_input(key="il_live_query").set_value("love")
    at.button(key="il_live_search").click().run()
    assert not at.exception, at.exception
    res = at.session_state["il_live_result"]
    assert {i.team for i in res.items} == {"good", "bad"}
    at.button(key="il_open_1").click().run()
    assert "1 interleaved searches logged" in texts(at.caption)
    live = [t.value for t in at.table if "A wins" in t.value.columns][-1]
    assert int(live["A wins"].iloc[0]) + int(live["B wins"].iloc[0]) == 1  # the click credited its team


def test_interleaving_page_names_a_bad_configuration(db_path):
    at = started("pages/interleaving.py")
    at.text_input(key="il_configs").set_value("lexcal/rrf,lexical/rrf").run()
    assert not at.exception
    assert "'lexcal'" in texts(at.error)


def test_live_page_shows_a_finished_sweep_with_its_bands(db_path):
    from ltrr_core.simulation.sweep_reports import SweepFigures, save_report
    from ltrr_core.services.sweep_runs import SeedRun, SweepConfig
    from ltrr_core.services.sweeps import report

    config = SweepConfig(("linucb", "random"), (1, 2), 3)
    runs = [SeedRun(p, s, SweepFigures(1 + s % 2, 2 / 3, 95.0), (0, s % 2, 1), (1, 1, 0), (90, 95, 100), pid=0)
            for p in config.policies for s in config.seeds]
    save_report(report(config, runs, "local", 2, 1.0), db_path.parent / "sweeps" / f"{config.name}.json")
    at = started("pages/live.py")
    assert at.selectbox(key="sweep_name").value == config.name
    table = next(d.value for d in at.dataframe if "policy" in d.value.columns)
    assert list(table["policy"]) == ["linucb", "random"] and table["cumulative_regret"].iloc[0].startswith("1.500 [")
    assert not at.error, texts(at.error)


def test_evaluation_page_estimates_every_default_off_policy_target(db_path):
    at = started()
    for query in ("jazz", "love songs", "podcast about bread"):
        search(at, query)
        at.button(key="none_of_these").click().run()  # settled searches of the exploring default policy
    at.switch_page("pages/evaluation.py").run()
    at.number_input(key="ope_bootstrap").set_value(20).run()
    settled(at.button(key="ope_run").click().run(), "ope_job")
    assert "must sum to 1" not in texts(at.error) + texts(at.info)
    results = at.session_state["ope_result"]
    assert set(results) == {"linucb", "random", "all"}
    assert "all: no support: all picks 6 strategies" in texts(at.warning)
    assert results["linucb"].estimates and results["random"].estimates

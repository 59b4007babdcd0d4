"""The learning loop through the engine: every search settled once, rewards from observable events,
state rebuilt from the log (also after SIGKILL), one learning state per database, sandboxed runs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from ltrr_core.base.config import Settings
from ltrr_core.engine import Engine
from ltrr_core.feedback.settlement import RewardWindow
from ltrr_core.selection.bandit import PolicyConfig, split_arm
from ltrr_core.selection.context import Context

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def settings(app_cache_dir, tmp_path) -> Settings:
    return Settings(cache_dir=app_cache_dir, db_path=tmp_path / "feedback.db")


@pytest.fixture()
def engine(default_catalog, settings):
    return Engine.open("default", settings, catalog=default_catalog)


def pulls(engine: Engine) -> int:
    return sum(engine.runtime.state.bandit.stats.pulls.values())


def test_thumbs_up_settles_once_on_the_arms_whose_candidates_held_the_result(engine):
    result = engine.searching.search("love songs", Context())
    item = result.items[0]
    settlement = engine.searching.feedback(result.search_id, item.id, "thumbs_up")
    assert settlement.reason == "thumbs_up" and settlement.entity_id == item.id
    assert settlement.rewards == {arm: float(split_arm(arm)[0] in item.found_by) for arm in result.selection.chosen}
    assert engine.searching.feedback(result.search_id, result.items[1].id, "thumbs_up") is None  # settled once
    assert pulls(engine) == len(settlement.rewards) and engine.searching.open_searches == []
    events = engine.runtime.store.feedback_events(search_id=result.search_id)
    assert sorted(events["kind"]) == ["thumbs_up", "thumbs_up"]
    assert engine.runtime.store.bandit_log()[0].rewards == settlement.rewards


def test_a_click_alone_keeps_the_window_open_and_engagement_closes_it(engine):
    result = engine.searching.search("jazz", Context())
    second = result.items[1]
    assert engine.searching.feedback(result.search_id, second.id, "click") is None
    assert engine.searching.open_searches == [result.search_id] and pulls(engine) == 0
    settlement = engine.searching.respond(result.search_id, [(second.id, "engage")], source="simulated", user_id="sim")
    assert settlement.reason == "engage" and settlement.entity_id == second.id
    memory = {r["entity_id"]: r for r in engine.runtime.pipeline.resources.memory.explain("jazz")}
    assert memory[second.id]["clicks"] == 1


def test_the_next_search_of_the_session_closes_the_open_window_as_a_miss(engine):
    first = engine.searching.search("rock", Context(), user_id="ana")
    other = engine.searching.search("pop", Context(), user_id="bob")
    engine.searching.search("blues", Context(), user_id="ana")
    assert set(engine.searching.open_searches) == {other.search_id, first.search_id + 2}
    (logged,) = [r for r in engine.learning.bandit_log() if r.search_id == first.search_id]
    assert set(logged.rewards) == set(first.selection.chosen) and set(logged.rewards.values()) == {0.0}
    assert engine.runtime.store.searches().set_index("search_id").loc[first.search_id, "settle_reason"] == "next_search"


def test_searches_of_one_session_at_once_leave_only_the_last_window_open(engine):
    """Two reruns of a page can search at the same moment: every window but the newest must close."""
    queries = ["rock", "jazz", "blues", "love", "piano", "latin", "chill", "golden"] * 3
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(lambda q: engine.searching.search(q, Context(), user_id="ana").search_id, queries))
    assert engine.searching.open_searches == [max(ids)]
    assert len(engine.learning.bandit_log()) == len(ids) - 1


def test_none_of_these_and_the_wait_close_with_the_default_reward(default_catalog, settings):
    engine = Engine.open("default", settings, catalog=default_catalog, window=RewardWindow(wait_s=0.2))
    shown = engine.searching.search("love", Context())
    assert engine.searching.close(shown.search_id).reason == "none_of_these"
    assert engine.searching.close(shown.search_id) is None
    waiting = engine.searching.search("sad songs", Context(), user_id="someone")
    time.sleep(0.3)
    (closed,) = engine.searching.close_expired()
    assert closed.search_id == waiting.search_id and closed.reason == "timeout"
    assert set(closed.rewards.values()) == {0.0} and pulls(engine) == len(shown.selection.chosen) + len(closed.rewards)


def test_a_label_of_two_or_more_on_a_shown_result_settles_the_search(engine):
    result = engine.searching.search("love songs", Context())
    engine.labelling.label("love songs", result.items[2].id, 1, judge="analyst")
    assert engine.searching.open_searches == [result.search_id]  # a low grade is not satisfaction
    engine.labelling.label("Love Songs!", result.items[2].id, 2, judge="analyst")
    (logged,) = engine.learning.bandit_log()
    assert logged.rewards == {arm: float(split_arm(arm)[0] in result.items[2].found_by) for arm in logged.chosen_arms}


def test_twenty_searches_with_five_thumbs_up_give_twenty_settled_rounds_fifteen_misses(engine):
    queries = ["love", "jazz", "rock", "sad songs", "podcast about making bread", "taylor", "80s", "chill",
               "hip hop", "new releases", "piano", "summer hits", "workout", "k-pop", "running podcast",
               "acoustic", "hold on", "golden", "space podcast", "latin"]
    for i, query in enumerate(queries):
        result = engine.searching.search(query, Context())
        if i % 4 == 0:
            engine.searching.feedback(result.search_id, result.items[0].id, "thumbs_up")
    assert len(engine.searching.open_searches) == 1  # the last window is still open
    engine.searching.close(engine.searching.open_searches[0])
    log = engine.learning.bandit_log()
    assert len(log) == 20
    assert sum(max(r.rewards.values()) == 0 for r in log) == 15
    history = engine.learning.learning_history()
    assert len(history) == 20 and int(history["rewarded"].sum()) == 5


def test_open_windows_and_learning_are_rebuilt_from_the_log_on_restart(engine, default_catalog, settings):
    rewarded = engine.searching.search("love songs", Context())
    engine.searching.feedback(rewarded.search_id, rewarded.items[0].id, "thumbs_up")
    pending = engine.searching.search("jazz", Context())
    again = Engine.open("default", settings, catalog=default_catalog)
    assert again.searching.open_searches == [pending.search_id]
    assert again.runtime.state.bandit.stats.pulls == engine.runtime.state.bandit.stats.pulls
    np.testing.assert_allclose(again.runtime.state.bandit.arrays()["A"], engine.runtime.state.bandit.arrays()["A"])
    # provenance read from the store
    settlement = again.searching.feedback(pending.search_id, pending.items[1].id, "thumbs_up")
    assert settlement.rewards == {a: float(split_arm(a)[0] in pending.items[1].found_by) for a in pending.selection.chosen}


def test_a_policy_chosen_is_stored_in_the_database_not_only_in_a_snapshot(engine, default_catalog, settings):
    chosen = PolicyConfig(name="egreedy", epsilon=0.2)
    engine.learning.set_policy(chosen)
    shutil.rmtree(engine.runtime.state_dir)
    again = Engine.open("default", settings, catalog=default_catalog)
    assert again.learning.policy == again.runtime.policy == chosen


def test_snapshots_are_npz_and_json_and_a_tampered_one_is_rebuilt_from_the_log(engine, default_catalog, settings):
    for query in ("love", "jazz", "rock"):
        result = engine.searching.search(query, Context())
        engine.searching.feedback(result.search_id, result.items[0].id, "thumbs_up")
    engine.learning.save_state()
    files = sorted(p.name for p in engine.runtime.state_dir.iterdir())
    assert files == ["state.json", "state.npz"] and not list(engine.runtime.state_dir.glob("*.pkl"))
    meta = json.loads((engine.runtime.state_dir / "state.json").read_text())
    last = engine.learning.bandit_log()[-1]
    assert meta["seq"] == engine.runtime.store.log_position().last_seq - len(last.rewards) + 1
    assert meta["database"] == engine.runtime.store.database_id()  # a snapshot names its database and its prefix
    (engine.runtime.state_dir / "state.npz").write_bytes(b"planted")
    again = Engine.open("default", settings, catalog=default_catalog)
    assert "rebuilt from the feedback log" in again.runtime.state_files.problem
    assert (engine.runtime.state_dir / "state.npz.unreadable").exists()
    assert again.runtime.state.bandit.stats.pulls == engine.runtime.state.bandit.stats.pulls


def test_a_snapshot_keeps_the_leave_out_counts_and_an_older_format_is_refolded(engine, default_catalog, settings):
    for query in ("love", "jazz", "rock", "love songs"):
        result = engine.searching.search(query, Context())
        engine.searching.feedback(result.search_id, result.items[0].id, "engage")
    engine.learning.save_state()
    stats = engine.runtime.state.bandit.stats
    assert sum(stats.shared.values()) > 0
    again = Engine.open("default", settings, catalog=default_catalog)
    again_stats = again.runtime.state.bandit.stats
    assert (again_stats.shared, again_stats.alone) == (stats.shared, stats.alone)
    meta_path = engine.runtime.state_dir / "state.json"
    meta = json.loads(meta_path.read_text())
    meta["format"] = 1
    meta_path.write_text(json.dumps(meta))
    older = Engine.open("default", settings, catalog=default_catalog)
    assert older.runtime.state_files.problem is None  # not "unreadable": folded from the log, which holds them
    older_stats = older.runtime.state.bandit.stats
    assert (older_stats.shared, older_stats.alone) == (stats.shared, stats.alone)


def test_each_database_has_its_own_learning_state_and_reset_touches_only_its_own(default_catalog, app_cache_dir,
                                                                                 tmp_path):
    one = Engine.open("default", Settings(cache_dir=app_cache_dir, db_path=tmp_path / "one.db"), catalog=default_catalog)
    two = Engine.open("default", Settings(cache_dir=app_cache_dir, db_path=tmp_path / "two.db"), catalog=default_catalog)
    assert one.runtime.state_dir != two.runtime.state_dir
    result = two.searching.search("love", Context())
    two.searching.feedback(result.search_id, result.items[0].id, "thumbs_up")
    two.learning.save_state()
    one.learning.reset_learning()
    assert (two.runtime.state_dir / "state.json").exists() and pulls(two) > 0
    assert two.runtime.store.counts()["searches"] == 1


def test_a_simulation_runs_in_a_sandbox_and_leaves_live_learning_alone(engine):
    from ltrr_core.services.simulation_runs import SimulationConfig, SimulationRun

    live = engine.searching.search("love", Context())
    engine.searching.feedback(live.search_id, live.items[0].id, "thumbs_up")
    before = (engine.runtime.store.counts(), dict(engine.runtime.state.bandit.stats.pulls), engine.runtime.policy,
              engine.runtime.pipeline.resources.memory.explain("love"))
    run = SimulationRun(engine, SimulationConfig(rounds=60, seed=3, policy="random")).run()
    assert run.engine.runtime.settings.db_path.parent == engine.runtime.settings.db_path.parent / "simulations"
    assert run.engine.runtime.store.counts()["searches"] == 60 and len(run.engine.learning.bandit_log()) == 60
    after = (engine.runtime.store.counts(), dict(engine.runtime.state.bandit.stats.pulls), engine.runtime.policy,
             engine.runtime.pipeline.resources.memory.explain("love"))
    assert after == before
    run.engine.learning.save_state()
    run.engine.runtime.ranker_path.write_text("{}")
    again = engine.sandbox(run.config.run_name)  # the same name starts afresh: no old log, state or ranker
    assert again.runtime.store.counts()["searches"] == 0 and again.runtime.rankers.current.name == "interleave"
    assert not (again.runtime.state_dir / "state.json").exists()


KILLED = textwrap.dedent("""
    import json, os, signal, sys
    from ltrr_core.catalog.sources import load_catalog
    from ltrr_core.base.config import Settings
    from ltrr_core.engine import Engine
    from ltrr_core.selection.context import Context
    cache, db, n, die = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "die"
    engine = Engine.open("default", Settings(cache_dir=cache, db_path=db), catalog=load_catalog("default"))
    queries = ["love", "jazz", "rock", "sad songs", "taylor", "chill", "piano", "80s", "workout", "latin"]
    for i in range(n):
        result = engine.searching.search(queries[i % len(queries)], Context())
        engine.searching.feedback(result.search_id, result.items[i % 3].id, "click")
        if i % 2 == 0:
            engine.searching.feedback(result.search_id, result.items[i % 3].id, "thumbs_up")
    if die:
        os.kill(os.getpid(), signal.SIGKILL)
    memory = engine.runtime.pipeline.resources.memory
    print(json.dumps({"pulls": engine.runtime.state.bandit.stats.pulls,
                      "memory": [[r["entity_id"], r["score"]] for r in memory.explain("love")],
                      "lookup": [h.entity_id for h in memory.lookup(["love"], 20)]}))
""")


@pytest.mark.slow
def test_after_sigkill_the_next_start_has_the_same_arm_statistics_and_memory(default_catalog, app_cache_dir, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def run(db: Path, mode: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", KILLED, str(app_cache_dir), str(db), "12", mode],
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)

    died = run(tmp_path / "killed.db", "die")
    assert died.returncode == -signal.SIGKILL, died.stderr[-2000:]
    lived = json.loads(run(tmp_path / "lived.db", "live").stdout.strip().splitlines()[-1])
    restarted = Engine.open("default", Settings(cache_dir=app_cache_dir, db_path=tmp_path / "killed.db"),
                            catalog=default_catalog)
    assert restarted.runtime.state.bandit.stats.pulls == lived["pulls"]
    memory = restarted.runtime.pipeline.resources.memory
    explained = memory.explain("love")
    assert [r["entity_id"] for r in explained] == [e for e, _ in lived["memory"]]
    assert [r["score"] for r in explained] == pytest.approx([score for _, score in lived["memory"]])
    assert [h.entity_id for h in memory.lookup(["love"], 20)] == lived["lookup"]


def test_an_interleaved_page_counts_the_same_before_and_after_a_restart(engine, default_catalog, settings):
    """One examination curve for live pages, interleaved pages and the log's rebuild: with an
    estimated curve far from the prior, the memory's examined counts survive a restart unchanged."""
    engine.runtime.store.save_examination_curve([0.95, 0.2, 0.1, 0.05])
    experiments = engine.experiments
    experiment = experiments.start_interleaving(experiments.configurations("a=lexical/rrf,b=popular/rrf"))
    result = experiments.search_interleaved("midnight rain", experiment, Context())
    assert result.items, "the interleaved page showed nothing"
    memory = engine.runtime.pipeline.resources.memory
    live = {row["entity_id"]: row["examined"] for row in memory.explain("midnight rain")
            if "examined" in row}
    assert live[result.items[0].id] == pytest.approx(0.95)  # rank 1 under the estimated curve, not the prior
    restarted = Engine.open("default", settings, catalog=default_catalog)
    rebuilt = {row["entity_id"]: row["examined"]
               for row in restarted.runtime.pipeline.resources.memory.explain("midnight rain") if "examined" in row}
    assert rebuilt == pytest.approx(live)

"""The learning loop through the engine: every search settled once, rewards from observable events,
state rebuilt from the log (also after SIGKILL), one learning state per database, sandboxed runs."""

from __future__ import annotations

import json
import os
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
    return sum(engine.state.bandit.stats.pulls.values())


def test_thumbs_up_settles_once_on_the_arms_whose_candidates_held_the_result(engine):
    result = engine.search("love songs", Context())
    item = result.items[0]
    settlement = engine.feedback(result.search_id, item.id, "thumbs_up")
    assert settlement.reason == "thumbs_up" and settlement.entity_id == item.id
    assert settlement.rewards == {arm: float(split_arm(arm)[0] in item.found_by) for arm in result.selection.chosen}
    assert engine.feedback(result.search_id, result.items[1].id, "thumbs_up") is None  # settled once
    assert pulls(engine) == len(settlement.rewards) and engine.open_searches == []
    assert sorted(engine.store.feedback_events(search_id=result.search_id)["kind"]) == ["thumbs_up", "thumbs_up"]
    assert engine.store.bandit_log()[0].rewards == settlement.rewards


def test_a_click_alone_keeps_the_window_open_and_engagement_closes_it(engine):
    result = engine.search("jazz", Context())
    second = result.items[1]
    assert engine.feedback(result.search_id, second.id, "click") is None
    assert engine.open_searches == [result.search_id] and pulls(engine) == 0
    settlement = engine.respond(result.search_id, [(second.id, "engage")], source="simulated", user_id="sim")
    assert settlement.reason == "engage" and settlement.entity_id == second.id
    memory = {r["entity_id"]: r for r in engine.pipeline.resources.memory.explain("jazz")}
    assert memory[second.id]["clicks"] == 1


def test_the_next_search_of_the_session_closes_the_open_window_as_a_miss(engine):
    first = engine.search("rock", Context(), user_id="ana")
    other = engine.search("pop", Context(), user_id="bob")
    engine.search("blues", Context(), user_id="ana")
    assert set(engine.open_searches) == {other.search_id, first.search_id + 2}
    (logged,) = [r for r in engine.bandit_log() if r.search_id == first.search_id]
    assert set(logged.rewards) == set(first.selection.chosen) and set(logged.rewards.values()) == {0.0}
    assert engine.store.searches().set_index("search_id").loc[first.search_id, "settle_reason"] == "next_search"


def test_searches_of_one_session_at_once_leave_only_the_last_window_open(engine):
    """Two reruns of a page can search at the same moment: every window but the newest must close."""
    queries = ["rock", "jazz", "blues", "love", "piano", "latin", "chill", "golden"] * 3
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(lambda q: engine.search(q, Context(), user_id="ana").search_id, queries))
    assert engine.open_searches == [max(ids)]
    assert len(engine.bandit_log()) == len(ids) - 1


def test_none_of_these_and_the_wait_close_with_the_default_reward(default_catalog, settings):
    engine = Engine.open("default", settings, catalog=default_catalog, window=RewardWindow(wait_s=0.2))
    shown = engine.search("love", Context())
    assert engine.close(shown.search_id).reason == "none_of_these"
    assert engine.close(shown.search_id) is None
    waiting = engine.search("sad songs", Context(), user_id="someone")
    time.sleep(0.3)
    (closed,) = engine.close_expired()
    assert closed.search_id == waiting.search_id and closed.reason == "timeout"
    assert set(closed.rewards.values()) == {0.0} and pulls(engine) == len(shown.selection.chosen) + len(closed.rewards)


def test_a_label_of_two_or_more_on_a_shown_result_settles_the_search(engine):
    result = engine.search("love songs", Context())
    engine.label("love songs", result.items[2].id, 1, judge="analyst")
    assert engine.open_searches == [result.search_id]  # a low grade is not satisfaction
    engine.label("Love Songs!", result.items[2].id, 2, judge="analyst")
    (logged,) = engine.bandit_log()
    assert logged.rewards == {arm: float(split_arm(arm)[0] in result.items[2].found_by) for arm in logged.chosen_arms}


def test_twenty_searches_with_five_thumbs_up_give_twenty_settled_rounds_fifteen_misses(engine):
    queries = ["love", "jazz", "rock", "sad songs", "podcast about making bread", "taylor", "80s", "chill",
               "hip hop", "new releases", "piano", "summer hits", "workout", "k-pop", "running podcast",
               "acoustic", "hold on", "golden", "space podcast", "latin"]
    for i, query in enumerate(queries):
        result = engine.search(query, Context())
        if i % 4 == 0:
            engine.feedback(result.search_id, result.items[0].id, "thumbs_up")
    assert len(engine.open_searches) == 1  # the last window is still open
    engine.close(engine.open_searches[0])
    log = engine.bandit_log()
    assert len(log) == 20
    assert sum(max(r.rewards.values()) == 0 for r in log) == 15
    history = engine.learning_history()
    assert len(history) == 20 and int(history["rewarded"].sum()) == 5


def test_open_windows_and_learning_are_rebuilt_from_the_log_on_restart(engine, default_catalog, settings):
    rewarded = engine.search("love songs", Context())
    engine.feedback(rewarded.search_id, rewarded.items[0].id, "thumbs_up")
    pending = engine.search("jazz", Context())
    again = Engine.open("default", settings, catalog=default_catalog)
    assert again.open_searches == [pending.search_id]
    assert again.state.bandit.stats.pulls == engine.state.bandit.stats.pulls
    np.testing.assert_allclose(again.state.bandit.arrays()["A"], engine.state.bandit.arrays()["A"])
    settlement = again.feedback(pending.search_id, pending.items[1].id, "thumbs_up")  # provenance read from the store
    assert settlement.rewards == {a: float(split_arm(a)[0] in pending.items[1].found_by) for a in pending.selection.chosen}


def test_a_policy_chosen_is_saved_and_restored(engine, default_catalog, settings):
    engine.set_policy(PolicyConfig(name="egreedy", epsilon=0.2))
    assert Engine.open("default", settings, catalog=default_catalog).policy == PolicyConfig(name="egreedy", epsilon=0.2)


def test_snapshots_are_npz_and_json_and_a_tampered_one_is_rebuilt_from_the_log(engine, default_catalog, settings):
    for query in ("love", "jazz", "rock"):
        result = engine.search(query, Context())
        engine.feedback(result.search_id, result.items[0].id, "thumbs_up")
    engine.save_state()
    files = sorted(p.name for p in engine.state_dir.iterdir())
    assert files == ["state.json", "state.npz"] and not list(engine.state_dir.glob("*.pkl"))
    meta = json.loads((engine.state_dir / "state.json").read_text())
    assert meta["seq"] == engine.store.last_settled_seq() - len(engine.bandit_log()[-1].rewards) + 1
    assert meta["database"] == engine.store.database_id()  # a snapshot names its database and its prefix
    (engine.state_dir / "state.npz").write_bytes(b"planted")
    again = Engine.open("default", settings, catalog=default_catalog)
    assert "rebuilt from the feedback log" in again.state_files.problem
    assert (engine.state_dir / "state.npz.unreadable").exists()
    assert again.state.bandit.stats.pulls == engine.state.bandit.stats.pulls


def test_a_snapshot_keeps_the_leave_out_counts_and_an_older_format_is_refolded(engine, default_catalog, settings):
    for query in ("love", "jazz", "rock", "love songs"):
        result = engine.search(query, Context())
        engine.feedback(result.search_id, result.items[0].id, "engage")
    engine.save_state()
    stats = engine.state.bandit.stats
    assert sum(stats.shared.values()) > 0
    again = Engine.open("default", settings, catalog=default_catalog)
    assert (again.state.bandit.stats.shared, again.state.bandit.stats.alone) == (stats.shared, stats.alone)
    meta_path = engine.state_dir / "state.json"
    meta = json.loads(meta_path.read_text())
    meta["format"] = 1
    meta_path.write_text(json.dumps(meta))
    older = Engine.open("default", settings, catalog=default_catalog)
    assert older.state_files.problem is None  # not "unreadable": folded from the log, which holds the same rounds
    assert (older.state.bandit.stats.shared, older.state.bandit.stats.alone) == (stats.shared, stats.alone)


def test_each_database_has_its_own_learning_state_and_reset_touches_only_its_own(default_catalog, app_cache_dir,
                                                                                 tmp_path):
    one = Engine.open("default", Settings(cache_dir=app_cache_dir, db_path=tmp_path / "one.db"), catalog=default_catalog)
    two = Engine.open("default", Settings(cache_dir=app_cache_dir, db_path=tmp_path / "two.db"), catalog=default_catalog)
    assert one.state_dir != two.state_dir
    result = two.search("love", Context())
    two.feedback(result.search_id, result.items[0].id, "thumbs_up")
    two.save_state()
    one.reset_learning()
    assert (two.state_dir / "state.json").exists() and pulls(two) > 0 and two.store.counts()["searches"] == 1


def test_a_simulation_runs_in_a_sandbox_and_leaves_live_learning_alone(engine):
    from ltrr_core.services.simulation_runs import SimulationConfig, SimulationRun

    live = engine.search("love", Context())
    engine.feedback(live.search_id, live.items[0].id, "thumbs_up")
    before = (engine.store.counts(), dict(engine.state.bandit.stats.pulls), engine.policy,
              engine.pipeline.resources.memory.explain("love"))
    run = SimulationRun(engine, SimulationConfig(rounds=60, seed=3, policy="random")).run()
    assert run.engine.settings.db_path.parent == engine.settings.db_path.parent / "simulations"
    assert run.engine.store.counts()["searches"] == 60 and len(run.engine.bandit_log()) == 60
    after = (engine.store.counts(), dict(engine.state.bandit.stats.pulls), engine.policy,
             engine.pipeline.resources.memory.explain("love"))
    assert after == before
    run.engine.save_state()
    run.engine.ranker_path.write_text("{}")
    again = engine.sandbox(run.config.run_name)  # the same name starts afresh: no old log, state or ranker
    assert again.store.counts()["searches"] == 0 and again.rankers.current.name == "interleave"
    assert not (again.state_dir / "state.json").exists()


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
        result = engine.search(queries[i % len(queries)], Context())
        engine.feedback(result.search_id, result.items[i % 3].id, "click")
        if i % 2 == 0:
            engine.feedback(result.search_id, result.items[i % 3].id, "thumbs_up")
    if die:
        os.kill(os.getpid(), signal.SIGKILL)
    print(json.dumps({"pulls": engine.state.bandit.stats.pulls,
                      "memory": [[r["entity_id"], r["score"]] for r in engine.pipeline.resources.memory.explain("love")],
                      "lookup": [h.entity_id for h in engine.pipeline.resources.memory.lookup(["love"], 20)]}))
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
    assert restarted.state.bandit.stats.pulls == lived["pulls"]
    memory = restarted.pipeline.resources.memory
    explained = memory.explain("love")
    assert [r["entity_id"] for r in explained] == [e for e, _ in lived["memory"]]
    assert [r["score"] for r in explained] == pytest.approx([score for _, score in lived["memory"]])
    assert [h.entity_id for h in memory.lookup(["love"], 20)] == lived["lookup"]


def test_an_interleaved_page_counts_the_same_before_and_after_a_restart(engine, default_catalog, settings):
    """One examination curve for live pages, interleaved pages and the log's rebuild: with an
    estimated curve far from the prior, the memory's examined counts survive a restart unchanged."""
    engine.store.save_examination_curve([0.95, 0.2, 0.1, 0.05])
    experiments = engine.experiments
    experiment = experiments.start_interleaving(experiments.configurations("a=lexical/rrf,b=popular/rrf"))
    result = experiments.search_interleaved("midnight rain", experiment, Context())
    assert result.items, "the interleaved page showed nothing"
    live = {row["entity_id"]: row["examined"] for row in engine.pipeline.resources.memory.explain("midnight rain")
            if "examined" in row}
    assert live[result.items[0].id] == pytest.approx(0.95)  # rank 1 under the estimated curve, not the prior
    restarted = Engine.open("default", settings, catalog=default_catalog)
    rebuilt = {row["entity_id"]: row["examined"]
               for row in restarted.pipeline.resources.memory.explain("midnight rain") if "examined" in row}
    assert rebuilt == pytest.approx(live)

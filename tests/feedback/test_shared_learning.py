"""What processes sharing one database must agree on beyond the order of the reward log: a log rewritten
under them (a reset, a warm start) is rebuilt, not caught up on; the memory counts every process's
impressions and events as a restart would; the chosen policy is the database's; a catch-up reads
only the rows after its position."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from test_processes import ROOT, assert_same_fold, fingerprint, fresh_fold, open_engine, thumbs_up
from test_store import search_record

from ltrr_core.base.records import REPLAYED, ImpressionRow, SettledRound
from ltrr_core.engine import Engine
from ltrr_core.feedback.learning_state import LearningState
from ltrr_core.feedback.store.feedback_store import FeedbackStore
from ltrr_core.feedback.store.searches import SETTLED_ROUNDS
from ltrr_core.selection.bandit import PolicyConfig
from ltrr_core.selection.context import Context


def settled(engine: Engine, queries, user_id: str = "analyst") -> None:
    """A search of each query, a click on its second result and a thumbs up on its third (settling it)."""
    for query in queries:
        result = engine.searching.search(query, Context(), user_id=user_id)
        if len(result.items) > 1:
            engine.searching.feedback(result.search_id, result.items[1].id, "click")
        thumbs_up(engine, result, 2)


def memory_of(engine: Engine) -> tuple[dict, dict]:
    """The engine's memory statistics of every (query, entity) pair of the log, and the log's own
    aggregate of them (what a restart loads); each ``[examined, clicks, thumbs up, thumbs down]``."""
    memory = engine.runtime.pipeline.resources.memory
    log = {(s.normalized_query, s.entity_id): [s.examined, s.clicks, s.thumbs_up, s.thumbs_down]
           for s in engine.runtime.store.q2e_stats()}
    held = {(query, row["entity_id"]): [row[k] for k in ("examined", "clicks", "thumbs_up", "thumbs_down")]
            for query in {q for q, _ in log} for row in memory.explain(query) if "examined" in row}
    assert memory.n_observed == len(held)  # nothing held beyond the log's pairs
    return held, log


def assert_memory_is_the_logs(engine: Engine) -> None:
    held, log = memory_of(engine)
    assert held.keys() == log.keys() and log
    for pair, counts in log.items():
        assert held[pair] == pytest.approx(counts), pair


def test_a_warm_start_by_another_process_is_refolded_not_caught_up_on(app_cache_dir, default_catalog, tmp_path):
    db = tmp_path / "shared.db"
    app, cli = open_engine(app_cache_dir, db, default_catalog), open_engine(app_cache_dir, db, default_catalog)
    settled(app, ["love", "jazz", "rock"])
    rt = cli.runtime
    arms = rt.state.bandit.arms
    replayed = [SettledRound(page, page, tuple([0.5] * rt.n_features), "", {arms[0]: 1.0, arms[page]: 0.0}, REPLAYED)
                for page in (1, 2)]
    rt.store.replace_replayed_rounds(replayed)  # the replayed past now comes before every live round
    rt.loop.set_policy(rt.policy)  # as LogService.warm_start does
    app.searching.search("piano", Context())  # no new round: a catch-up by position would fold nothing
    expected = LearningState.fresh(app.runtime.strategy_names, app.runtime.n_features, app.runtime.policy)
    expected.fold(replayed)
    expected.seq = 0
    expected.fold(app.runtime.store.settled_rounds())
    assert_same_fold(fingerprint(app.runtime.state), fingerprint(expected))
    assert_same_fold(fingerprint(cli.runtime.state), fingerprint(expected))


def test_a_snapshot_saved_by_a_process_behind_a_reset_is_refused(app_cache_dir, default_catalog, tmp_path):
    db = tmp_path / "shared.db"
    app, cli = open_engine(app_cache_dir, db, default_catalog), open_engine(app_cache_dir, db, default_catalog)
    settled(app, ["love", "jazz", "rock"])
    cli.learning.reset_learning()
    app.learning.save_state()  # not caught up yet: it saves the rounds the reset forgot
    settled(cli, ["piano", "chill", "latin", "taylor", "80s", "workout"])
    meta = json.loads(app.runtime.state_files.meta_path.read_text())
    assert 0 < meta["seq"] <= cli.runtime.store.log_position().last_seq  # the new log reaches past it
    again = open_engine(app_cache_dir, db, default_catalog)
    assert again.runtime.state_files.problem is None
    assert_same_fold(fingerprint(again.runtime.state), fingerprint(fresh_fold(again)))


def test_a_running_process_counts_the_others_impressions_and_events_as_a_restart_would(
        app_cache_dir, default_catalog, tmp_path):
    db = tmp_path / "shared.db"
    app, cli = open_engine(app_cache_dir, db, default_catalog), open_engine(app_cache_dir, db, default_catalog)
    settled(app, ["love"], "app")
    settled(cli, ["love", "jazz", "love songs", "rock"], "cli")
    result = cli.searching.search("jazz", Context(), user_id="cli")
    cli.searching.feedback(result.search_id, result.items[0].id, "thumbs_down")
    app.searching.search("piano", Context(), user_id="app")  # catches up: the rows after its marks
    assert_memory_is_the_logs(app)
    cli.runtime.store.save_examination_curve([0.9, 0.6, 0.4, 0.3])  # every impression counts anew
    settled(cli, ["jazz", "sad songs"], "cli")
    app.searching.search("chill", Context(), user_id="app")  # re-read under the new curve, then folded
    assert app.runtime.store.curve == cli.runtime.store.curve
    assert_memory_is_the_logs(app)
    restarted = memory_of(open_engine(app_cache_dir, db, default_catalog))[0]
    running = memory_of(app)[0]
    assert running.keys() == restarted.keys()
    assert all(running[pair] == pytest.approx(counts) for pair, counts in restarted.items())


def test_a_process_counts_its_own_rows_unread_only_when_no_other_process_wrote_in_between(
        app_cache_dir, default_catalog, tmp_path):
    db = tmp_path / "shared.db"
    app, cli = open_engine(app_cache_dir, db, default_catalog), open_engine(app_cache_dir, db, default_catalog)
    loop = app.runtime.loop
    shown = [item.id for item in app.searching.search("rock", Context(), log=False).items[:3]]
    page = [ImpressionRow(entity_id, rank, 1.0, ("lexical",)) for rank, entity_id in enumerate(shown, 1)]

    def log_page() -> int:
        record = search_record("rock", user_id="app")
        return loop.log(record, page, np.asarray(record.features, dtype=float))

    settled(app, ["love"], "app")
    settled(cli, ["jazz"], "cli")  # rows between the app's marks and its next page
    first = log_page()
    settled(cli, ["sad songs"], "cli")  # events between the app's marks and its next events
    loop.respond(first, [(shown[0], "click"), (shown[1], "thumbs_down")], "human", "app")
    assert_memory_is_the_logs(app)  # the others' rows and its own, in log order, without another search
    second = log_page()  # nothing in between: counted as written
    loop.respond(second, [(shown[2], "click")], "human", "app")
    assert_memory_is_the_logs(app)
    restarted = memory_of(open_engine(app_cache_dir, db, default_catalog))[0]
    running = memory_of(app)[0]
    assert running.keys() == restarted.keys()
    assert all(running[pair] == pytest.approx(counts) for pair, counts in restarted.items())


def test_a_policy_chosen_by_another_process_is_followed_at_the_next_catch_up(app_cache_dir, default_catalog,
                                                                            tmp_path):
    db = tmp_path / "shared.db"
    app, cli = open_engine(app_cache_dir, db, default_catalog), open_engine(app_cache_dir, db, default_catalog)
    settled(app, ["love", "jazz", "rock"])
    chosen = PolicyConfig(name="egreedy", epsilon=0.2)
    cli.learning.set_policy(chosen)
    assert app.learning.policy == chosen and app.runtime.policy == PolicyConfig()  # chosen, not yet folded
    app.searching.search("piano", Context())
    assert app.runtime.policy == chosen
    assert_same_fold(fingerprint(app.runtime.state), fingerprint(fresh_fold(app)))
    meta = json.loads(cli.runtime.state_files.meta_path.read_text())
    assert meta["policy"]["name"] == "egreedy"  # a snapshot still names the policy it folded under


def test_a_database_from_before_the_stored_choice_keeps_its_snapshots_policy(app_cache_dir, default_catalog,
                                                                             tmp_path):
    db = tmp_path / "older.db"
    chosen = PolicyConfig(name="egreedy", epsilon=0.2)
    open_engine(app_cache_dir, db, default_catalog).learning.set_policy(chosen)  # saved with the snapshot
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM settings")  # as a database migrated from before the choice was stored
    again = open_engine(app_cache_dir, db, default_catalog)
    assert again.learning.policy == again.runtime.policy == chosen
    assert again.runtime.store.log_position().policy is not None


def test_a_catch_up_reads_the_reward_log_after_its_position_by_rowid(tmp_path):
    store = FeedbackStore(tmp_path / "f.db")
    arm_sets = [["a"], ["a", "b", "c"], ["b", "c"], ["c"], ["a", "b"]]
    ids = [store.log_search_bundle(search_record(chosen_arms=arms), []) for arms in arm_sets]
    for search_id in ids[1::2] + ids[0::2]:  # settled out of search order
        store.settle(search_id, {arm: 1.0 for arm in store.search(search_id).chosen_arms}, "thumbs_up")
    rounds = store.settled_rounds()
    assert [r.search_id for r in rounds] == ids[1::2] + ids[0::2]
    assert [list(r.rewards) for r in rounds] == [arm_sets[ids.index(r.search_id)] for r in rounds]
    for i, r in enumerate(rounds):  # after any round: exactly the rounds after it
        assert store.settled_rounds(after_seq=r.seq) == rounds[i + 1:]
    with sqlite3.connect(store.path) as conn:
        plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {SETTLED_ROUNDS}", [rounds[2].seq])]
    assert any("USING INTEGER PRIMARY KEY (rowid>?)" in step for step in plan), plan
    assert not any(step.startswith("SCAN") or "TEMP B-TREE" in step for step in plan), plan


RESETTER = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[3])
    from pathlib import Path
    from test_processes import open_engine, thumbs_up
    from ltrr_core.selection.context import Context
    engine = open_engine(Path(sys.argv[1]), Path(sys.argv[2]))
    engine.learning.reset_learning()
    for query in ("piano", "chill", "latin"):
        thumbs_up(engine, engine.searching.search(query, Context(), user_id="cli"), 1)
    engine.runtime.store.save_examination_curve([0.95, 0.5, 0.25])
    for query in ("jazz", "80s"):
        thumbs_up(engine, engine.searching.search(query, Context(), user_id="cli"), 0)
""")


@pytest.mark.slow
def test_a_reset_and_a_new_curve_by_another_process_are_rebuilt_at_the_next_search(app_cache_dir, default_catalog,
                                                                                 tmp_path):
    db = tmp_path / "shared.db"
    app = open_engine(app_cache_dir, db, default_catalog)
    settled(app, ["love", "jazz", "rock", "taylor", "workout"])
    app.searching.search("piano", Context())  # left open: the reset takes it
    done = subprocess.run([sys.executable, "-c", RESETTER, str(app_cache_dir), str(db), str(ROOT / "tests" / "feedback")],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = app.searching.search("sad songs", Context())
    assert app.searching.open_searches == [result.search_id]
    assert len(app.runtime.store.settled_rounds()) == 5
    assert_same_fold(fingerprint(app.runtime.state), fingerprint(fresh_fold(app)))
    assert app.runtime.store.curve(1) == pytest.approx(0.95)
    assert_memory_is_the_logs(app)

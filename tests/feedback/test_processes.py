"""One learning state for any number of processes on one database: every process's state is the fold
of a prefix of the reward log (its own rounds and the others'), and so is every snapshot; a snapshot
of another database, or state files that parse but are wrong, never stop an engine from starting.

Run as a script (``python test_processes.py worker ...``) this module is one of the processes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from ltrr_core.base.config import Settings
from ltrr_core.catalog.schema import Catalog
from ltrr_core.catalog.sources import load_catalog
from ltrr_core.engine import Engine
from ltrr_core.feedback.learning_state import LearningState
from ltrr_core.feedback.store.feedback_store import FeedbackStore
from ltrr_core.pipeline import Pipeline
from ltrr_core.ranking.ltr import LTRRanker
from ltrr_core.retrieval.resources import Resources
from ltrr_core.selection.bandit import PolicyConfig
from ltrr_core.selection.context import Context

ROOT = Path(__file__).resolve().parents[2]
STRATEGIES = ("lexical", "popular", "memory")  # no semantic model to load: a process starts in seconds
QUERIES = ["love", "jazz", "rock", "sad songs", "taylor", "chill", "piano", "80s", "workout", "latin", "podcast"]
WAIT_S = 400.0


def open_engine(cache: Path, db: Path, catalog: Catalog | None = None) -> Engine:
    settings = Settings(cache_dir=cache, db_path=db, retrieval_threads=1)
    return Engine(Pipeline(Resources(catalog or load_catalog("default"), settings), STRATEGIES), FeedbackStore(db))


def fingerprint(state: LearningState) -> dict:
    """What the fold of the log determines (not a process's own draws), as JSON values."""
    stats = state.bandit.stats
    return {"seq": state.seq, "pulls": stats.pulls, "reward": stats.reward, "shared": stats.shared,
            "alone": stats.alone, "arrays": {name: a.tolist() for name, a in state.bandit.arrays().items()},
            "history": sorted([c, s, state.history.hits[(c, s)], n] for (c, s), n in state.history.pulls.items())}


def fresh_fold(engine: Engine, through: int | None = None) -> LearningState:
    """The state folded from the engine's whole log in one go (or its rounds up to ``through``)."""
    state = LearningState.fresh(engine.runtime.strategy_names, engine.runtime.n_features, engine.runtime.policy)
    state.fold(r for r in engine.runtime.store.settled_rounds() if through is None or r.seq <= through)
    return state


def assert_same_fold(got: dict, expected: dict) -> None:
    """Two fingerprints of one fold: the counts exactly, the ridge arrays to rounding."""
    assert {k: v for k, v in got.items() if k != "arrays"} == {k: v for k, v in expected.items() if k != "arrays"}
    for name, values in expected["arrays"].items():
        np.testing.assert_allclose(got["arrays"][name], values, rtol=1e-9, atol=1e-12, err_msg=name)


def thumbs_up(engine: Engine, result, rank: int = 0) -> None:
    """A thumbs up on the result at ``rank`` (the last shown one if fewer), or "none of these" on an empty page."""
    if result.items:
        engine.searching.feedback(result.search_id, result.items[min(rank, len(result.items) - 1)].id, "thumbs_up")
    else:
        engine.searching.close(result.search_id)


def play(engine: Engine, me: int, searches: int, die_at: int | None, steps: list) -> None:
    """``searches`` searches of one session: a thumbs up, "none of these", or left open for the next
    search to close; the state (seq, pulls) after each; a snapshot halfway; SIGKILL at ``die_at``."""
    for i in range(searches):
        result = engine.searching.search(QUERIES[(i * (me + 1)) % len(QUERIES)], Context(), user_id=f"session-{me}")
        if i % 3 == 0:
            thumbs_up(engine, result, i % 2)
        elif i % 3 == 1:
            engine.searching.close(result.search_id)
        with engine.runtime.loop.lock:
            steps.append([engine.runtime.state.seq, dict(engine.runtime.state.bandit.stats.pulls)])
        if i == searches // 2:
            engine.learning.save_state()
        if i == die_at:
            os.kill(os.getpid(), signal.SIGKILL)


def worker(cache: str, db: str, me: str, searches: str, die_at: str, sync: str) -> None:
    """One process: start, wait for the others, play, wait until every process is done, catch up, report."""
    engine, folder, n = open_engine(Path(cache), Path(db)), Path(sync), int(me)
    (folder / f"ready-{n}").touch()
    _wait_for(lambda: (folder / "go").exists())
    steps: list = []
    play(engine, n, int(searches), int(die_at) if die_at != "-" else None, steps)
    (folder / f"done-{n}").touch()
    _wait_for(lambda: (folder / "all-done").exists())
    engine.searching.close_expired()  # what every logged search does first: folds the rounds settled elsewhere
    with engine.runtime.loop.lock:
        print(json.dumps({"steps": steps, "state": fingerprint(engine.runtime.state)}))


def _wait_for(condition) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the other processes never got there")
        time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.parametrize("processes, searches", [(2, 24), (6, 9)])
def test_processes_on_one_database_each_hold_a_prefix_of_the_log_and_a_restart_the_whole_of_it(
        processes, searches, app_cache_dir, default_catalog, tmp_path):
    db, sync = tmp_path / "shared.db", tmp_path / "sync"
    sync.mkdir()
    FeedbackStore(db).close()  # created once, before the processes open it
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    victim_dies_at = searches * 2 // 3
    outs = [(tmp_path / f"out-{me}.txt", tmp_path / f"err-{me}.txt") for me in range(processes)]
    procs = []
    for me, (out, err) in enumerate(outs):
        with out.open("w") as stdout, err.open("w") as stderr:
            procs.append(subprocess.Popen([sys.executable, __file__, "worker", str(app_cache_dir), str(db), str(me),
                                           str(searches), str(victim_dies_at) if me == 0 else "-", str(sync)],
                                          stdout=stdout, stderr=stderr, env=env, cwd=ROOT))
    try:
        _wait_for(lambda: all((sync / f"ready-{me}").exists() or p.poll() is not None for me, p in enumerate(procs)))
        (sync / "go").touch()
        _wait_for(lambda: all((sync / f"done-{me}").exists() or p.poll() is not None for me, p in enumerate(procs)))
        (sync / "all-done").touch()
        for p in procs:
            p.wait(timeout=WAIT_S)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert procs[0].returncode == -signal.SIGKILL, outs[0][1].read_text()[-3000:]
    reports = []
    for p, (out, err) in zip(procs[1:], outs[1:]):
        assert p.returncode == 0, err.read_text()[-3000:]
        reports.append(json.loads(out.read_text().strip().splitlines()[-1]))

    log = open_engine(app_cache_dir, db, default_catalog)  # the restarted process: snapshot + the rounds after it
    rounds = log.runtime.store.settled_rounds()
    # every survivor's searches but its last (left open), and the victim's up to its death
    assert len(rounds) == (processes - 1) * (searches - 1) + victim_dies_at + 1
    assert len({r.search_id for r in rounds}) == len(rounds)
    whole = fingerprint(fresh_fold(log))
    for report in reports:
        for seq, pulls in report["steps"]:  # while running: every round up to its seq, from every process
            assert pulls == fresh_fold(log, through=seq).bandit.stats.pulls
        assert_same_fold(report["state"], whole)
    meta = json.loads(log.runtime.state_files.meta_path.read_text())
    assert meta["database"] == log.runtime.store.database_id() and log.runtime.state_files.problem is None
    assert 0 < meta["seq"] <= rounds[-1].seq  # restored from a snapshot, then caught up
    assert_same_fold(fingerprint(log.runtime.state), whole)


def test_two_engines_in_one_process_learn_each_others_rounds_before_selecting(app_cache_dir, default_catalog, tmp_path):
    db = tmp_path / "shared.db"
    app, cli = open_engine(app_cache_dir, db, default_catalog), open_engine(app_cache_dir, db, default_catalog)
    for i, query in enumerate(QUERIES):
        engine = (app, cli)[i % 2]
        thumbs_up(engine, engine.searching.search(query, Context(), user_id=f"session-{i % 2}"))
        assert fingerprint(engine.runtime.state)["pulls"] == fresh_fold(engine).bandit.stats.pulls
    app.searching.search("love songs", Context(), user_id="session-0")  # catches up on cli's last round first
    assert_same_fold(fingerprint(app.runtime.state), fingerprint(fresh_fold(app)))


def test_a_reset_by_another_process_is_noticed_before_the_next_search(app_cache_dir, default_catalog, tmp_path):
    db = tmp_path / "shared.db"
    app, cli = open_engine(app_cache_dir, db, default_catalog), open_engine(app_cache_dir, db, default_catalog)
    for query in ("love", "jazz", "rock"):
        thumbs_up(app, app.searching.search(query, Context(), user_id="analyst"))
    app.searching.search("piano", Context(), user_id="analyst")  # left open
    cli.learning.reset_learning()
    result = app.searching.search("chill", Context(), user_id="analyst")  # its open window went with the reset
    assert app.searching.open_searches == [result.search_id] and app.runtime.state.bandit.stats.pulls == {}
    memories = [engine.runtime.pipeline.resources.memory for engine in (app, cli)]
    assert memories[0].explain("love") == memories[1].explain("love")


def _settled(engine: Engine, queries) -> None:
    for query in queries:
        thumbs_up(engine, engine.searching.search(query, Context()))


def test_a_snapshot_of_another_database_is_refused(app_cache_dir, default_catalog, tmp_path):
    one = open_engine(app_cache_dir, tmp_path / "one.db", default_catalog)
    _settled(one, ["love", "jazz"])
    one.learning.save_state()
    two = open_engine(app_cache_dir, tmp_path / "two.db", default_catalog)
    _settled(two, ["rock", "piano", "chill", "latin"])  # a longer log: the snapshot's seq is within it
    two.runtime.state_files.directory.mkdir(parents=True, exist_ok=True)
    for path in (one.runtime.state_files.meta_path, one.runtime.state_files.arrays_path):
        shutil.copy(path, two.runtime.state_files.directory / path.name)
    again = open_engine(app_cache_dir, tmp_path / "two.db", default_catalog)
    assert again.runtime.state_files.problem is None and again.runtime.state_files.meta_path.exists()
    assert_same_fold(fingerprint(again.runtime.state), fingerprint(fresh_fold(again)))


def test_a_snapshot_of_the_previous_format_is_refolded_and_its_policy_kept(app_cache_dir, default_catalog, tmp_path):
    engine = open_engine(app_cache_dir, tmp_path / "f.db", default_catalog)
    _settled(engine, ["love", "jazz", "rock"])
    engine.learning.set_policy(PolicyConfig(name="egreedy", epsilon=0.2))  # saved
    meta_path = engine.runtime.state_files.meta_path
    meta = json.loads(meta_path.read_text())
    del meta["database"]
    meta_path.write_text(json.dumps({**meta, "format": 3, "pulls": {}}))  # format 3 might miss other processes' rounds
    again = open_engine(app_cache_dir, tmp_path / "f.db", default_catalog)
    assert again.runtime.policy == PolicyConfig(name="egreedy", epsilon=0.2)
    assert again.runtime.state_files.problem is None
    assert_same_fold(fingerprint(again.runtime.state), fingerprint(fresh_fold(again)))
    assert sum(again.runtime.state.bandit.stats.pulls.values()) > 0


BAD_STATE = {
    "a list": lambda meta: [1, 2, 3],
    "null": lambda meta: None,
    "pulls a list": lambda meta: {**meta, "pulls": [1, 2]},
    "seq a string": lambda meta: {**meta, "seq": "12"},
    "no rng": lambda meta: {key: value for key, value in meta.items() if key != "rng"},
    "history rows short": lambda meta: {**meta, "history": [["x", "lexical"]]},
    "a bad rng": lambda meta: {**meta, "rng": {"bit_generator": "PCG64"}},
}


@pytest.mark.parametrize("bad", list(BAD_STATE))
def test_a_state_file_that_parses_but_is_wrong_is_set_aside_and_rebuilt(bad, app_cache_dir, default_catalog, tmp_path):
    engine = open_engine(app_cache_dir, tmp_path / "f.db", default_catalog)
    _settled(engine, ["love", "jazz", "rock"])
    engine.learning.save_state()
    meta_path = engine.runtime.state_files.meta_path
    meta_path.write_text(json.dumps(BAD_STATE[bad](json.loads(meta_path.read_text()))))
    again = open_engine(app_cache_dir, tmp_path / "f.db", default_catalog)
    assert "set aside as *.unreadable" in again.runtime.state_files.problem
    assert meta_path.with_name("state.json.unreadable").exists() and not meta_path.exists()
    assert_same_fold(fingerprint(again.runtime.state), fingerprint(fresh_fold(again)))


BAD_RANKER = {
    "a list": ("[]", "holds list"),
    "no params": (lambda r: {k: v for k, v in r.items() if k != "params"}, "'params'"),
    "a bad model string": (lambda r: {**r, "model": "tree\nversion=v4\n"}, "not a usable saved ranker"),
    "an unknown parameter": (lambda r: {**r, "params": {**r["params"], "leaves": 3}}, "leaves"),
    "other features": (lambda r: {**r, "feature_names": r["feature_names"][:-1]}, "feature_names"),
}


@pytest.fixture(scope="module")
def saved_ranker(tmp_path_factory) -> dict:
    from ltrr_core.ranking.features import FEATURE_NAMES
    from ltrr_core.ranking.ltr import LTRParams, TrainingGroup

    rng = np.random.default_rng(0)
    groups = [TrainingGroup(rng.random((12, len(FEATURE_NAMES))), rng.integers(0, 4, 12), f"q{g}") for g in range(8)]
    ranker = LTRRanker(LTRParams(num_boost_round=5, min_data_in_leaf=2))
    ranker.train(groups, seed=0)
    path = tmp_path_factory.mktemp("ranker") / "ranker.json"
    ranker.save(path)
    return json.loads(path.read_text())


@pytest.mark.parametrize("bad", list(BAD_RANKER))
def test_a_ranker_file_that_parses_but_is_wrong_is_set_aside(bad, saved_ranker, app_cache_dir, default_catalog,
                                                             tmp_path):
    change, says = BAD_RANKER[bad]
    engine = open_engine(app_cache_dir, tmp_path / "f.db", default_catalog)
    engine.runtime.ranker_path.parent.mkdir(parents=True, exist_ok=True)
    engine.runtime.ranker_path.write_text(change if isinstance(change, str) else json.dumps(change(saved_ranker)))
    with pytest.raises(ValueError, match="ranker.json") as error:
        LTRRanker.load(engine.runtime.ranker_path)
    assert says in str(error.value)
    again = open_engine(app_cache_dir, tmp_path / "f.db", default_catalog)
    assert again.runtime.rankers.current.name == "interleave" and not engine.runtime.ranker_path.exists()
    assert list(engine.runtime.ranker_path.parent.glob("ranker*.unreadable"))


if __name__ == "__main__" and sys.argv[1:2] == ["worker"]:
    worker(*sys.argv[2:])

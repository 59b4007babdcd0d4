"""Unique runs: two simulations with one policy and seed each get their own database (claimed
atomically, with a suffix), keep their own log, and report where it is."""

from __future__ import annotations

import threading

import pytest

from ltrr_core.base.cache import slug
from ltrr_core.base.config import Settings
from ltrr_core.engine import Engine
from ltrr_core.feedback.store.feedback_store import FeedbackStore
from ltrr_core.services.simulation_runs import SimulationConfig, SimulationRun


@pytest.fixture()
def engine(default_catalog, app_cache_dir, tmp_path):
    return Engine.open("default", Settings(cache_dir=app_cache_dir, db_path=tmp_path / "live.db"),
                       catalog=default_catalog)


def searches(path: str) -> int:
    with FeedbackStore(path) as store:
        return store.counts()["searches"]


@pytest.mark.slow
def test_two_runs_of_one_policy_and_seed_keep_their_own_database_and_log(engine):
    first = SimulationRun(engine, SimulationConfig(rounds=20, seed=5, policy="random"))
    second = SimulationRun(engine, SimulationConfig(rounds=10, seed=5, policy="random"))  # starts before the first ends
    first.run()
    second.run()
    a, b = first.summary(), second.summary()
    folder, name = engine.runtime.settings.db_path.parent / "simulations", slug("random-seed5")
    assert a.database == str(folder / f"{name}.db") and b.database == str(folder / f"{name}-2.db")
    assert (a.rounds, searches(a.database)) == (20, 20)
    assert (b.rounds, searches(b.database)) == (10, 10)


def test_sandboxes_claimed_at_once_under_one_name_never_share_a_database(engine):
    paths, start = [], threading.Barrier(6)

    def claim() -> None:
        start.wait()
        paths.append(engine.sandbox("race").runtime.settings.db_path)

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(paths)) == 6
    name = slug("race")
    assert {p.name for p in paths} == {f"{name}.db", *(f"{name}-{n}.db" for n in range(2, 7))}

"""Sweeps: seeds parsed, intervals right, and every run in the process pool equal to the sequential run."""

from __future__ import annotations

import json

import pytest

from ltrr_core.base.config import Settings
from ltrr_core.engine import Engine
from ltrr_core.services.simulation_runs import SimulationConfig, SimulationRun
from ltrr_core.simulation.sweep_reports import Interval, SweepFigures, SweepReport, load_report, save_report
from ltrr_core.services import sweep_runs
from ltrr_core.services.sweep_runs import SweepConfig, SweepError, parse_seeds
from ltrr_core.services.sweeps import mean_interval, run_sweep

ROUNDS = 25


def test_seeds_parse_ranges_and_lists():
    assert parse_seeds("1-4") == (1, 2, 3, 4)
    assert parse_seeds("1-3,7, 2") == (1, 2, 3, 7)
    for bad in ("", "3-1", "a", "1-"):
        with pytest.raises(ValueError, match="seeds"):
            parse_seeds(bad)
    with pytest.raises(ValueError, match="policy"):
        SweepConfig(("linucb", "nosuch"), (1,), 10)


def test_mean_interval_is_the_student_t_interval():
    got = mean_interval([1.0, 2.0, 3.0, 4.0])
    assert got.mean == 2.5
    assert got.high - got.mean == pytest.approx(3.182446 * 1.290994 / 2, rel=1e-5)  # t(0.975, 3) x sd / sqrt(n)
    assert mean_interval([5.0]) == Interval(5.0, 5.0, 5.0)


def sequential(settings: Settings, catalog, policy: str, seed: int, tmp_path) -> SweepFigures:
    """What ``ltrr simulate --policy P --seed S`` computes, in this process."""
    engine = Engine.open("default", settings.with_(db_path=tmp_path / f"seq-{policy}-{seed}.db"), catalog=catalog)
    engine.searching.warm_up()
    summary = SimulationRun(engine, SimulationConfig(rounds=ROUNDS, seed=seed, policy=policy)).run().summary()
    return SweepFigures(summary.cumulative_regret, summary.hit_rate, summary.candidates_per_search)


@pytest.fixture(scope="module")
def local_sweep(app_cache_dir, tmp_path_factory):
    settings = Settings(cache_dir=app_cache_dir, db_path=tmp_path_factory.mktemp("sweep") / "feedback.db")
    config = SweepConfig(("linucb", "random"), (1, 2), ROUNDS)
    return settings, config, run_sweep(config, settings, backend="local", workers=2)


@pytest.mark.slow
def test_each_seed_in_the_process_pool_equals_the_sequential_run(local_sweep, default_catalog, tmp_path):
    settings, config, sweep = local_sweep
    assert sweep.backend == "local" and set(sweep.policies) == {"linucb", "random"}
    for policy, seed in [("linucb", 2), ("random", 1)]:
        assert sweep.policies[policy].seeds[seed] == sequential(settings, default_catalog, policy, seed, tmp_path)


@pytest.mark.slow
def test_a_killed_worker_process_reruns_its_run_with_the_same_result(local_sweep, kill_process, tmp_path):
    settings, _, sweep = local_sweep
    killed = kill_process("spawn_main(", after_s=0.5)  # the pool breaks; the unfinished run reruns in a fresh one
    again = run_sweep(SweepConfig(("random",), (1,), ROUNDS), settings.with_(db_path=tmp_path / "f.db"), workers=1)
    assert killed, "no sweep worker process was killed"
    assert again.policies["random"].seeds[1] == sweep.policies["random"].seeds[1]


def test_a_worker_process_killed_past_the_retries_is_reported_by_run(app_cache_dir, kill_process, tmp_path,
                                                                       monkeypatch):
    monkeypatch.setattr(sweep_runs, "RETRIES", 0)
    kill_process("spawn_main(", after_s=0.5)
    with pytest.raises(SweepError, match="died in each of 1 attempt.*unfinished runs: random seed 1, random seed 2"):
        run_sweep(SweepConfig(("random",), (1, 2), ROUNDS), Settings(cache_dir=app_cache_dir, db_path=tmp_path / "f.db"),
                  workers=2)


def test_the_report_summarizes_seeds_and_round_trips_through_json(local_sweep, tmp_path):
    _, config, sweep = local_sweep
    assert (sweep.seeds, sweep.rounds, sweep.source) == (config.seeds, config.rounds, config.source)
    for policy, figures in sweep.policies.items():
        regrets = [seed.cumulative_regret for seed in figures.seeds.values()]
        assert figures.cumulative_regret == mean_interval(regrets)
        assert figures.hit_rate.low <= figures.hit_rate.mean <= figures.hit_rate.high
        curve = sweep.curves[policy]
        assert curve.round[-1] == ROUNDS and curve.mean[-1] == pytest.approx(sum(regrets) / len(regrets))
    path = save_report(sweep, tmp_path / "s.json")
    assert load_report(path) == sweep
    saved = json.loads(path.read_text())  # the file's layout, which earlier sweeps' files share
    assert saved["config"] == {"policies": ["linucb", "random"], "seeds": [1, 2], "rounds": ROUNDS, "source": "default"}
    assert saved["policies"]["linucb"]["seeds"]["1"] == vars(sweep.policies["linucb"].seeds[1])
    assert saved["policies"]["linucb"]["hit_rate"] == vars(sweep.policies["linucb"].hit_rate)
    assert saved["curves"]["random"]["mean"] == list(sweep.curves["random"].mean)
    assert SweepReport.from_json(saved) == sweep
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a sweep report"):
        load_report(tmp_path / "bad.json")


def test_the_engine_lists_and_loads_saved_sweeps(local_sweep, default_catalog, tmp_path):
    settings, config, sweep = local_sweep
    engine = Engine.open("default", settings.with_(db_path=tmp_path / "live.db"), catalog=default_catalog)
    assert engine.learning.saved_sweeps() == []
    save_report(sweep, tmp_path / "sweeps" / f"{config.name}.json")
    assert engine.learning.saved_sweeps() == [config.name]
    assert engine.learning.load_sweep(config.name).curves.keys() == {"linucb", "random"}
    with pytest.raises(KeyError, match="ltrr sweep"):
        engine.learning.load_sweep("nosuch")


def test_bad_sweep_input_is_one_line_naming_it(tmp_path, capsys):
    from ltrr_core.cli import main

    base = ["sweep", "--db", str(tmp_path / "f.db"), "--rounds", "5"]
    assert main([*base, "--seeds", "3-1"]) == 2
    assert "seeds: '3-1'" in capsys.readouterr().err
    assert main([*base, "--policies", "linucb,bogus"]) == 2
    assert "bogus" in capsys.readouterr().err
    assert main([*base, "--backend", "ray", "--ray-address", "127.0.0.1:1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and ("127.0.0.1:1 is unreachable" in err or ".[ray]" in err)

"""Sweeps on Ray (remote tasks) give the process pool's per-seed results, even when a worker is killed mid-run."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.ray
ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[ray]')")

from ltrr_core.base.config import Settings  # noqa: E402
from ltrr_core.services import sweep_runs  # noqa: E402
from ltrr_core.services.sweep_runs import SweepConfig, SweepError, run_seed  # noqa: E402
from ltrr_core.services.sweeps import run_sweep  # noqa: E402


def test_ray_sweep_runs_equal_the_sequential_runs_with_a_worker_killed_mid_run(ray_cluster, app_cache_dir, tmp_path,
                                                                                 kill_process):
    settings = Settings(cache_dir=app_cache_dir, db_path=tmp_path / "feedback.db")
    config = SweepConfig(("lints",), (3, 4), 20)
    killed = kill_process("ray::run_seed", after_s=0.5)  # Ray retries the task in a fresh worker
    sweep = run_sweep(config, settings, backend="ray", workers=2)
    assert killed, "no sweep worker was killed"
    assert sweep.backend == "ray"
    for seed in (3, 4):
        alone = run_seed("default", settings.with_(db_path=tmp_path / "alone" / "base.db"), "lints", seed, 20)
        assert sweep.policies["lints"].seeds[seed] == alone.figures


def test_a_run_whose_worker_dies_past_its_retries_is_reported_by_seed(ray_cluster, app_cache_dir, tmp_path,
                                                                      kill_process, monkeypatch):
    monkeypatch.setattr(sweep_runs, "RETRIES", 0)
    kill_process("ray::run_seed", after_s=0.5)
    with pytest.raises(SweepError, match="lints seed 5 failed on Ray after 0 retries: .*WorkerCrashedError"):
        run_sweep(SweepConfig(("lints",), (5,), 20), Settings(cache_dir=app_cache_dir, db_path=tmp_path / "f.db"),
                  backend="ray", workers=1)

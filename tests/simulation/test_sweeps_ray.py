"""Sweeps on Ray (remote tasks) give the process pool's per-seed results."""

from __future__ import annotations

import pytest

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[ray]')")

from ltrr_core.config import Settings  # noqa: E402
from ltrr_core.simulation.sweep_runs import SweepConfig, run_seed  # noqa: E402
from ltrr_core.simulation.sweeps import run_sweep  # noqa: E402


def test_ray_sweep_runs_equal_the_sequential_runs(ray_cluster, app_cache_dir, tmp_path):
    settings = Settings(cache_dir=app_cache_dir, db_path=tmp_path / "feedback.db")
    config = SweepConfig(("lints",), (3, 4), 20)
    sweep = run_sweep(config, settings, backend="ray", workers=2)
    assert sweep["backend"] == "ray"
    for seed in (3, 4):
        alone = run_seed("default", settings.with_(db_path=tmp_path / "alone" / "base.db"), "lints", seed, 20)
        assert sweep["policies"]["lints"]["seeds"][str(seed)] == alone["figures"]

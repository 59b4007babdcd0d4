"""Shared fixtures: paths to ../shared datasets and session-wide catalogs."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"
SPOTIFY = SHARED / "spotify_songs" / "spotify_songs.csv.gz"
SCIFACT = SHARED / "scifact"


def need_shared(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} not present (../shared datasets)")
    return path


@pytest.fixture(scope="session")
def default_catalog():
    from ltrr_core.catalog.sources import load_catalog

    return load_catalog("default")


@pytest.fixture(scope="session")
def spotify_path() -> Path:
    return need_shared(SPOTIFY)


@pytest.fixture(scope="session")
def scifact_dir() -> Path:
    return need_shared(SCIFACT)


@pytest.fixture(scope="session")
def app_cache_dir(tmp_path_factory) -> Path:
    """One cache dir for the app tests (AppTest and browser), warmed once: the default catalog is
    embedded once per test session. ``LTRR_TEST_CACHE_DIR`` reuses a persistent dir across sessions."""
    import os

    from ltrr_core.config import Settings
    from ltrr_core.engine import Engine

    cache = Path(os.environ.get("LTRR_TEST_CACHE_DIR") or tmp_path_factory.mktemp("app_cache"))
    settings = Settings(cache_dir=cache, db_path=tmp_path_factory.mktemp("warm_db") / "warm.db")
    Engine.open("default", settings).warm_up()
    return cache


@pytest.fixture(scope="module")
def ray_cluster():
    """A local two-CPU Ray cluster for one test module of the ray extra (skipped without it)."""
    ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[ray]')")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()

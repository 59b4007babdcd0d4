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
    from ltrr_core.catalog import load_catalog

    return load_catalog("default")


@pytest.fixture(scope="session")
def spotify_path() -> Path:
    return need_shared(SPOTIFY)


@pytest.fixture(scope="session")
def scifact_dir() -> Path:
    return need_shared(SCIFACT)

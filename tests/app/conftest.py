"""What the page tests share: each test module's own app database over the one warm cache."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def db_path(app_cache_dir, tmp_path_factory):
    """This module's own database (``LTRR_DB_PATH``) over the shared warm cache (``LTRR_CACHE_DIR``), as
    the app reads them through ``Settings.from_env``; an ``LTRR_SOURCE`` of the shell is left out."""
    db = tmp_path_factory.mktemp("app_db") / "feedback.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LTRR_CACHE_DIR", str(app_cache_dir))
        mp.setenv("LTRR_DB_PATH", str(db))
        mp.delenv("LTRR_SOURCE", raising=False)
        yield db

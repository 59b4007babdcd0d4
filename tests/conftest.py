"""Shared fixtures: paths to ../shared datasets and session-wide catalogs; per-test time limits."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"
SPOTIFY = SHARED / "spotify_songs" / "spotify_songs.csv.gz"
SCIFACT = SHARED / "scifact"

# Per-test time limits (pytest-timeout): `timeout` in pyproject.toml for most tests; the kinds that
# `make test-fast` leaves out get LONG_TIMEOUT_S, unless a test sets its own @pytest.mark.timeout.
# Idle 2-core figures: most tests take under a second, the slowest (SciFact's first run) 3-4 min.
LONG_TIMEOUT_S = 900
LONG_MARKERS = ("slow", "browser", "ray")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("timeout") is None and any(item.get_closest_marker(m) for m in LONG_MARKERS):
            item.add_marker(pytest.mark.timeout(LONG_TIMEOUT_S))


@contextlib.contextmanager
def _time_limit_paused():
    """Stop the running test's limit (pytest-timeout's SIGALRM timer) for a once-per-session cost and
    resume it after with the time it had left. A timeout inside a session fixture would fail every
    test that uses it, and the warm-up takes 1-2 min on an idle 2-core machine, far more on a busy one."""
    on_main = threading.current_thread() is threading.main_thread()  # where pytest-timeout arms SIGALRM
    left = signal.setitimer(signal.ITIMER_REAL, 0)[0] if on_main else 0
    try:
        yield
    finally:
        if left:
            signal.setitimer(signal.ITIMER_REAL, left)


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
    from ltrr_core.base.config import Settings
    from ltrr_core.engine import Engine

    cache = Path(os.environ.get("LTRR_TEST_CACHE_DIR") or tmp_path_factory.mktemp("app_cache"))
    settings = Settings(cache_dir=cache, db_path=tmp_path_factory.mktemp("warm_db") / "warm.db")
    with _time_limit_paused():  # embedding the catalog once is not the first app test's own time
        Engine.open("default", settings).searching.warm_up()
    return cache


@pytest.fixture(scope="module")
def ray_cluster():
    """A local two-CPU Ray cluster for one test module of the ray extra (skipped without it)."""
    ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[ray]')")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def _descendants_matching(text: str) -> list[int]:
    """Pids of this process's descendants whose command line (or Ray process title) contains ``text``."""
    me, found = os.getpid(), []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if text not in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                continue
            pid = int(entry.name)
            while pid not in (me, 0, 1):
                pid = int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):  # gone meanwhile
            continue
        if pid == me:
            found.append(int(entry.name))
    return found


@pytest.fixture
def kill_process():
    """``kill_process(text, after_s)`` starts a thread that SIGKILLs the first of this test's descendant
    processes whose command line contains ``text`` once seen alive ``after_s`` seconds; it returns
    the list that gets the killed pid. Only this pytest process's descendants are ever touched."""
    stop, threads = threading.Event(), []

    def start(text: str, after_s: float = 0.0) -> list[int]:
        killed: list[int] = []

        def hunt() -> None:
            seen: dict[int, float] = {}
            while not killed and not stop.wait(0.05):
                for pid in _descendants_matching(text):
                    if time.monotonic() - seen.setdefault(pid, time.monotonic()) >= after_s:
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:  # ended on its own meanwhile
                            continue
                        killed.append(pid)
                        break

        threads.append(threading.Thread(target=hunt, daemon=True))
        threads[-1].start()
        return killed

    yield start
    stop.set()
    for thread in threads:
        thread.join()

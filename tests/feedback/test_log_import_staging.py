"""Log imports in short write transactions: other writers wait a chunk at most, staged rows stay
invisible until the import commits, and a failed or killed import leaves nothing behind."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlite_utils

from ltrr_core.base.records import ImpressionRow, SearchRecord
from ltrr_core.feedback.log_import import LOG_COLUMNS, PROGRESS_EVERY, LogFileError, import_log
from ltrr_core.feedback.store import core as store_core
from ltrr_core.feedback.store.feedback_store import FeedbackStore, StoreError
from ltrr_core.feedback.store.imported_logs import IMPORT_CHUNK

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
MAX_WAIT_S = 1.0


def write_log_file(path: Path, ids: list[str], rows: int, bad_line: int | None = None) -> Path:
    """A CSV log of ``rows`` events (pages of 10 impressions and a click); ``bad_line`` (1-based,
    the header is line 1) gets an impression without a position."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(LOG_COLUMNS)
        for n in range(rows):
            page, slot = divmod(n, 11)
            who = [1767225600 + page, f"s{page % 500}", f"query {page % 300}"]
            if n + 2 == bad_line:
                out.writerow([*who, ids[(page * 7 + slot) % len(ids)], "impression", "", "", ""])
            elif slot < 10:
                out.writerow([*who, ids[(page * 7 + slot) % len(ids)], "impression", slot + 1, "0.5", "prod"])
            else:
                out.writerow([*who, ids[page * 7 % len(ids)], "click", "", "", ""])
    return path


def raw_counts(path: Path) -> tuple[int, int, int]:
    """(staged or committed event rows, committed event rows, import rows), read in one snapshot."""
    with sqlite3.connect(path) as conn:
        conn.execute("BEGIN")
        raw = conn.execute("SELECT COUNT(*) FROM log_events").fetchone()[0]
        visible = conn.execute("SELECT COUNT(*) FROM committed_log_events").fetchone()[0]
        imports = conn.execute("SELECT COUNT(*) FROM log_imports").fetchone()[0]
        conn.execute("COMMIT")
    return raw, visible, imports


def visible(store: FeedbackStore, pages: bool = True) -> tuple[int, int, int]:
    """What the store's readers show of imported logs: events, imports, pages (-1 unread: reading
    200k rows into pages would hold this process's GIL against the writers being timed)."""
    return (sum(store.log_event_counts().values()), len(store.log_imports()),
            len(store.logged_pages()) if pages else -1)


@pytest.fixture(scope="module")
def ids(default_catalog) -> list[str]:
    return [e.id for e in default_catalog][:200]


OTHER_PROCESS_WRITER = """
import json, sys, time
from pathlib import Path
from ltrr_core.base.records import ImpressionRow, SearchRecord
from ltrr_core.feedback.store.feedback_store import FeedbackStore

store, stop = FeedbackStore(sys.argv[1]), Path(sys.argv[2])
record = SearchRecord(query="jazz", normalized_query="jazz", user_id="other", features=[1.0], policy="linucb",
                      arms_scored=[], chosen_arms=["bm25@50"], propensity=1.0, ranker="fusion")
print("ready", flush=True)
waits = []
while not stop.exists():
    started = time.perf_counter()
    store.log_search_bundle(record, [ImpressionRow("e1", 1, 1.0)])
    waits.append(time.perf_counter() - started)
    time.sleep(0.02)
print(json.dumps({"writes": len(waits), "max_wait_s": max(waits)}), flush=True)
"""


def test_writers_wait_under_a_second_while_200k_rows_import_and_see_nothing_until_commit(
        tmp_path: Path, default_catalog, ids: list[str]) -> None:
    rows = 200_000
    log = write_log_file(tmp_path / "big.csv", ids, rows)
    path, stop = tmp_path / "feedback.db", tmp_path / "stop"
    store = FeedbackStore(path)
    other = subprocess.Popen([sys.executable, "-c", OTHER_PROCESS_WRITER, str(path), str(stop)],
                             stdout=subprocess.PIPE, text=True, cwd=ROOT, env=ENV)
    assert other.stdout.readline().strip() == "ready"
    done = threading.Event()
    label_waits: list[float] = []
    snapshots: list[tuple[int, int, int]] = []
    seen: list[tuple[int, int, int]] = []
    errors: list[BaseException] = []

    def label_writer() -> None:  # another session of this process: same store, same in-process write lock
        try:
            n = 0
            while not done.is_set():
                started = time.perf_counter()
                store.set_label(f"query {n}", ids[n % len(ids)], 2, "ana")
                label_waits.append(time.perf_counter() - started)
                n += 1
                time.sleep(0.02)
        except BaseException as exc:
            errors.append(exc)

    def reader() -> None:
        try:
            while not done.is_set():
                snapshots.append(raw_counts(path))
                seen.append(visible(store, pages=False))
                time.sleep(0.05)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=label_writer), threading.Thread(target=reader)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    try:
        with log.open("rb") as fh:
            report = import_log(store, default_catalog, str(log), fh, size=log.stat().st_size)
    finally:
        import_s = time.perf_counter() - started
        done.set()
        stop.touch()
        for thread in threads:
            thread.join()
        out, _ = other.communicate(timeout=60)
    assert errors == [] and other.returncode == 0
    other_writes = json.loads(out.strip().splitlines()[-1])
    print(f"\n200k-row import: {import_s:.1f} s; longest write wait: other process (log_search_bundle) "
          f"{other_writes['max_wait_s'] * 1000:.0f} ms over {other_writes['writes']} writes, this process "
          f"(set_label) {max(label_waits) * 1000:.0f} ms over {len(label_waits)} writes")
    assert report.events == rows
    assert other_writes["max_wait_s"] < MAX_WAIT_S and max(label_waits) < MAX_WAIT_S
    assert other_writes["writes"] >= 10 and len(label_waits) >= 10  # they wrote all along the import
    assert all(v in (0, rows) for _, v, _ in snapshots), "a reader saw part of an import"
    assert any(0 < raw < rows and v == 0 for raw, v, _ in snapshots), "no staged rows were ever observed"
    for events, imports, _ in seen:  # two reads, each of a whole import or of none
        assert events in (0, rows) and imports in (0, 1), "a reader saw part of an import"
    assert raw_counts(path) == (rows, rows, 1) and visible(store) == (rows, 1, report.pages)
    store.close()


def test_an_import_failing_after_staged_chunks_leaves_nothing_and_keeps_earlier_imports(
        tmp_path: Path, default_catalog, ids: list[str]) -> None:
    store = FeedbackStore(tmp_path / "feedback.db")
    good = write_log_file(tmp_path / "good.csv", ids, 1000)
    with good.open("rb") as fh:
        import_log(store, default_catalog, "good.csv", fh)
    before = visible(store)
    bad_line = PROGRESS_EVERY + IMPORT_CHUNK + 2  # the first progress report comes after chunks were staged
    bad = write_log_file(tmp_path / "bad.csv", ids, bad_line + 100, bad_line=bad_line)
    staged_when_read: list[int] = []

    def progress(_message: str, _fraction: float) -> None:
        staged_when_read.append(raw_counts(store.path)[0])

    with bad.open("rb") as fh, pytest.raises(LogFileError, match=rf"^bad\.csv: line {bad_line}: field 'position'"):
        import_log(store, default_catalog, "bad.csv", fh, progress=progress)
    assert staged_when_read and staged_when_read[0] >= 1000 + PROGRESS_EVERY - IMPORT_CHUNK  # staged, then removed
    assert raw_counts(store.path) == (1000, 1000, 1)
    assert visible(store) == before


KILLED_IMPORT = """
import sys, time
from ltrr_core.catalog.sources import load_catalog
from ltrr_core.feedback.log_import import import_log
from ltrr_core.feedback.store.feedback_store import FeedbackStore

def progress(message, fraction):  # first called once 20,000 rows are read
    print("staged", flush=True)
    time.sleep(600)  # killed here, mid-import

with open(sys.argv[2], "rb") as fh:
    import_log(FeedbackStore(sys.argv[1]), load_catalog("default"), sys.argv[2], fh, progress=progress)
"""


@pytest.mark.parametrize("cleaner", ["open", "import"])
def test_a_killed_import_is_never_seen_and_the_next_open_or_import_removes_it(
        tmp_path: Path, default_catalog, ids: list[str], cleaner: str) -> None:
    path = tmp_path / "feedback.db"
    log = write_log_file(tmp_path / "log.csv", ids, 50_000)
    store = FeedbackStore(path)  # opened before the import: its open cleaned nothing
    child = subprocess.Popen([sys.executable, "-c", KILLED_IMPORT, str(path), str(log)],
                             stdout=subprocess.PIPE, text=True, cwd=ROOT, env=ENV)
    try:
        assert child.stdout.readline().strip() == "staged"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    raw, shown, imports = raw_counts(path)
    assert raw >= PROGRESS_EVERY - IMPORT_CHUNK and shown == 0 and imports == 1  # staged and left behind
    assert visible(store) == (0, 0, 0)
    if cleaner == "open":
        FeedbackStore(path).close()
        assert raw_counts(path) == (0, 0, 0)
    else:
        small = write_log_file(tmp_path / "small.csv", ids, 22)
        with small.open("rb") as fh:
            report = import_log(store, default_catalog, "small.csv", fh)
        assert raw_counts(path) == (22, 22, 1)
        assert [p.page for p in store.logged_pages()] == [1, 2]  # page numbers as if nothing had been staged
        assert report.pages == 2
    assert store.integrity_check() == "ok"


def test_a_second_import_while_one_runs_is_refused(tmp_path: Path, default_catalog, ids: list[str]) -> None:
    store = FeedbackStore(tmp_path / "feedback.db")
    first = write_log_file(tmp_path / "first.csv", ids, PROGRESS_EVERY + IMPORT_CHUNK)
    second = write_log_file(tmp_path / "second.csv", ids, 10)
    refusals: list[str] = []

    def progress(_message: str, _fraction: float) -> None:
        if not refusals:
            with second.open("rb") as fh, pytest.raises(StoreError) as raised:
                import_log(store, default_catalog, "second.csv", fh)
            refusals.append(str(raw_counts(store.path)) + str(raised.value))

    with first.open("rb") as fh:
        import_log(store, default_catalog, "first.csv", fh, progress=progress)
    assert len(refusals) == 1 and "another log import is under way" in refusals[0] and "first.csv" in refusals[0]
    assert store.log_imports()["file"].tolist() == ["first.csv"]


def test_a_reset_during_an_import_fails_it_cleanly(tmp_path: Path, default_catalog, ids: list[str]) -> None:
    store = FeedbackStore(tmp_path / "feedback.db")
    log = write_log_file(tmp_path / "log.csv", ids, PROGRESS_EVERY + 2 * IMPORT_CHUNK)

    def progress(message: str, _fraction: float) -> None:
        if message == f"{PROGRESS_EVERY:,} rows read":
            store.reset_learning()

    with log.open("rb") as fh, pytest.raises(StoreError, match="was removed while it ran"):
        import_log(store, default_catalog, "log.csv", fh, progress=progress)
    assert raw_counts(store.path) == (0, 0, 0)


def test_imports_stored_before_staging_stay_visible(tmp_path: Path) -> None:
    """A database whose imports were written in one transaction (schema 6) keeps them, committed."""
    path = tmp_path / "feedback.db"
    staged = store_core.MIGRATIONS.index(store_core._migration_staged_imports)
    with sqlite3.connect(path) as conn:
        old = sqlite_utils.Database(conn)
        for migration in store_core.MIGRATIONS[:staged]:
            migration(old)
        conn.execute(f"PRAGMA user_version = {staged}")
        conn.execute("INSERT INTO log_imports (id, created_at, file, format, events, skipped) VALUES (1, 0, 'old.csv', "
                     "'csv', 1, 0)")
        conn.execute("INSERT INTO log_events (import_id, line, created_at, session, query, normalized_query, "
                     "entity_id, event, position, page) VALUES (1, 2, 0, 's', 'q', 'q', 'e1', 'impression', 1, 1)")
    with FeedbackStore(path) as store:
        assert store.schema_version == len(store_core.MIGRATIONS)
        assert store.log_event_counts() == {"impression": 1}
        assert store.log_imports()["file"].tolist() == ["old.csv"]
        record = SearchRecord(query="q", normalized_query="q", user_id="u", features=[1.0], policy="linucb",
                              arms_scored=[], chosen_arms=["bm25@50"], propensity=1.0, ranker="fusion")
        search_id = store.log_search_bundle(record, [ImpressionRow("e1", 1, 1.0)])
        assert [row[0] for row in store.position_impressions()] == ["log:1", f"search:{search_id}"]

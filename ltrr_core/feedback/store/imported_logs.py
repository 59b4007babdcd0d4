"""Imported interaction logs: their events (staged in short transactions, visible once committed), the
result pages they group into, and the bandit rounds replayed from those pages.

An import never holds the write lock for long: its rows, parsed and validated by the caller outside
any lock, are written in chunks of :data:`IMPORT_CHUNK`, each its own short transaction, under one
``log_imports`` row whose status stays ``staging`` until a last short transaction marks it
``committed``. Readers see committed imports only (the ``committed_log_events`` view), so an import
is still all or nothing: a failure removes what it staged (in short transactions too), and the
rows of a process killed mid-import are removed by the next import or the next open of the store.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd
import sqlite_utils

from ltrr_core.base.records import REPLAYED, LoggedPage, SettledRound, to_json
from ltrr_core.feedback.store.core import (LOG_GENERATION, STATS_GENERATION, StoreCore, StoreError, bump, frame,
                                           insert_sql)
from ltrr_core.selection.bandit import arm_depths

IMPORT_CHUNK = 2000  # imported rows per write transaction (tens of milliseconds of lock)
ABANDONED_AFTER_S = 600.0  # a staging import silent this long is abandoned, whatever its process
_INSERT_LOG_EVENT = insert_sql("log_events", (
    "import_id", "line", "created_at", "session", "query", "normalized_query", "entity_id", "event", "position",
    "propensity", "policy", "page"))
# A staging import's events follow ``first_event`` (imports run one at a time): a range of ids.
_STAGED_CHUNK = ("SELECT e.id FROM log_imports i JOIN log_events e ON e.id >= i.first_event AND e.import_id = i.id "
                 "WHERE i.id = ? AND i.status = 'staging' ORDER BY e.id LIMIT ?")

# Imports this process is running, by (database file, import id): this process's other staging
# imports were left behind by a failed clean-up and are abandoned.
_RUNNING: set[tuple[Path, int]] = set()
_RUNNING_LOCK = threading.Lock()


def _process_alive(pid: int) -> bool:
    """Whether process ``pid`` of this machine runs (SQLite's WAL mode requires one machine)."""
    if sys.platform == "win32":  # os.kill would end it: rely on the heartbeat there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


class ImportedLogRepository(StoreCore):
    """Imported log events (staged, then committed), result pages, and the rounds replayed from them."""

    # ----------------------------------------------------------------- importing
    def import_log_events(self, file: str, fmt: str, rows: Callable[[int], Iterable[tuple]],
                          skipped: Callable[[], int]) -> tuple[int, int]:
        """Store one log file's events, all or none, in short transactions; returns (import id, events).

        ``rows(first_page)`` yields ``(line, created_at, session, query, normalized_query, entity_id,
        event, position, propensity, policy, page)`` with pages numbered from ``first_page``; it is
        consumed in chunks outside the write lock (a large file never sits in memory), and an
        exception it raises stores nothing. ``skipped()`` is read once the rows are consumed. One
        import runs at a time per database (page numbers follow each other); another one raises
        :class:`StoreError`."""
        self._drop_abandoned_imports()
        with _RUNNING_LOCK:  # registered as running before another thread can find it staging
            import_id, first_page = self._begin_import(file, fmt)
            key = (self.path.resolve(), import_id)
            _RUNNING.add(key)
        try:
            events, stream = 0, iter(rows(first_page))
            while chunk := list(itertools.islice(stream, IMPORT_CHUNK)):  # parsed before the lock is taken
                with self._write() as db:
                    self._touch_import(db, import_id)
                    db.conn.executemany(_INSERT_LOG_EVENT, [(import_id, *row) for row in chunk])
                events += len(chunk)
            with self._write() as db:
                self._touch_import(db, import_id)
                db.conn.execute("UPDATE log_imports SET status = 'committed', events = ?, skipped = ? WHERE id = ?",
                                (events, skipped(), import_id))
                bump(db, STATS_GENERATION)  # the memory's aggregate now counts the import
        except BaseException:
            with contextlib.suppress(StoreError):  # left behind, it is abandoned: the next import or open drops it
                self._drop_import(import_id)
            raise
        finally:
            with _RUNNING_LOCK:
                _RUNNING.discard(key)
        return import_id, events

    def _begin_import(self, file: str, fmt: str) -> tuple[int, int]:
        """Register a staging import; returns its id and its first page number."""
        with self._write() as db:
            running = db.execute("SELECT id, file, owner_pid FROM log_imports WHERE status = 'staging'").fetchone()
            if running is not None:
                raise StoreError(f"{self.path}: another log import is under way (import {running[0]} of "
                                 f"{running[1]}, process {running[2]}); import {file} once it has finished")
            first_page = db.execute("SELECT COALESCE(MAX(page), 0) + 1 FROM log_events").fetchone()[0]
            first_event = db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM log_events").fetchone()[0]
            import_id = db.conn.execute(
                "INSERT INTO log_imports (created_at, file, format, events, skipped, status, owner_pid, heartbeat, "
                "first_event) VALUES (?, ?, ?, 0, 0, 'staging', ?, ?, ?)",
                (time.time(), file, fmt, os.getpid(), time.time(), first_event)).lastrowid
        return import_id, first_page

    def _touch_import(self, db: sqlite_utils.Database, import_id: int) -> None:
        """Mark the staging import alive (inside a write); StoreError if it was removed meanwhile."""
        touched = db.conn.execute("UPDATE log_imports SET heartbeat = ? WHERE id = ? AND status = 'staging'",
                                  (time.time(), import_id)).rowcount
        if not touched:
            raise StoreError(f"{self.path}: log import {import_id} was removed while it ran (the log was reset, "
                             f"or it was silent for {ABANDONED_AFTER_S:g} s); nothing of it was kept: "
                             "import the file again")

    def _drop_import(self, import_id: int) -> None:
        """Remove a staging import's rows, a chunk per short transaction, then the import itself."""
        while True:
            with self._write() as db:
                deleted = db.conn.execute(f"DELETE FROM log_events WHERE id IN ({_STAGED_CHUNK})",
                                          (import_id, IMPORT_CHUNK)).rowcount
                if deleted < IMPORT_CHUNK:
                    db.conn.execute("DELETE FROM log_imports WHERE id = ? AND status = 'staging'", (import_id,))
                    return

    def _drop_abandoned_imports(self) -> list[int]:
        """Remove the staging imports nobody is writing any more (their process died, they were left
        by a failed clean-up, or they were silent for ``ABANDONED_AFTER_S``); returns their ids."""
        database = self.path.resolve()
        with _RUNNING_LOCK, self._read() as db:
            staging = db.execute("SELECT id, owner_pid, heartbeat FROM log_imports WHERE status = 'staging'").fetchall()
            running = {i for owner, i in _RUNNING if owner == database}
        me, now = os.getpid(), time.time()
        abandoned = [i for i, pid, heartbeat in staging
                     if (heartbeat or 0.0) < now - ABANDONED_AFTER_S
                     or (pid == me and i not in running) or (pid != me and not _process_alive(pid))]
        for import_id in abandoned:
            self._drop_import(import_id)
        return abandoned

    # ----------------------------------------------------------------- reading (committed imports only)
    def log_imports(self) -> pd.DataFrame:
        """One row per imported log file, oldest first: id, created_at, file, format, events, skipped."""
        columns = ("id", "created_at", "file", "format", "events", "skipped")
        with self._read() as db:
            rows = db.execute(f"SELECT {', '.join(columns)} FROM log_imports WHERE status = 'committed' "
                              "ORDER BY id").fetchall()
        return frame([dict(zip(columns, row)) for row in rows], columns, "created_at")

    def log_event_counts(self) -> dict[str, int]:
        """Imported events per kind (impression, click, ...)."""
        sql = "SELECT event, COUNT(*) FROM committed_log_events GROUP BY event ORDER BY event"
        with self._read() as db:
            return dict(db.execute(sql).fetchall())

    def logged_pages(self) -> list[LoggedPage]:
        """Every imported result page in log order, with what it showed and the events on it."""
        sql = ("SELECT page, created_at, session, query, entity_id, event, position FROM committed_log_events "
               "WHERE page IS NOT NULL ORDER BY page, id")
        grouped: dict[int, tuple[float, str, str, list, list]] = {}
        with self._read() as db:
            for page, created_at, session, query, entity_id, event, position in db.execute(sql):
                _, _, _, shown, events = grouped.setdefault(page, (created_at, session, query, [], []))
                if event == "impression":
                    shown.append((entity_id, position))
                else:
                    events.append((entity_id, event))
        return [LoggedPage(page, created_at, session, query, tuple(shown), tuple(events))
                for page, (created_at, session, query, shown, events) in grouped.items()]

    def position_impressions(self) -> list[tuple[str, str, str, int, bool, tuple[str, ...]]]:
        """Every impression with a position, in log order (imported pages, then the engine's own
        searches): ``(page, normalized query, entity, position, clicked, strategies)``, the input of
        position-bias estimation. ``page`` is ``log:<page>`` or ``search:<id>``; ``strategies`` are the
        strategies whose candidates made an own search's page (empty for imported pages: a log does
        not say)."""
        sql = """
            SELECT 0 AS source, i.page AS page, i.normalized_query, i.entity_id, i.position AS pos,
                   EXISTS(SELECT 1 FROM committed_log_events c WHERE c.page = i.page AND c.entity_id = i.entity_id
                          AND c.event = 'click'), NULL
            FROM committed_log_events i WHERE i.event = 'impression' AND i.position IS NOT NULL
            UNION ALL
            SELECT 1, s.id, s.normalized_query, i.entity_id, i.rank,
                   EXISTS(SELECT 1 FROM feedback f WHERE f.search_id = i.search_id AND f.entity_id = i.entity_id
                          AND f.kind = 'click'), s.chosen_arms
            FROM impressions i JOIN searches s ON s.id = i.search_id
            ORDER BY source, page, pos
        """
        strategies: dict[str | None, tuple[str, ...]] = {None: ()}
        out = []
        with self._read() as db:
            for source, page, query, entity_id, position, clicked, arms in db.execute(sql):
                if arms not in strategies:
                    strategies[arms] = tuple(arm_depths(json.loads(arms)))
                out.append((f"{'search' if source else 'log'}:{page}", query, entity_id, position, bool(clicked),
                            strategies[arms]))
        return out

    # ----------------------------------------------------------------- replayed rounds
    def replace_replayed_rounds(self, rounds: Iterable[SettledRound]) -> int:
        """Replace the bandit rounds replayed from imported pages (``search_id`` holds the page) in one
        transaction, which advances the log generation (every fold starts with them); returns how many."""
        records = [(r.search_id, to_json(r.features), r.category, to_json(r.rewards)) for r in rounds]
        with self._write() as db:
            db.execute("DELETE FROM replayed_rounds")
            db.conn.executemany(
                "INSERT INTO replayed_rounds (page, features, category, rewards) VALUES (?, ?, ?, ?)",
                records)
            bump(db, LOG_GENERATION)
        return len(records)

    def replayed_rounds(self) -> list[SettledRound]:
        """The replayed rounds in replay order (``search_id`` holds the page, ``reason`` is ``REPLAYED``)."""
        sql = "SELECT seq, page, features, category, rewards FROM replayed_rounds ORDER BY seq"
        with self._read() as db:
            rows = db.execute(sql).fetchall()
        return [SettledRound(seq, page, tuple(json.loads(x)), category or "", json.loads(rewards), REPLAYED)
                for seq, page, x, category, rewards in rows]

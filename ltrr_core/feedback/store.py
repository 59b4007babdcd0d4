"""FeedbackStore: the SQLite log of searches, impressions, feedback, bandit updates and labels.

The only module that speaks SQL. One connection per thread (sqlite3 connections are
single-thread); WAL mode so readers never block the writer; every write is one
``BEGIN IMMEDIATE`` transaction, so a killed process loses nothing already committed.
The schema is versioned with ``PRAGMA user_version`` and migrated forward on open.
"""

from __future__ import annotations

import itertools
import json
import math
import sqlite3
import threading
import time
import uuid
import weakref
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import pandas as pd
import sqlite_utils

from ltrr_core.base.examination import ExaminationCurve
from ltrr_core.base.records import (
    FEEDBACK_KINDS,
    REPLAYED,
    SETTLE_REASONS,
    SOURCES,
    BanditLogRecord,
    FeedbackEvent,
    ImpressionRow,
    Label,
    LoggedPage,
    PendingSearch,
    Q2EStat,
    SearchRecord,
    SettledRound,
    check_choice,
    integer,
    to_json,
)
from ltrr_core.selection.bandit import arm_depths
from ltrr_core.understanding.text import normalize

SQLITE_MAGIC = b"SQLite format 3\x00"
SQLITE_HEADER_BYTES = 100
DEFAULT_TIMEOUT_S = 5.0
LEARNING_TABLES = ("bandit_updates", "feedback", "impressions", "interleaved_searches", "searches")  # children first
# Imported interaction logs and what was learnt from them (child tables first).
IMPORT_TABLES = ("replayed_rounds", "log_events", "log_imports", "examination_curve")
IMPORT_CHUNK = 5000  # imported rows per executemany


class StoreError(RuntimeError):
    """The feedback database cannot be used (corrupt, locked, newer schema); the message says what to do."""


def _migration_1(db: sqlite_utils.Database) -> None:
    """Initial schema: searches, impressions, feedback, bandit_updates, labels."""
    db["searches"].create(
        {
            "id": int, "created_at": float, "query": str, "normalized_query": str, "user_id": str,
            "context": str, "features": str, "policy": str, "arms_scored": str, "chosen_arms": str,
            "propensity": float, "ranker": str, "timings": str, "source": str,
        },
        pk="id",
        not_null={"created_at", "query", "normalized_query", "source", "propensity"},
    )
    db["impressions"].create(
        {"id": int, "search_id": int, "entity_id": str, "rank": int, "score": float, "found_by": str},
        pk="id",
        foreign_keys=[("search_id", "searches", "id")],
        not_null={"search_id", "entity_id", "rank"},
    )
    db["feedback"].create(
        {
            "id": int, "created_at": float, "search_id": int, "query": str, "normalized_query": str,
            "entity_id": str, "kind": str, "source": str, "user_id": str, "value": float,
        },
        pk="id",
        foreign_keys=[("search_id", "searches", "id")],
        not_null={"created_at", "query", "normalized_query", "entity_id", "kind", "source"},
    )
    db["bandit_updates"].create(
        {"search_id": int, "arm": str, "reward": float, "created_at": float},
        pk=("search_id", "arm"),
        foreign_keys=[("search_id", "searches", "id")],
    )
    db["labels"].create(
        {
            "normalized_query": str, "entity_id": str, "judge": str, "query": str, "grade": int,
            "source": str, "updated_at": float,
        },
        pk=("normalized_query", "entity_id", "judge"),
    )
    db["searches"].create_index(["normalized_query"])
    db["impressions"].create_index(["search_id"])
    db["impressions"].create_index(["entity_id"])
    db["feedback"].create_index(["search_id"])
    db["feedback"].create_index(["normalized_query", "entity_id"])


def _migration_2(db: sqlite_utils.Database) -> None:
    """Settlement: a search stays pending until its reward window closes (``settled_at``, with the
    reason); ``category`` keys the hit history. Searches logged before were never settled as
    misses: they are closed as of their own time, so nothing old is left pending."""
    db["searches"].add_column("category", str)
    db["searches"].add_column("settled_at", float)
    db["searches"].add_column("settle_reason", str)
    db.execute("UPDATE searches SET settled_at = created_at, settle_reason = 'timeout', category = ''")
    db["searches"].create_index(["settled_at"])
    db["searches"].create_index(["user_id"])


def _migration_experiments(db: sqlite_utils.Database) -> None:
    """Offline experiment snapshots: one ``experiments`` row per run (catalog hash, specs, judgments,
    summary) and one ``experiment_results`` row per configuration and query (ranked ids, metrics)."""
    db["experiments"].create(
        {"id": int, "created_at": float, "catalog_hash": str, "catalog_source": str, "query_set": str,
         "judgments": str, "configurations": str, "baseline": str, "qrels": str, "queries": str, "summary": str},
        pk="id", not_null={"created_at", "catalog_hash", "query_set", "judgments", "configurations"},
    )
    db["experiment_results"].create(
        {"experiment_id": int, "configuration": str, "query_id": str, "ranked": str, "metrics": str,
         "candidates": int, "ms": float, "strategy_ms": str},
        pk=("experiment_id", "configuration", "query_id"),
        foreign_keys=[("experiment_id", "experiments", "id")],
    )
def _migration_interleaving(db: sqlite_utils.Database) -> None:
    """Online interleaving experiments: each experiment's configurations, which experiment an
    interleaved search belongs to, and the team (configuration) that placed each shown result."""
    db["interleaving_experiments"].create(
        {"id": str, "created_at": float, "configurations": str, "method": str},
        pk="id", not_null={"created_at", "configurations", "method"},
    )
    db["interleaved_searches"].create(
        {"search_id": int, "experiment_id": str},
        pk="search_id",
        foreign_keys=[("search_id", "searches", "id"), ("experiment_id", "interleaving_experiments", "id")],
        not_null={"experiment_id"},
    )
    db["interleaved_searches"].create_index(["experiment_id"])
    db["impressions"].add_column("team", str)
def _migration_log_import(db: sqlite_utils.Database) -> None:
    """Imported interaction logs: one ``log_imports`` row per file, its events in ``log_events``
    (``page`` groups the impressions one result page showed, and the events on them); the bandit
    rounds replayed from them (``replayed_rounds``); the examination curve estimated from traffic."""
    db["log_imports"].create(
        {"id": int, "created_at": float, "file": str, "format": str, "events": int, "skipped": int},
        pk="id", not_null={"created_at", "file", "format"},
    )
    db["log_events"].create(
        {
            "id": int, "import_id": int, "line": int, "created_at": float, "session": str, "query": str,
            "normalized_query": str, "entity_id": str, "event": str, "position": int, "propensity": float,
            "policy": str, "page": int,
        },
        pk="id", foreign_keys=[("import_id", "log_imports", "id")],
        not_null={"import_id", "line", "created_at", "session", "query", "normalized_query", "entity_id", "event"},
    )
    db["log_events"].create_index(["page", "entity_id"])
    db["log_events"].create_index(["normalized_query", "entity_id"])
    db["replayed_rounds"].create(
        {"seq": int, "page": int, "features": str, "category": str, "rewards": str},
        pk="seq", not_null={"page", "features", "rewards"},
    )
    db["examination_curve"].create({"rank": int, "probability": float, "updated_at": float}, pk="rank")


def _migration_identity(db: sqlite_utils.Database) -> None:
    """The database's identity: a random id made once, so a learning-state snapshot can name the
    database it folded and is refused by any other one (a copy keeps the id, as it keeps the log)."""
    db["store_meta"].create({"key": str, "value": str}, pk="key", not_null={"value"})
    db["store_meta"].insert({"key": "database_id", "value": uuid.uuid4().hex})


# Forward migrations, applied in order: MIGRATIONS[i] takes the schema from version i to i + 1.
# Append new ones; never edit one that has shipped.
MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _migration_1, _migration_2, _migration_experiments, _migration_interleaving, _migration_log_import,
    _migration_identity]

SEARCH_JSON_COLUMNS = ("context", "features", "arms_scored", "chosen_arms", "timings")
SEARCH_COLUMNS = (
    "search_id", "created_at", "query", "normalized_query", "user_id", "context", "features", "policy",
    "arms_scored", "chosen_arms", "propensity", "ranker", "timings", "source", "category", "settled_at",
    "settle_reason",
)
FEEDBACK_COLUMNS = (
    "feedback_id", "created_at", "search_id", "query", "normalized_query", "entity_id", "kind",
    "source", "user_id", "value",
)
LABEL_COLUMNS = ("query", "normalized_query", "entity_id", "grade", "judge", "source", "updated_at")
EXPERIMENT_COLUMNS = ("created_at", "catalog_hash", "catalog_source", "query_set", "judgments", "configurations",
                      "baseline", "qrels", "queries", "summary")
EXPERIMENT_JSON_COLUMNS = ("configurations", "qrels", "queries", "summary")
EXPERIMENT_RESULT_COLUMNS = ("configuration", "query_id", "ranked", "metrics", "candidates", "ms", "strategy_ms")
EXPERIMENT_RESULT_JSON_COLUMNS = ("ranked", "metrics", "strategy_ms")


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


# The hot writes (one of each per simulated search) as prepared statements: sqlite-utils'
# insert builds its SQL per call, which cost more than the writes themselves.
_INSERT_SEARCH = _insert_sql("searches", (
    "created_at", "query", "normalized_query", "user_id", "policy", "propensity", "ranker", "source", "category",
    *SEARCH_JSON_COLUMNS))
_INSERT_IMPRESSION = _insert_sql("impressions", ("search_id", "entity_id", "rank", "score", "found_by"))
_INSERT_FEEDBACK = _insert_sql("feedback", (
    "created_at", "search_id", "query", "normalized_query", "entity_id", "kind", "source", "user_id", "value"))
_INSERT_REWARD = _insert_sql("bandit_updates", ("search_id", "arm", "reward", "created_at"))
_INSERT_LOG_EVENT = _insert_sql("log_events", (
    "import_id", "line", "created_at", "session", "query", "normalized_query", "entity_id", "event", "position",
    "propensity", "policy", "page"))
_CLOSE_SEARCH = "UPDATE searches SET settled_at = ?, settle_reason = ? WHERE id = ? AND settled_at IS NULL"


@lru_cache(maxsize=1024)
def _found_by_json(found_by: tuple[str, ...]) -> str:
    """Provenance as JSON; a few dozen strategy combinations recur on every result page."""
    return to_json(found_by)


def _where(conditions: dict[str, object]) -> tuple[str, list]:
    """`` WHERE a = ? AND b = ?`` for the conditions that are not None."""
    kept = {k: v for k, v in conditions.items() if v is not None}
    if not kept:
        return "", []
    return " WHERE " + " AND ".join(f"{k} = ?" for k in kept), list(kept.values())


def _limit(limit: int | None) -> str:
    if limit is None:
        return ""
    return f" LIMIT {integer('limit', limit, low=0)}"


def _finite_rewards(rewards: dict[str, float]) -> dict[str, float]:
    values = {}
    for arm, reward in rewards.items():
        value = float(reward)
        if not math.isfinite(value):
            raise ValueError(f"rewards[{arm!r}]: {reward!r} is not a finite number")
        values[arm] = value
    return values


def _frame(rows: list[dict], columns: tuple[str, ...], time_column: str) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=list(columns))
    frame[time_column] = pd.to_datetime(frame[time_column].astype("float64"), unit="s", utc=True)
    return frame


class FeedbackStore:
    """The feedback database at ``path`` (created with its folder if missing).

    ``timeout`` is how long a write waits for another process's lock before raising
    :class:`StoreError`. Safe to share between threads: each thread gets its own
    connection, and writers of one process queue on a lock instead of polling SQLite.
    """

    def __init__(self, path: str | Path, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.path = Path(path)
        if not timeout > 0:
            raise ValueError(f"timeout: {timeout!r} is not a positive number of seconds")
        self.timeout = float(timeout)
        self._local = threading.local()
        self._connections: weakref.WeakSet[sqlite_utils.Database] = weakref.WeakSet()
        self._registry_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._database_id: str | None = None
        self._check_file()
        self.curve = ExaminationCurve()  # the prior until the schema (and any estimated curve) is read
        self._open_schema()
        self.curve = self._read_curve()

    # ----------------------------------------------------------------- opening
    def _check_file(self) -> None:
        """Refuse (without touching it) anything at ``path`` that is not an SQLite database."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot create the folder {self.path.parent} ({exc}); "
                             "set LTRR_DB_PATH to a writable location") from exc
        if self.path.is_dir():
            raise StoreError(f"{self.path} is a folder, not a database file; set LTRR_DB_PATH to a file path")
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        with self.path.open("rb") as fh:
            header = fh.read(SQLITE_HEADER_BYTES)
        if len(header) < SQLITE_HEADER_BYTES or not header.startswith(SQLITE_MAGIC):
            raise self._corrupt("it does not start with a complete SQLite header")

    def _corrupt(self, why: str) -> StoreError:
        return StoreError(
            f"{self.path} is not a usable feedback database: {why}. The file was left untouched; "
            "move it aside (e.g. rename it to feedback.db.bad) or set LTRR_DB_PATH to another file, then retry."
        )

    def _error(self, exc: sqlite3.Error) -> StoreError:
        message = str(exc).lower()
        if "locked" in message or "busy" in message:
            return StoreError(
                f"{self.path}: database is locked by another process (waited {self.timeout:g} s); "
                "retry in a moment, or close the other writer."
            )
        if isinstance(exc, sqlite3.DatabaseError) and ("malformed" in message or "not a database" in message):
            return self._corrupt(str(exc))
        return StoreError(f"{self.path}: {exc}")

    def _open_schema(self) -> None:
        latest = len(MIGRATIONS)
        with self._read() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = set(db.table_names())
        if version > latest:
            raise StoreError(
                f"{self.path} has schema version {version}, newer than this LTR&R Studio knows ({latest}); "
                "upgrade ltrr-studio, or set LTRR_DB_PATH to another file."
            )
        if version == 0 and tables:
            raise StoreError(
                f"{self.path} is an SQLite database of another application (tables {sorted(tables)}); "
                "it was left untouched: set LTRR_DB_PATH to another file."
            )
        self._enable_wal()
        if version < latest:
            with self._write() as db:  # re-read inside the lock: another process may have migrated
                current = db.execute("PRAGMA user_version").fetchone()[0]
                for step in range(current, latest):
                    MIGRATIONS[step](db)
                db.execute(f"PRAGMA user_version = {latest}")

    def _enable_wal(self) -> None:
        """Switch the file to WAL (a no-op once it is). When processes open the same new file at
        once, SQLite fails the switch with "locked" at once, without calling the busy handler, so
        the switch is retried here for up to ``timeout``."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                self._db().execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc).lower() or time.monotonic() >= deadline:
                    raise self._error(exc) from exc
                time.sleep(0.01)

    @property
    def schema_version(self) -> int:
        """The schema version on disk (``PRAGMA user_version``); equals ``len(MIGRATIONS)`` once open."""
        with self._read() as db:
            return db.execute("PRAGMA user_version").fetchone()[0]

    def database_id(self) -> str:
        """This database's identity (made once by the schema migration; a copy of the file keeps it)."""
        if self._database_id is None:
            with self._read() as db:
                self._database_id = db.execute("SELECT value FROM store_meta WHERE key = 'database_id'").fetchone()[0]
        return self._database_id

    def _db(self) -> sqlite_utils.Database:
        db = getattr(self._local, "db", None)
        if db is None:
            # check_same_thread=False only so close() may close it; each thread uses its own.
            conn = sqlite3.connect(str(self.path), timeout=self.timeout, check_same_thread=False)
            try:
                conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
                conn.execute("PRAGMA foreign_keys = ON")
                conn.execute("PRAGMA synchronous = NORMAL")  # WAL: durable across process crashes
            except sqlite3.Error as exc:
                conn.close()
                raise self._error(exc) from exc
            conn.create_function("examination", 1, lambda rank: self.curve(rank))  # the curve in use
            db = sqlite_utils.Database(conn, execute_plugins=False)
            self._local.db = db
            with self._registry_lock:
                self._connections.add(db)
        return db

    @contextmanager
    def _read(self) -> Iterator[sqlite_utils.Database]:
        """One consistent snapshot for the reads inside the block."""
        db = self._db()
        try:
            db.conn.execute("BEGIN")
            try:
                yield db
            finally:
                if db.conn.in_transaction:
                    db.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite_utils.Database]:
        """One write transaction: all of the block commits, or none of it."""
        db = self._db()
        with self._write_lock:
            try:
                db.conn.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    if db.conn.in_transaction:
                        db.conn.execute("ROLLBACK")
                    raise
                db.conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise self._error(exc) from exc

    def close(self) -> None:
        """Close every thread's connection; the store reopens lazily if used again."""
        with self._registry_lock:
            for db in list(self._connections):
                db.close()
            self._connections = weakref.WeakSet()
            self._local = threading.local()

    def __enter__(self) -> "FeedbackStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- writes
    def log_search(self, rec: SearchRecord) -> int:
        """Store one search; returns its ``search_id``."""
        return self.log_search_bundle(rec, ())

    def log_search_bundle(self, rec: SearchRecord, impressions: Iterable[ImpressionRow]) -> int:
        """Store a search and the results it showed in one transaction; returns the ``search_id``."""
        with self._write() as db:
            search_id = self._insert_search(db, rec)
            self._insert_impressions(db, search_id, impressions)
        return search_id

    def log_impressions(self, search_id: int, rows: Iterable[ImpressionRow]) -> int:
        """Store the results shown for ``search_id`` (one transaction); returns how many rows."""
        search_id = integer("search_id", search_id)
        with self._write() as db:
            self._require_search(db, search_id)
            return self._insert_impressions(db, search_id, rows)

    def log_feedback(self, event: FeedbackEvent) -> int:
        """Store one click/thumbs event; returns its id."""
        with self._write() as db:
            return self._insert_feedback(db, [event])[0]

    def log_feedback_many(self, events: Iterable[FeedbackEvent]) -> int:
        """Store many events in one transaction (all or none); returns how many."""
        with self._write() as db:
            return len(self._insert_feedback(db, events))

    def log_response(self, search_id: int, events: Iterable[FeedbackEvent]) -> None:
        """A user's feedback ``events`` on one search, in one transaction (the window may stay open)."""
        search_id = integer("search_id", search_id)
        with self._write() as db:
            self._require_search(db, search_id)
            self._insert_feedback(db, events)

    def settle(self, search_id: int, rewards: dict[str, float], reason: str,
               events: Iterable[FeedbackEvent] = ()) -> int | None:
        """Close ``search_id``'s reward window: the ``events`` that closed it and every picked arm's
        reward, in one transaction. Returns the round's ``seq`` in the reward log; a search settles
        once: None (and nothing written) if it already has."""
        search_id = integer("search_id", search_id)
        check_choice("reason", reason, SETTLE_REASONS)
        values = _finite_rewards(rewards)
        now = time.time()
        with self._write() as db:
            chosen = self._require_search(db, search_id)
            if set(values) != set(chosen):
                raise ValueError(f"rewards: arms {sorted(values)} are not the arms picked in search {search_id} "
                                 f"({chosen}); give every picked arm a reward")
            if db.conn.execute(_CLOSE_SEARCH, (now, reason, search_id)).rowcount == 0:
                return None  # settled before: nothing was written
            self._insert_feedback(db, events)
            rowids = [db.conn.execute(_INSERT_REWARD, (search_id, arm, values[arm], now)).lastrowid for arm in chosen]
        return min(rowids)

    def set_label(self, query: str, entity_id: str, grade: int, judge: str, source: str = "human") -> Label:
        """Set the graded relevance of ``entity_id`` for ``query`` by ``judge`` (replacing an earlier grade).

        Queries are keyed by their normalized text: 'Beyoncé!' and 'beyonce' share a label.
        """
        return self.set_labels([(query, entity_id, grade)], judge, source)[0]

    def set_labels(self, rows: Iterable[tuple[str, str, int]], judge: str, source: str = "human") -> list[Label]:
        """:meth:`set_label` for many ``(query, entity_id, grade)`` rows in one transaction (all or none)."""
        labels = [Label(query, normalize(query), entity_id, grade, judge, source) for query, entity_id, grade in rows]
        if not labels:
            return labels
        with self._write() as db:
            db["labels"].upsert_all(
                [{name: getattr(label, name) for name in LABEL_COLUMNS} for label in labels],
                pk=("normalized_query", "entity_id", "judge"),
            )
        return labels

    def reset_learning(self) -> dict[str, int]:
        """Delete searches, impressions, feedback and bandit updates, and any imported logs with what
        was learnt from them; **labels are kept**.

        Returns how many rows each table lost (an import table only when it held rows).
        """
        with self._write() as db:
            deleted = {table: db[table].count for table in LEARNING_TABLES}
            imported = {table: db[table].count for table in IMPORT_TABLES}
            for table in IMPORT_TABLES + LEARNING_TABLES:
                db.execute(f"DELETE FROM {table}")
        self.curve = ExaminationCurve()
        return deleted | {table: n for table, n in imported.items() if n}

    @staticmethod
    def _require_search(db: sqlite_utils.Database, search_id: int) -> list[str]:
        row = db.execute("SELECT chosen_arms FROM searches WHERE id = ?", [search_id]).fetchone()
        if row is None:
            raise ValueError(f"search_id: {search_id!r} is not a logged search")
        return json.loads(row[0])

    @staticmethod
    def _insert_search(db: sqlite_utils.Database, rec: SearchRecord) -> int:
        row = (rec.created_at, rec.query, rec.normalized_query, rec.user_id, rec.policy, rec.propensity,
               rec.ranker, rec.source, rec.category, *(to_json(getattr(rec, name)) for name in SEARCH_JSON_COLUMNS))
        return db.conn.execute(_INSERT_SEARCH, row).lastrowid

    @staticmethod
    def _insert_impressions(db: sqlite_utils.Database, search_id: int, rows: Iterable[ImpressionRow]) -> int:
        records = [(search_id, r.entity_id, r.rank, r.score, _found_by_json(r.found_by)) for r in rows]
        db.conn.executemany(_INSERT_IMPRESSION, records)
        return len(records)

    def _insert_feedback(self, db: sqlite_utils.Database, events: Iterable[FeedbackEvent]) -> list[int]:
        ids, known = [], set()
        for event in events:
            if event.search_id is not None and event.search_id not in known:
                self._require_search(db, event.search_id)
                known.add(event.search_id)
            row = (event.created_at, event.search_id, event.query, normalize(event.query), event.entity_id,
                   event.kind, event.source, event.user_id, event.value)
            ids.append(db.conn.execute(_INSERT_FEEDBACK, row).lastrowid)
        return ids

    # ----------------------------------------------------------------- reads
    def search(self, search_id: int) -> SearchRecord:
        """The logged search ``search_id`` as a typed record."""
        search_id = integer("search_id", search_id)
        with self._read() as db:
            rows = list(db.query("SELECT * FROM searches WHERE id = ?", [search_id]))
        if not rows:
            raise ValueError(f"search_id: {search_id!r} is not a logged search")
        row = rows[0]
        for name in ("id", "settled_at", "settle_reason"):
            row.pop(name)
        for name in SEARCH_JSON_COLUMNS:
            row[name] = json.loads(row[name])
        return SearchRecord(**row)

    def searches(self, limit: int | None = None, source: str | None = None) -> pd.DataFrame:
        """Searches newest first (JSON columns decoded); ``limit`` keeps the most recent ones."""
        if source is not None and source not in SOURCES:
            raise ValueError(f"source: {source!r} is not one of {SOURCES}")
        where, params = _where({"source": source})
        sql = f"SELECT id AS search_id, * FROM searches{where} ORDER BY id DESC{_limit(limit)}"
        with self._read() as db:
            rows = list(db.query(sql, params))
        for row in rows:
            row.pop("id")
            for name in SEARCH_JSON_COLUMNS:
                row[name] = json.loads(row[name])
        return _frame(rows, SEARCH_COLUMNS, "created_at")

    def feedback_events(
        self,
        limit: int | None = None,
        source: str | None = None,
        kind: str | None = None,
        search_id: int | None = None,
    ) -> pd.DataFrame:
        """Feedback events newest first, optionally filtered by source, kind and search."""
        if source is not None and source not in SOURCES:
            raise ValueError(f"source: {source!r} is not one of {SOURCES}")
        if kind is not None and kind not in FEEDBACK_KINDS:
            raise ValueError(f"kind: {kind!r} is not one of {FEEDBACK_KINDS}")
        search_id = None if search_id is None else integer("search_id", search_id)
        where, params = _where({"source": source, "kind": kind, "search_id": search_id})
        sql = f"SELECT id AS feedback_id, * FROM feedback{where} ORDER BY id DESC{_limit(limit)}"
        with self._read() as db:
            rows = list(db.query(sql, params))
        for row in rows:
            row.pop("id")
        return _frame(rows, FEEDBACK_COLUMNS, "created_at")

    def impressions(self, search_id: int) -> list[ImpressionRow]:
        """The results shown for ``search_id``, by rank."""
        search_id = integer("search_id", search_id)
        sql = "SELECT entity_id, rank, score, found_by FROM impressions WHERE search_id = ? ORDER BY rank, id"
        with self._read() as db:
            rows = db.execute(sql, [search_id]).fetchall()
        return [ImpressionRow(e, r, s, tuple(json.loads(f))) for e, r, s, f in rows]

    def pending(self, user_id: str | None = None, created_before: float | None = None) -> list[PendingSearch]:
        """Searches whose reward window is open, oldest first (of ``user_id``; created before a time)."""
        where, params = _where({"user_id": user_id})
        where = (where + " AND" if where else " WHERE") + " settled_at IS NULL"
        if created_before is not None:
            where += " AND created_at < ?"
            params.append(float(created_before))
        sql = f"SELECT id, user_id, created_at, chosen_arms FROM searches{where} ORDER BY id"
        with self._read() as db:
            rows = db.execute(sql, params).fetchall()
        return [PendingSearch(i, u, c, tuple(json.loads(arms))) for i, u, c, arms in rows]

    def shown(self, search_id: int, entity_id: str) -> tuple[str, ...] | None:
        """The strategies that found ``entity_id`` if ``search_id`` showed it (its provenance), else None."""
        sql = "SELECT found_by FROM impressions WHERE search_id = ? AND entity_id = ? ORDER BY rank LIMIT 1"
        with self._read() as db:
            row = db.execute(sql, [integer("search_id", search_id), entity_id]).fetchone()
        return tuple(json.loads(row[0])) if row else None

    def last_settled_seq(self) -> int:
        """The ``seq`` of the newest settled round (0 for none)."""
        with self._read() as db:
            return db.execute("SELECT COALESCE(MAX(rowid), 0) FROM bandit_updates").fetchone()[0]

    def settled_rounds(self, after_seq: int = 0) -> list[SettledRound]:
        """Every settled search with its rewards, in the order the windows closed (the bandit's fold);
        ``seq`` is the position in the reward log, so ``after_seq`` resumes after a snapshot."""
        sql = (
            "SELECT b.seq, s.id, s.features, s.category, s.settle_reason, b.arm, b.reward FROM "
            "(SELECT search_id, arm, reward, MIN(rowid) OVER (PARTITION BY search_id) AS seq, rowid AS r "
            " FROM bandit_updates) b JOIN searches s ON s.id = b.search_id WHERE b.seq > ? ORDER BY b.seq, b.r"
        )
        with self._read() as db:
            rows = db.execute(sql, [integer("after_seq", after_seq, low=0)]).fetchall()
        rounds: list[SettledRound] = []
        for seq, search_id, features, category, reason, arm, reward in rows:
            if not rounds or rounds[-1].search_id != search_id:
                rounds.append(SettledRound(seq, search_id, tuple(json.loads(features)), category or "", {}, reason or ""))
            rounds[-1].rewards[arm] = reward
        return rounds

    def bandit_log(self, source: str | None = None) -> list[BanditLogRecord]:
        """Every search with at least one bandit update, oldest first: the replay / off-policy log."""
        where, params = _where({"s.source": source})
        sql = (
            "SELECT s.id, s.features, s.chosen_arms, s.propensity, s.policy, b.arm, b.reward "
            f"FROM searches s JOIN bandit_updates b ON b.search_id = s.id{where} ORDER BY s.id, b.rowid"
        )
        with self._read() as db:
            rows = db.execute(sql, params).fetchall()
        log: list[BanditLogRecord] = []
        for search_id, features, chosen, propensity, policy, arm, reward in rows:
            if not log or log[-1].search_id != search_id:
                log.append(BanditLogRecord(
                    search_id, tuple(json.loads(features)), tuple(json.loads(chosen)), propensity, {}, policy,
                ))
            log[-1].rewards[arm] = reward
        return log

    def q2e_stats(self, source: str | None = None) -> list[Q2EStat]:
        """Per (normalized query, entity): examined impressions (the examination probability of each
        impression's rank, summed), clicks, thumbs up/down.

        Feedback tied to a search counts under that search's normalized query; feedback
        without one under its own normalized query. ``source`` filters searches and events;
        imported logs count only when it is None (every source).
        """
        search_where, search_params = _where({"s.source": source})
        feedback_where, feedback_params = _where({"f.source": source})
        imported_imp = imported_fb = ""
        if source is None:
            imported_imp = ("UNION ALL SELECT normalized_query, entity_id, examination(position) FROM log_events "
                            "WHERE event = 'impression'")
            imported_fb = "UNION ALL SELECT normalized_query, entity_id, event FROM log_events WHERE event != 'impression'"
        sql = f"""
            WITH imp AS (
                SELECT q, e, SUM(n) AS n FROM (
                    SELECT s.normalized_query AS q, i.entity_id AS e, examination(i.rank) AS n
                    FROM impressions i JOIN searches s ON s.id = i.search_id{search_where}
                    {imported_imp}
                ) GROUP BY q, e
            ), fb AS (
                SELECT q, e, SUM(kind = 'click') AS clicks, SUM(kind = 'thumbs_up') AS up,
                       SUM(kind = 'thumbs_down') AS down
                FROM (
                    SELECT COALESCE(s.normalized_query, f.normalized_query) AS q, f.entity_id AS e, f.kind AS kind
                    FROM feedback f LEFT JOIN searches s ON s.id = f.search_id{feedback_where}
                    {imported_fb}
                ) GROUP BY q, e
            ), pairs AS (SELECT q, e FROM imp UNION SELECT q, e FROM fb)
            SELECT p.q, p.e, COALESCE(imp.n, 0.0), COALESCE(fb.clicks, 0), COALESCE(fb.up, 0), COALESCE(fb.down, 0)
            FROM pairs p LEFT JOIN imp ON imp.q = p.q AND imp.e = p.e LEFT JOIN fb ON fb.q = p.q AND fb.e = p.e
            ORDER BY p.q, p.e
        """
        with self._read() as db:
            rows = db.execute(sql, search_params + feedback_params).fetchall()
        return [Q2EStat(*row) for row in rows]

    def labels(self, judge: str | None = None) -> list[Label]:
        """Relevance labels, optionally of one judge, ordered by query, entity, judge."""
        where, params = _where({"judge": judge})
        sql = f"SELECT {', '.join(LABEL_COLUMNS)} FROM labels{where} ORDER BY normalized_query, entity_id, judge"
        with self._read() as db:
            rows = db.execute(sql, params).fetchall()
        return [Label(**dict(zip(LABEL_COLUMNS, row))) for row in rows]

    def labels_frame(self, judge: str | None = None) -> pd.DataFrame:
        """:meth:`labels` as a table (one row per label)."""
        rows = [{name: getattr(label, name) for name in LABEL_COLUMNS} for label in self.labels(judge)]
        return _frame(rows, LABEL_COLUMNS, "updated_at")

    def counts(self) -> dict[str, int]:
        """Row counts: searches, impressions, feedback, labels, bandit_updates."""
        with self._read() as db:
            return {table: db[table].count for table in ("searches", "impressions", "feedback", "labels", "bandit_updates")}

    def integrity_check(self) -> str:
        """SQLite's full integrity check: ``'ok'`` or the problems it found."""
        with self._read() as db:
            return "\n".join(row[0] for row in db.execute("PRAGMA integrity_check").fetchall())

    # ----------------------------------------------------------------- experiments
    def query_counts(self, source: str | None = None) -> list[tuple[str, str, str, int]]:
        """Every distinct logged query: ``(normalized, latest text, category, searches)``, most searched
        first (ties by normalized text); ``source`` filters the searches."""
        if source is not None and source not in SOURCES:
            raise ValueError(f"source: {source!r} is not one of {SOURCES}")
        where, params = _where({"source": source})
        sql = (f"SELECT normalized_query, query, COALESCE(category, ''), n FROM (SELECT normalized_query, query, "
               f"category, COUNT(*) OVER (PARTITION BY normalized_query) AS n, ROW_NUMBER() OVER "
               f"(PARTITION BY normalized_query ORDER BY id DESC) AS newest FROM searches{where}) "
               "WHERE newest = 1 AND normalized_query != '' ORDER BY n DESC, normalized_query")
        with self._read() as db:
            return [tuple(row) for row in db.execute(sql, params).fetchall()]

    def save_experiment(self, header: dict, results: Iterable[dict]) -> int:
        """Store an experiment snapshot (``EXPERIMENT_COLUMNS``) and its per-query results
        (``EXPERIMENT_RESULT_COLUMNS``) in one transaction; returns the snapshot id."""
        row = tuple(to_json(header[c]) if c in EXPERIMENT_JSON_COLUMNS else header[c] for c in EXPERIMENT_COLUMNS)
        with self._write() as db:
            experiment_id = db.conn.execute(_insert_sql("experiments", EXPERIMENT_COLUMNS), row).lastrowid
            db.conn.executemany(
                _insert_sql("experiment_results", ("experiment_id", *EXPERIMENT_RESULT_COLUMNS)),
                [(experiment_id, *(to_json(r[c]) if c in EXPERIMENT_RESULT_JSON_COLUMNS else r[c]
                                   for c in EXPERIMENT_RESULT_COLUMNS)) for r in results])
        return experiment_id

    def experiments(self) -> pd.DataFrame:
        """Every experiment snapshot, newest first (without per-query results or judgments)."""
        sql = ("SELECT id AS experiment_id, created_at, catalog_hash, catalog_source, query_set, judgments, "
               "configurations, baseline FROM experiments ORDER BY id DESC")
        with self._read() as db:
            rows = list(db.query(sql))
        for row in rows:
            row["configurations"] = json.loads(row["configurations"])
        columns = ("experiment_id", "created_at", "catalog_hash", "catalog_source", "query_set", "judgments",
                   "configurations", "baseline")
        return _frame(rows, columns, "created_at")

    def experiment(self, experiment_id: int) -> tuple[dict, list[dict]]:
        """One snapshot: its header (``EXPERIMENT_COLUMNS``, JSON decoded) and per-query result rows."""
        experiment_id = integer("experiment_id", experiment_id)
        with self._read() as db:
            header = db.execute(f"SELECT {', '.join(EXPERIMENT_COLUMNS)} FROM experiments WHERE id = ?",
                                [experiment_id]).fetchone()
            rows = db.execute(f"SELECT {', '.join(EXPERIMENT_RESULT_COLUMNS)} FROM experiment_results "
                              "WHERE experiment_id = ? ORDER BY rowid", [experiment_id]).fetchall()
        if header is None:
            raise ValueError(f"experiment {experiment_id}: no such snapshot; list them with `ltrr experiments`")
        decoded = {c: json.loads(v) if c in EXPERIMENT_JSON_COLUMNS else v for c, v in zip(EXPERIMENT_COLUMNS, header)}
        results = [{c: json.loads(v) if c in EXPERIMENT_RESULT_JSON_COLUMNS else v
                    for c, v in zip(EXPERIMENT_RESULT_COLUMNS, row)} for row in rows]
        return decoded, results
    # ----------------------------------------------------------------- interleaving
    def create_interleaving(self, experiment_id: str, configurations: list[str], method: str) -> None:
        """Register an interleaving experiment (configuration specs, in team order); registering it
        again with the same specs is a no-op, with others a ValueError naming both."""
        _check_experiment_id(experiment_id)
        with self._write() as db:
            row = db.execute("SELECT configurations FROM interleaving_experiments WHERE id = ?",
                             [experiment_id]).fetchone()
            if row is None:
                db.execute("INSERT INTO interleaving_experiments (id, created_at, configurations, method) "
                           "VALUES (?, ?, ?, ?)", [experiment_id, time.time(), to_json(configurations), method])
            elif json.loads(row[0]) != list(configurations):
                raise ValueError(f"interleaving experiment {experiment_id!r} already compares {json.loads(row[0])}, "
                                 f"not {list(configurations)}; give the new comparison another name")

    def interleaving_experiment(self, experiment_id: str) -> list[str]:
        """The configuration specs of ``experiment_id`` (team order); ValueError if there is no such experiment."""
        with self._read() as db:
            row = db.execute("SELECT configurations FROM interleaving_experiments WHERE id = ?",
                             [experiment_id]).fetchone()
        if row is None:
            raise ValueError(f"interleaving experiment {experiment_id!r} does not exist; start it first")
        return json.loads(row[0])

    def interleaving_experiments(self) -> list[dict]:
        """Every interleaving experiment, newest first, with how many searches it served."""
        sql = ("SELECT e.id, e.created_at, e.configurations, e.method, COUNT(s.search_id) FROM interleaving_experiments e "
               "LEFT JOIN interleaved_searches s ON s.experiment_id = e.id GROUP BY e.id ORDER BY e.created_at DESC")
        with self._read() as db:
            rows = db.execute(sql).fetchall()
        return [{"id": i, "created_at": c, "configurations": json.loads(specs), "method": m, "searches": n}
                for i, c, specs, m, n in rows]

    def log_interleaved_search(self, rec: SearchRecord, impressions: Iterable[ImpressionRow], teams: Iterable[str],
                               experiment_id: str) -> int:
        """Store an interleaved search, its page with the team of every result, and its experiment, in
        one transaction. It is stored already closed (reason ``interleaved``) and without bandit
        updates, so it never becomes a pending window, a settled round or a bandit-log record."""
        rows = list(impressions)
        teams = list(teams)
        if len(teams) != len(rows):
            raise ValueError(f"teams: {len(teams)} teams for {len(rows)} shown results; give one team per result")
        with self._write() as db:
            search_id = self._insert_search(db, rec)
            db.execute(_CLOSE_SEARCH, (rec.created_at, "interleaved", search_id))
            db.conn.executemany(
                "INSERT INTO impressions (search_id, entity_id, rank, score, found_by, team) VALUES (?, ?, ?, ?, ?, ?)",
                [(search_id, r.entity_id, r.rank, r.score, _found_by_json(r.found_by), t) for r, t in zip(rows, teams)])
            db.execute("INSERT INTO interleaved_searches (search_id, experiment_id) VALUES (?, ?)",
                       [search_id, experiment_id])
        return search_id

    def interleaved_teams(self, search_id: int) -> list[str | None]:
        """The team of each result ``search_id`` showed, by rank (None for a search that was not interleaved)."""
        sql = "SELECT team FROM impressions WHERE search_id = ? ORDER BY rank, id"
        with self._read() as db:
            return [row[0] for row in db.execute(sql, [integer("search_id", search_id)]).fetchall()]

    def interleaving_credits(self, experiment_id: str) -> list[tuple[int, dict[str, int]]]:
        """Per search of the experiment, oldest first: clicked results per team that placed a result."""
        sql = (
            "SELECT x.search_id, i.team, COUNT(DISTINCT f.entity_id) FROM interleaved_searches x "
            "LEFT JOIN impressions i ON i.search_id = x.search_id "
            "LEFT JOIN feedback f ON f.search_id = x.search_id AND f.entity_id = i.entity_id AND f.kind = 'click' "
            "WHERE x.experiment_id = ? GROUP BY x.search_id, i.team ORDER BY x.search_id"
        )
        with self._read() as db:
            rows = db.execute(sql, [experiment_id]).fetchall()
        credits: list[tuple[int, dict[str, int]]] = []
        for search_id, team, clicked in rows:
            if not credits or credits[-1][0] != search_id:
                credits.append((search_id, {}))
            if team is not None:  # a page with no results: a tie
                credits[-1][1][team] = clicked
        return credits

    # ----------------------------------------------------------------- imported interaction logs
    def import_log_events(self, file: str, fmt: str, rows: Callable[[int], Iterable[tuple]],
                          skipped: Callable[[], int]) -> tuple[int, int]:
        """Store one log file's events in one transaction, all or none; returns (import id, events).

        ``rows(first_page)`` yields ``(line, created_at, session, query, normalized_query, entity_id,
        event, position, propensity, policy, page)`` with pages numbered from ``first_page``; it is
        consumed in chunks (a large file never sits in memory), and an exception it raises stores
        nothing. ``skipped()`` is read once the rows are consumed."""
        with self._write() as db:
            first_page = db.execute("SELECT COALESCE(MAX(page), 0) + 1 FROM log_events").fetchone()[0]
            import_id = db.conn.execute(
                "INSERT INTO log_imports (created_at, file, format, events, skipped) VALUES (?, ?, ?, 0, 0)",
                (time.time(), file, fmt)).lastrowid
            events, stream = 0, iter(rows(first_page))
            while chunk := list(itertools.islice(stream, IMPORT_CHUNK)):
                db.conn.executemany(_INSERT_LOG_EVENT, [(import_id, *row) for row in chunk])
                events += len(chunk)
            db.conn.execute("UPDATE log_imports SET events = ?, skipped = ? WHERE id = ?", (events, skipped(), import_id))
        return import_id, events

    def log_imports(self) -> pd.DataFrame:
        """One row per imported log file, oldest first: id, created_at, file, format, events, skipped."""
        columns = ("id", "created_at", "file", "format", "events", "skipped")
        with self._read() as db:
            rows = db.execute(f"SELECT {', '.join(columns)} FROM log_imports ORDER BY id").fetchall()
        return _frame([dict(zip(columns, row)) for row in rows], columns, "created_at")

    def log_event_counts(self) -> dict[str, int]:
        """Imported events per kind (impression, click, ...)."""
        with self._read() as db:
            return dict(db.execute("SELECT event, COUNT(*) FROM log_events GROUP BY event ORDER BY event").fetchall())

    def logged_pages(self) -> list[LoggedPage]:
        """Every imported result page in log order, with what it showed and the events on it."""
        sql = ("SELECT page, created_at, session, query, entity_id, event, position FROM log_events "
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
                   EXISTS(SELECT 1 FROM log_events c WHERE c.page = i.page AND c.entity_id = i.entity_id
                          AND c.event = 'click'), NULL
            FROM log_events i WHERE i.event = 'impression' AND i.position IS NOT NULL
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

    def replace_replayed_rounds(self, rounds: Iterable[SettledRound]) -> int:
        """Replace the bandit rounds replayed from imported pages (``search_id`` holds the page) in one
        transaction; returns how many."""
        records = [(r.search_id, to_json(r.features), r.category, to_json(r.rewards)) for r in rounds]
        with self._write() as db:
            db.execute("DELETE FROM replayed_rounds")
            db.conn.executemany(
                "INSERT INTO replayed_rounds (page, features, category, rewards) VALUES (?, ?, ?, ?)",
                records)
        return len(records)

    def replayed_rounds(self) -> list[SettledRound]:
        """The replayed rounds in replay order (``search_id`` holds the page, ``reason`` is ``REPLAYED``)."""
        sql = "SELECT seq, page, features, category, rewards FROM replayed_rounds ORDER BY seq"
        with self._read() as db:
            rows = db.execute(sql).fetchall()
        return [SettledRound(seq, page, tuple(json.loads(x)), category or "", json.loads(rewards), REPLAYED)
                for seq, page, x, category, rewards in rows]

    def save_examination_curve(self, probabilities: Sequence[float]) -> ExaminationCurve:
        """Store an estimated examination curve (rank 1 first) and use it from now on; empty: the prior."""
        curve = ExaminationCurve(tuple(probabilities))
        now = time.time()
        with self._write() as db:
            db.execute("DELETE FROM examination_curve")
            db.conn.executemany("INSERT INTO examination_curve (rank, probability, updated_at) VALUES (?, ?, ?)",
                                [(rank, p, now) for rank, p in enumerate(curve.estimated, start=1)])
        self.curve = curve
        return curve

    def _read_curve(self) -> ExaminationCurve:
        with self._read() as db:
            rows = db.execute("SELECT probability FROM examination_curve ORDER BY rank").fetchall()
        return ExaminationCurve(tuple(p for (p,) in rows))

    def export_log_rows(self) -> Iterator[tuple]:
        """The engine's own logged searches as interaction-log rows, in log order: ``(timestamp,
        session, query, entity_id, event, position, propensity, policy)``; impressions first, then
        the events on that search."""
        sql = """
            SELECT s.id AS sid, 0 AS part, i.rank AS n, s.created_at, s.user_id, s.query, i.entity_id, 'impression',
                   i.rank, s.propensity, s.policy
            FROM impressions i JOIN searches s ON s.id = i.search_id
            UNION ALL
            SELECT s.id, 1, f.id, f.created_at, f.user_id, s.query, f.entity_id, f.kind, NULL, NULL, NULL
            FROM feedback f JOIN searches s ON s.id = f.search_id
            ORDER BY sid, part, n
        """
        with self._read() as db:
            rows = db.execute(sql).fetchall()
        for row in rows:
            yield row[3:]


def _check_experiment_id(experiment_id: str) -> None:
    if not isinstance(experiment_id, str) or not experiment_id.strip():
        raise ValueError(f"experiment: {experiment_id!r} is not a name; give a non-empty one")

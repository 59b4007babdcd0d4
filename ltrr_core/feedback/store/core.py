"""The store's core: the connection per thread, transactions, and the schema with its migrations.

One connection per thread (sqlite3 connections are single-thread); WAL mode so readers never block
the writer; every write is one short ``BEGIN IMMEDIATE`` transaction, so a killed process loses
nothing already committed. The schema is versioned with ``PRAGMA user_version`` and migrated
forward on open. The repositories (one module per record kind) build on :class:`StoreCore`.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Self

import pandas as pd
import sqlite_utils

from ltrr_core.base.examination import ExaminationCurve
from ltrr_core.base.records import integer

SQLITE_MAGIC = b"SQLite format 3\x00"
SQLITE_HEADER_BYTES = 100
DEFAULT_TIMEOUT_S = 5.0


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


def _migration_staged_imports(db: sqlite_utils.Database) -> None:
    """Log imports are written in short transactions: an import is ``staging`` while its events are
    written (``owner_pid`` and ``heartbeat`` tell a running import from one whose process died;
    ``first_event`` is the id its events start from) and ``committed`` once whole; readers see the
    events of committed imports only, through the ``committed_log_events`` view. Imports stored
    before were written in one transaction: committed."""
    db.execute("ALTER TABLE log_imports ADD COLUMN status TEXT NOT NULL DEFAULT 'staging'")
    db.execute("UPDATE log_imports SET status = 'committed'")
    db["log_imports"].add_column("owner_pid", int)
    db["log_imports"].add_column("heartbeat", float)
    db["log_imports"].add_column("first_event", int)
    db.execute("CREATE VIEW committed_log_events AS SELECT * FROM log_events "
               "WHERE import_id IN (SELECT id FROM log_imports WHERE status = 'committed')")


# Counters bumped in the transaction that rewrites what another process folded, so that it
# rebuilds instead of catching up by position: ``log_generation`` when the reward log or the
# replayed rounds are rewritten (the bandit's fold), ``stats_generation`` when the memory's
# aggregate changes other than by appended impressions and events (an import, a new curve, a reset).
LOG_GENERATION, STATS_GENERATION = GENERATIONS = ("log_generation", "stats_generation")


def bump(db: sqlite_utils.Database, *generations: str) -> None:
    """Advance ``generations`` (of :data:`GENERATIONS`), inside the caller's write transaction."""
    db.conn.execute(f"UPDATE store_meta SET value = CAST(value AS INTEGER) + 1 "
                    f"WHERE key IN ({', '.join('?' * len(generations))})", generations)


def _migration_shared_learning(db: sqlite_utils.Database) -> None:
    """What the processes sharing the database agree on before they learn: generation counters in
    ``store_meta`` (see :data:`GENERATIONS`), and the ``settings`` every process follows (the
    chosen policy), one JSON value per key."""
    db["store_meta"].insert_all([{"key": key, "value": "0"} for key in GENERATIONS])
    db["settings"].create({"key": str, "value": str, "updated_at": float}, pk="key", not_null={"value"})


def _migration_query_notes(db: sqlite_utils.Database) -> None:
    """Notes on queries (case grading): one per normalized query, with who wrote it last and when."""
    db["query_notes"].create({"normalized_query": str, "query": str, "note": str, "judge": str, "updated_at": float},
                             pk="normalized_query", not_null={"query", "note", "judge", "updated_at"})


# Forward migrations, applied in order: MIGRATIONS[i] takes the schema from version i to i + 1.
# Append new ones; never edit one that has shipped.
MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _migration_1, _migration_2, _migration_experiments, _migration_interleaving, _migration_log_import,
    _migration_identity, _migration_staged_imports, _migration_shared_learning, _migration_query_notes]


def insert_sql(table: str, columns: tuple[str, ...]) -> str:
    """A prepared ``INSERT`` of ``columns`` into ``table``."""
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def where(conditions: dict[str, object]) -> tuple[str, list]:
    """`` WHERE a = ? AND b = ?`` for the conditions that are not None."""
    kept = {k: v for k, v in conditions.items() if v is not None}
    if not kept:
        return "", []
    return " WHERE " + " AND ".join(f"{k} = ?" for k in kept), list(kept.values())


def limit_sql(limit: int | None) -> str:
    """`` LIMIT n`` (empty for None)."""
    if limit is None:
        return ""
    return f" LIMIT {integer('limit', limit, low=0)}"


def frame(rows: list[dict], columns: tuple[str, ...], time_column: str) -> pd.DataFrame:
    """Rows as a table with ``time_column`` (epoch seconds) as UTC datetimes."""
    table = pd.DataFrame.from_records(rows, columns=list(columns))
    table[time_column] = pd.to_datetime(table[time_column].astype("float64"), unit="s", utc=True)
    return table


class StoreCore:
    """The feedback database at ``path`` (created with its folder if missing), without its records.

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
        self.curve = ExaminationCurve()  # the curve in use (SQL's examination()); the prior until one is read
        self._open_schema()

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

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def counts(self) -> dict[str, int]:
        """Row counts: searches, impressions, feedback, labels, bandit_updates."""
        with self._read() as db:
            return {table: db[table].count for table in ("searches", "impressions", "feedback", "labels", "bandit_updates")}

    def integrity_check(self) -> str:
        """SQLite's full integrity check: ``'ok'`` or the problems it found."""
        with self._read() as db:
            return "\n".join(row[0] for row in db.execute("PRAGMA integrity_check").fetchall())

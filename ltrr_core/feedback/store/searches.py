"""The search log: searches, the results they showed, feedback on them, and settlement (bandit rewards)."""

from __future__ import annotations

import json
import math
import time
from functools import lru_cache
from typing import Iterable, Iterator, NamedTuple

import pandas as pd
import sqlite_utils

from ltrr_core.base.records import (
    FEEDBACK_KINDS,
    SETTLE_REASONS,
    SOURCES,
    BanditLogRecord,
    FeedbackEvent,
    ImpressionRow,
    PendingSearch,
    Q2EStat,
    SearchRecord,
    SettledRound,
    check_choice,
    integer,
    to_json,
)
from ltrr_core.feedback.store.core import StoreCore, frame, insert_sql, limit_sql, where
from ltrr_core.understanding.text import normalize

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
# The hot writes (one of each per simulated search) as prepared statements: sqlite-utils'
# insert builds its SQL per call, which cost more than the writes themselves.
_INSERT_SEARCH = insert_sql("searches", (
    "created_at", "query", "normalized_query", "user_id", "policy", "propensity", "ranker", "source", "category",
    *SEARCH_JSON_COLUMNS))
_INSERT_IMPRESSION = insert_sql("impressions", ("search_id", "entity_id", "rank", "score", "found_by"))
_INSERT_FEEDBACK = insert_sql("feedback", (
    "created_at", "search_id", "query", "normalized_query", "entity_id", "kind", "source", "user_id", "value"))
_INSERT_REWARD = insert_sql("bandit_updates", ("search_id", "arm", "reward", "created_at"))
CLOSE_SEARCH = "UPDATE searches SET settled_at = ?, settle_reason = ? WHERE id = ? AND settled_at IS NULL"
# The reward log's rows after a ``seq``, in log order: a range read of its rowids (the primary key),
# never a scan. A round's rows are written in one transaction, so they are consecutive and its
# ``seq`` is the first one's rowid; the round at ``seq`` itself, whose other rows follow it, is left
# out by its search id.
SETTLED_ROUNDS = (
    "SELECT b.rowid, s.id, s.features, s.category, s.settle_reason, b.arm, b.reward FROM bandit_updates b "
    "JOIN searches s ON s.id = b.search_id WHERE b.rowid > ?1 "
    "AND b.search_id IS NOT (SELECT search_id FROM bandit_updates WHERE rowid = ?1) ORDER BY b.rowid"
)
UNBOUNDED = (2**63 - 1, 2**63 - 1)  # every impression and feedback id


class ShownRow(NamedTuple):
    """An impression as the memory counts it: under its search's normalized query, at its rank."""

    id: int
    query: str
    entity_id: str
    rank: int


class EventRow(NamedTuple):
    """A feedback event as the memory counts it (``kind``: click, thumbs_up ...)."""

    id: int
    query: str
    entity_id: str
    kind: str


@lru_cache(maxsize=1024)
def found_by_json(found_by: tuple[str, ...]) -> str:
    """Provenance as JSON; a few dozen strategy combinations recur on every result page."""
    return to_json(found_by)


def insert_search(db: sqlite_utils.Database, rec: SearchRecord) -> int:
    """Insert one search row (inside the caller's transaction); returns its id."""
    row = (rec.created_at, rec.query, rec.normalized_query, rec.user_id, rec.policy, rec.propensity,
           rec.ranker, rec.source, rec.category, *(to_json(getattr(rec, name)) for name in SEARCH_JSON_COLUMNS))
    return db.conn.execute(_INSERT_SEARCH, row).lastrowid


def _finite_rewards(rewards: dict[str, float]) -> dict[str, float]:
    values = {}
    for arm, reward in rewards.items():
        value = float(reward)
        if not math.isfinite(value):
            raise ValueError(f"rewards[{arm!r}]: {reward!r} is not a finite number")
        values[arm] = value
    return values


def _require_search(db: sqlite_utils.Database, search_id: int) -> list[str]:
    row = db.execute("SELECT chosen_arms FROM searches WHERE id = ?", [search_id]).fetchone()
    if row is None:
        raise ValueError(f"search_id: {search_id!r} is not a logged search")
    return json.loads(row[0])


def _insert_impressions(db: sqlite_utils.Database, search_id: int, rows: Iterable[ImpressionRow]) -> int | None:
    """Insert a page's impressions in order; the last one's id (None when there are none)."""
    records = [(search_id, r.entity_id, r.rank, r.score, found_by_json(r.found_by)) for r in rows]
    if not records:
        return None
    db.conn.executemany(_INSERT_IMPRESSION, records)
    return db.conn.execute("SELECT last_insert_rowid()").fetchone()[0]


def _insert_feedback(db: sqlite_utils.Database, events: Iterable[FeedbackEvent]) -> list[int]:
    ids, known = [], set()
    for event in events:
        if event.search_id is not None and event.search_id not in known:
            _require_search(db, event.search_id)
            known.add(event.search_id)
        row = (event.created_at, event.search_id, event.query, normalize(event.query), event.entity_id,
               event.kind, event.source, event.user_id, event.value)
        ids.append(db.conn.execute(_INSERT_FEEDBACK, row).lastrowid)
    return ids


def _last(ids: list[int]) -> int | None:
    return ids[-1] if ids else None


class SearchRepository(StoreCore):
    """Searches, impressions, feedback and bandit updates: what the engine logs and learns from."""

    # ----------------------------------------------------------------- writes
    def log_search_bundle(self, rec: SearchRecord, impressions: Iterable[ImpressionRow]) -> int:
        """Store a search and the results it showed in one transaction; returns the ``search_id``."""
        return self.log_search_rows(rec, impressions)[0]

    def log_search_rows(self, rec: SearchRecord, impressions: Iterable[ImpressionRow]) -> tuple[int, int | None]:
        """:meth:`log_search_bundle`, returning the ``search_id`` and the last impression's id (None
        when it showed nothing): a page's impressions get consecutive ids, in rank order."""
        with self._write() as db:
            search_id = insert_search(db, rec)
            last_shown = _insert_impressions(db, search_id, impressions)
        return search_id, last_shown

    def log_feedback_many(self, events: Iterable[FeedbackEvent]) -> int:
        """Store many events in one transaction (all or none); returns how many."""
        with self._write() as db:
            return len(_insert_feedback(db, events))

    def log_response(self, search_id: int, events: Iterable[FeedbackEvent]) -> int | None:
        """A user's feedback ``events`` on one search, in one transaction (the window may stay open);
        the last event's id (None when there are none)."""
        search_id = integer("search_id", search_id)
        with self._write() as db:
            _require_search(db, search_id)
            return _last(_insert_feedback(db, events))

    def settle(self, search_id: int, rewards: dict[str, float], reason: str,
               events: Iterable[FeedbackEvent] = ()) -> int | None:
        """Close ``search_id``'s reward window: the ``events`` that closed it and every picked arm's
        reward, in one transaction. Returns the round's ``seq`` in the reward log; a search settles
        once: None (and nothing written) if it already has."""
        return self.settle_rows(search_id, rewards, reason, events)[0]

    def settle_rows(self, search_id: int, rewards: dict[str, float], reason: str,
                    events: Iterable[FeedbackEvent] = ()) -> tuple[int | None, int | None]:
        """:meth:`settle`, returning the round's ``seq`` and the last event's id (None when nothing
        was written, or no events)."""
        search_id = integer("search_id", search_id)
        check_choice("reason", reason, SETTLE_REASONS)
        values = _finite_rewards(rewards)
        now = time.time()
        with self._write() as db:
            chosen = _require_search(db, search_id)
            if set(values) != set(chosen):
                raise ValueError(f"rewards: arms {sorted(values)} are not the arms picked in search {search_id} "
                                 f"({chosen}); give every picked arm a reward")
            if db.conn.execute(CLOSE_SEARCH, (now, reason, search_id)).rowcount == 0:
                return None, None  # settled before: nothing was written
            last_event = _last(_insert_feedback(db, events))
            rowids = [db.conn.execute(_INSERT_REWARD, (search_id, arm, values[arm], now)).lastrowid for arm in chosen]
        return min(rowids), last_event

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
        condition, params = where({"source": source})
        sql = f"SELECT id AS search_id, * FROM searches{condition} ORDER BY id DESC{limit_sql(limit)}"
        with self._read() as db:
            rows = list(db.query(sql, params))
        for row in rows:
            row.pop("id")
            for name in SEARCH_JSON_COLUMNS:
                row[name] = json.loads(row[name])
        return frame(rows, SEARCH_COLUMNS, "created_at")

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
        condition, params = where({"source": source, "kind": kind, "search_id": search_id})
        sql = f"SELECT id AS feedback_id, * FROM feedback{condition} ORDER BY id DESC{limit_sql(limit)}"
        with self._read() as db:
            rows = list(db.query(sql, params))
        for row in rows:
            row.pop("id")
        return frame(rows, FEEDBACK_COLUMNS, "created_at")

    def impressions(self, search_id: int) -> list[ImpressionRow]:
        """The results shown for ``search_id``, by rank."""
        search_id = integer("search_id", search_id)
        sql = "SELECT entity_id, rank, score, found_by FROM impressions WHERE search_id = ? ORDER BY rank, id"
        with self._read() as db:
            rows = db.execute(sql, [search_id]).fetchall()
        return [ImpressionRow(e, r, s, tuple(json.loads(f))) for e, r, s, f in rows]

    def pending(self, user_id: str | None = None, created_before: float | None = None) -> list[PendingSearch]:
        """Searches whose reward window is open, oldest first (of ``user_id``; created before a time)."""
        condition, params = where({"user_id": user_id})
        condition = (condition + " AND" if condition else " WHERE") + " settled_at IS NULL"
        if created_before is not None:
            condition += " AND created_at < ?"
            params.append(float(created_before))
        sql = f"SELECT id, user_id, created_at, chosen_arms FROM searches{condition} ORDER BY id"
        with self._read() as db:
            rows = db.execute(sql, params).fetchall()
        return [PendingSearch(i, u, c, tuple(json.loads(arms))) for i, u, c, arms in rows]

    def shown(self, search_id: int, entity_id: str) -> tuple[str, ...] | None:
        """The strategies that found ``entity_id`` if ``search_id`` showed it (its provenance), else None."""
        sql = "SELECT found_by FROM impressions WHERE search_id = ? AND entity_id = ? ORDER BY rank LIMIT 1"
        with self._read() as db:
            row = db.execute(sql, [integer("search_id", search_id), entity_id]).fetchone()
        return tuple(json.loads(row[0])) if row else None

    def settled_rounds(self, after_seq: int = 0) -> list[SettledRound]:
        """Every settled search with its rewards, in the order the windows closed (the bandit's fold);
        ``seq`` is the position in the reward log, so ``after_seq`` resumes after a snapshot or a
        catch-up, reading only the rows after it (:data:`SETTLED_ROUNDS`)."""
        after_seq = integer("after_seq", after_seq, low=0)
        with self._read() as db:
            rows = db.execute(SETTLED_ROUNDS, [after_seq]).fetchall()
        rounds: list[SettledRound] = []
        for rowid, search_id, features, category, reason, arm, reward in rows:
            if not rounds or rounds[-1].search_id != search_id:
                rounds.append(SettledRound(rowid, search_id, tuple(json.loads(features)), category or "", {},
                                           reason or ""))
            rounds[-1].rewards[arm] = reward
        return rounds

    def memory_rows(self, after: tuple[int, int]) -> tuple[list[ShownRow], list[EventRow]]:
        """The impressions and feedback events logged after ``(impression id, feedback id)``, in log
        order, each under the query :meth:`q2e_stats` counts it under (two range reads on the ids)."""
        with self._read() as db:
            shown = db.execute("SELECT i.id, s.normalized_query, i.entity_id, i.rank FROM impressions i "
                               "JOIN searches s ON s.id = i.search_id WHERE i.id > ? ORDER BY i.id",
                               [after[0]]).fetchall()
            events = db.execute("SELECT f.id, COALESCE(s.normalized_query, f.normalized_query), f.entity_id, f.kind "
                                "FROM feedback f LEFT JOIN searches s ON s.id = f.search_id WHERE f.id > ? "
                                "ORDER BY f.id", [after[1]]).fetchall()
        return [ShownRow(*row) for row in shown], [EventRow(*row) for row in events]

    def bandit_log(self, source: str | None = None) -> list[BanditLogRecord]:
        """Every search with at least one bandit update, oldest first: the replay / off-policy log."""
        condition, params = where({"s.source": source})
        sql = (
            "SELECT s.id, s.features, s.chosen_arms, s.propensity, s.policy, b.arm, b.reward "
            f"FROM searches s JOIN bandit_updates b ON b.search_id = s.id{condition} ORDER BY s.id, b.rowid"
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

    def q2e_stats(self, source: str | None = None, through: tuple[int, int] = UNBOUNDED) -> list[Q2EStat]:
        """Per (normalized query, entity): examined impressions (the examination probability of each
        impression's rank, summed), clicks, thumbs up/down.

        Feedback tied to a search counts under that search's normalized query; feedback
        without one under its own normalized query. ``source`` filters searches and events;
        imported logs (committed imports only) count only when it is None (every source).
        ``through`` (impression id, feedback id) leaves out the rows logged after them.
        """
        search_where, search_params = where({"s.source": source})
        feedback_where, feedback_params = where({"f.source": source})
        search_where = (search_where or " WHERE 1") + " AND i.id <= ?"
        feedback_where = (feedback_where or " WHERE 1") + " AND f.id <= ?"
        imported_imp = imported_fb = ""
        if source is None:
            imported_imp = ("UNION ALL SELECT normalized_query, entity_id, examination(position) "
                            "FROM committed_log_events WHERE event = 'impression'")
            imported_fb = ("UNION ALL SELECT normalized_query, entity_id, event FROM committed_log_events "
                           "WHERE event != 'impression'")
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
            rows = db.execute(sql, [*search_params, through[0], *feedback_params, through[1]]).fetchall()
        return [Q2EStat(*row) for row in rows]

    def query_counts(self, source: str | None = None) -> list[tuple[str, str, str, int]]:
        """Every distinct logged query: ``(normalized, latest text, category, searches)``, most searched
        first (ties by normalized text); ``source`` filters the searches."""
        if source is not None and source not in SOURCES:
            raise ValueError(f"source: {source!r} is not one of {SOURCES}")
        condition, params = where({"source": source})
        sql = (f"SELECT normalized_query, query, COALESCE(category, ''), n FROM (SELECT normalized_query, query, "
               f"category, COUNT(*) OVER (PARTITION BY normalized_query) AS n, ROW_NUMBER() OVER "
               f"(PARTITION BY normalized_query ORDER BY id DESC) AS newest FROM searches{condition}) "
               "WHERE newest = 1 AND normalized_query != '' ORDER BY n DESC, normalized_query")
        with self._read() as db:
            return [tuple(row) for row in db.execute(sql, params).fetchall()]

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

"""Query analytics over the search log: per-query outcomes (zero results, abandonment), their trend per
time bucket, click positions, what only one strategy found, and click statistics for COEC judgments."""

from __future__ import annotations

from typing import NamedTuple, Sequence

import pandas as pd

from ltrr_core.base.records import FEEDBACK_KINDS, SOURCES, check_choice, integer
from ltrr_core.feedback.store.core import StoreCore

QUERY_OUTCOME_COLUMNS = ("normalized_query", "query", "searches", "zero_result", "no_click", "no_positive", "clicks")
TREND_COLUMNS = ("bucket", "normalized_query", "searches", "zero_result", "no_click", "no_positive", "clicks")
CLICK_POSITION_COLUMNS = ("bucket", "rank", "clicks")
STRATEGY_FIND_COLUMNS = ("strategy", "confirmed", "found", "only_found")
# One search's outcomes, summed over a group of searches (the order of the *_COLUMNS after the keys).
_OUTCOMES = ("COUNT(*), SUM(NOT has_results), SUM(has_results AND clicks = 0), "
             "SUM(has_results AND NOT positive), SUM(clicks)")


class ClickStat(NamedTuple):
    """One (normalized query, entity) pair's shown results and clicks: raw impressions, examined
    impressions (the curve in use summed over their ranks) and clicks on them."""

    query: str
    entity_id: str
    impressions: int
    examined: float
    clicks: int


def _kinds(name: str, kinds: Sequence[str]) -> str:
    """``'a', 'b'``: event kinds as an SQL list, each checked against the kinds the log knows."""
    if not kinds:
        raise ValueError(f"{name}: give at least one event kind")
    for kind in kinds:
        check_choice(name, kind, FEEDBACK_KINDS)
    return ", ".join(f"'{kind}'" for kind in kinds)


def _source(source: str | None, column: str) -> tuple[str, list]:
    """`` AND column = ?`` and its parameter for a source filter (nothing for None)."""
    if source is None:
        return "", []
    check_choice("source", source, SOURCES)
    return f" AND {column} = ?", [source]


def _per_search(positive: Sequence[str], source: str | None) -> tuple[str, list]:
    """A CTE ``s``: one row per logged search (non-empty query) with its outcome flags; its parameters."""
    condition, params = _source(source, "s.source")
    sql = f"""s AS (
        SELECT s.id, s.created_at, s.query, s.normalized_query AS q,
               EXISTS (SELECT 1 FROM impressions i WHERE i.search_id = s.id) AS has_results,
               (SELECT COUNT(*) FROM feedback f WHERE f.search_id = s.id AND f.kind = 'click') AS clicks,
               EXISTS (SELECT 1 FROM feedback f WHERE f.search_id = s.id
                       AND f.kind IN ({_kinds('positive', positive)})) AS positive
        FROM searches s WHERE s.normalized_query != ''{condition})"""
    return sql, params


def _bucket(bucket_s: int, column: str) -> str:
    """The UTC start (epoch seconds) of ``column``'s time bucket of ``bucket_s`` seconds."""
    size = integer("bucket_s", bucket_s, low=1)
    return f"CAST({column} / {size} AS INTEGER) * {size}"


def _timed(rows: list, columns: tuple[str, ...]) -> pd.DataFrame:
    """Rows whose first column is a bucket's epoch seconds, as a table with UTC datetimes."""
    table = pd.DataFrame.from_records(rows, columns=list(columns))
    table["bucket"] = pd.to_datetime(table["bucket"].astype("float64"), unit="s", utc=True)
    return table


class AnalyticsRepository(StoreCore):
    """Read-only aggregates of the search log: what a search team looks at every morning."""

    def log_span(self, source: str | None = None) -> tuple[float, float] | None:
        """The first and last search's time (epoch seconds), or None when nothing was searched."""
        condition, params = _source(source, "source")
        with self._read() as db:
            first, last = db.execute(f"SELECT MIN(created_at), MAX(created_at) FROM searches WHERE 1{condition}",
                                     params).fetchone()
        return None if first is None else (first, last)

    def query_outcomes(self, positive: Sequence[str], source: str | None = None) -> pd.DataFrame:
        """One row per normalized query, most searched first: its latest text, searches, searches that
        showed nothing (``zero_result``), that showed results but got no click (``no_click``) or no
        ``positive`` event (``no_positive``), and clicks."""
        cte, params = _per_search(positive, source)
        sql = (f"WITH {cte}, latest AS (SELECT q, query, ROW_NUMBER() OVER (PARTITION BY q ORDER BY id DESC) AS n "
               f"FROM s) SELECT s.q, latest.query, {_OUTCOMES} FROM s JOIN latest ON latest.q = s.q AND latest.n = 1 "
               "GROUP BY s.q ORDER BY COUNT(*) DESC, s.q")
        with self._read() as db:
            rows = db.execute(sql, params).fetchall()
        return pd.DataFrame.from_records(rows, columns=list(QUERY_OUTCOME_COLUMNS))

    def query_trend(self, bucket_s: int, positive: Sequence[str], source: str | None = None) -> pd.DataFrame:
        """:meth:`query_outcomes` per time bucket of ``bucket_s`` seconds (``bucket``: its UTC start) and
        query, oldest bucket first."""
        cte, params = _per_search(positive, source)
        sql = (f"WITH {cte} SELECT {_bucket(bucket_s, 'created_at')} AS b, q, {_OUTCOMES} FROM s "
               "GROUP BY b, q ORDER BY b, q")
        with self._read() as db:
            rows = db.execute(sql, params).fetchall()
        return _timed(rows, TREND_COLUMNS)

    def click_positions(self, bucket_s: int, source: str | None = None) -> pd.DataFrame:
        """Clicks by the rank their result was shown at, per time bucket of ``bucket_s`` seconds."""
        condition, params = _source(source, "f.source")
        sql = (f"SELECT {_bucket(bucket_s, 'f.created_at')} AS b, r, COUNT(*) FROM ("
               "SELECT f.created_at, (SELECT MIN(i.rank) FROM impressions i WHERE i.search_id = f.search_id "
               "AND i.entity_id = f.entity_id) AS r FROM feedback f "
               f"WHERE f.kind = 'click' AND f.search_id IS NOT NULL{condition}) AS f "
               "WHERE r IS NOT NULL GROUP BY b, r ORDER BY b, r")
        with self._read() as db:
            rows = db.execute(sql, params).fetchall()
        return _timed(rows, CLICK_POSITION_COLUMNS)

    def strategy_finds(self, confirming: Sequence[str], source: str | None = None) -> pd.DataFrame:
        """Per strategy, over the confirmed items (a shown result with a ``confirming`` event, once per
        search): how many there are in all, how many it found (``found_by``), how many only it found."""
        condition, params = _source(source, "f.source")
        sql = f"""
            WITH confirmed AS (
                SELECT (SELECT i.found_by FROM impressions i WHERE i.search_id = c.search_id
                        AND i.entity_id = c.entity_id ORDER BY i.rank LIMIT 1) AS found_by
                FROM (SELECT DISTINCT f.search_id, f.entity_id FROM feedback f WHERE f.search_id IS NOT NULL
                      AND f.kind IN ({_kinds('confirming', confirming)}){condition}) AS c
            ), shown AS (SELECT found_by FROM confirmed WHERE found_by IS NOT NULL)
            SELECT j.value, (SELECT COUNT(*) FROM shown), COUNT(*), SUM(json_array_length(shown.found_by) = 1)
            FROM shown, json_each(shown.found_by) AS j GROUP BY j.value ORDER BY j.value"""
        with self._read() as db:
            rows = db.execute(sql, params).fetchall()
        return pd.DataFrame.from_records(rows, columns=list(STRATEGY_FIND_COLUMNS))

    def click_stats(self, source: str | None = None) -> list[ClickStat]:
        """Per (normalized query, entity) shown at least once: impressions, examined impressions under
        the curve in use (``examination(rank)`` summed) and clicks on a search that showed it. Imported
        logs (committed imports) count when ``source`` is None (every source)."""
        search_cond, search_params = _source(source, "s.source")
        click_cond, click_params = _source(source, "f.source")
        imported_imp = imported_clicks = ""
        if source is None:
            imported_imp = ("UNION ALL SELECT normalized_query, entity_id, position FROM committed_log_events "
                            "WHERE event = 'impression'")
            imported_clicks = ("UNION ALL SELECT normalized_query, entity_id, COUNT(*) FROM committed_log_events "
                               "WHERE event = 'click' GROUP BY normalized_query, entity_id")
        sql = f"""
            WITH shown AS (
                SELECT q, e, COUNT(*) AS n, SUM(examination(r)) AS examined FROM (
                    SELECT s.normalized_query AS q, i.entity_id AS e, i.rank AS r
                    FROM impressions i JOIN searches s ON s.id = i.search_id WHERE 1{search_cond}
                    {imported_imp}
                ) GROUP BY q, e
            ), clicked AS (
                SELECT q, e, SUM(n) AS clicks FROM (
                    SELECT s.normalized_query AS q, f.entity_id AS e, COUNT(*) AS n
                    FROM feedback f JOIN searches s ON s.id = f.search_id
                    WHERE f.kind = 'click'{click_cond} AND EXISTS (SELECT 1 FROM impressions i
                        WHERE i.search_id = f.search_id AND i.entity_id = f.entity_id) GROUP BY q, e
                    {imported_clicks}
                ) GROUP BY q, e
            )
            SELECT shown.q, shown.e, shown.n, shown.examined, COALESCE(clicked.clicks, 0)
            FROM shown LEFT JOIN clicked ON clicked.q = shown.q AND clicked.e = shown.e
            WHERE shown.q != '' ORDER BY shown.q, shown.e"""
        with self._read() as db:
            rows = db.execute(sql, [*search_params, *click_params]).fetchall()
        return [ClickStat(*row) for row in rows]

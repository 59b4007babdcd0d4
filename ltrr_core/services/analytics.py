"""The query-analytics face: what a search team looks at every morning (Algolia's and Kibana's views),
read back from the log — top queries, queries with no results, abandoned queries (results but no
click, or no positive event), where clicks land, each over time (per hour when the log spans up to
two days, else per day) — with what only one strategy found among the confirmed items, recall at depth
per strategy on labelled queries (Vespa's match-phase recall) and the judgments clicks imply (COEC)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Sequence

import pandas as pd

from ltrr_core.evaluation.click_judgments import DEFAULT_MIN_IMPRESSIONS, click_judgments
from ltrr_core.evaluation.query_sets import label_qrels
from ltrr_core.selection.context import Context
from ltrr_core.services.runtime import Runtime

HOUR_S, DAY_S = 3600, 86400
HOURLY_SPAN_S = 2 * DAY_S  # a log spanning up to two days is bucketed by hour, a longer one by day
CONFIRMING = ("click", "engage", "thumbs_up")  # events that confirm a shown result (a click shows interest)
MEASURES = ("searches", "zero_result", "no_click", "no_positive", "clicks")
RECALL_COLUMNS = ("strategy", "depth", "queries", "recall")


@dataclass(frozen=True)
class AnalyticsSummary:
    """The log at a glance: searches and distinct queries, searches that showed nothing, searches with
    results and no click / no positive event, clicks; the first and last search; the trend bucket."""

    searches: int
    queries: int
    zero_result: int
    no_click: int
    no_positive: int
    clicks: int
    first: datetime | None
    last: datetime | None
    bucket: str  # "hour" or "day"


def _rate(part: pd.Series, whole: pd.Series) -> pd.Series:
    return (part / whole.where(whole > 0)).fillna(0.0)


class AnalyticsService:
    """Query analytics over one :class:`Runtime`'s log (read only)."""

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    def _positive(self) -> tuple[str, ...]:
        return tuple(self._rt.loop.window.positive)

    def _bucket(self, source: str | None) -> tuple[str, int]:
        span = self._rt.store.log_span(source)
        return ("hour", HOUR_S) if span is None or span[1] - span[0] <= HOURLY_SPAN_S else ("day", DAY_S)

    def summary(self, source: str | None = None) -> AnalyticsSummary:
        """The log at a glance (``source``: human or simulated searches only; None: every search)."""
        outcomes = self._rt.store.query_outcomes(self._positive(), source)
        span = self._rt.store.log_span(source)
        first, last = (None, None) if span is None else (
            datetime.fromtimestamp(span[0], timezone.utc), datetime.fromtimestamp(span[1], timezone.utc))
        totals = {m: int(outcomes[m].sum()) for m in MEASURES}
        return AnalyticsSummary(queries=len(outcomes), first=first, last=last, bucket=self._bucket(source)[0], **totals)

    def _outcomes(self, source: str | None) -> pd.DataFrame:
        """Every query's outcomes with their rates, most searched first."""
        table = self._rt.store.query_outcomes(self._positive(), source)
        shown = table["searches"] - table["zero_result"]
        table["share"] = _rate(table["searches"], pd.Series(table["searches"].sum(), index=table.index))
        table["zero_result_rate"] = _rate(table["zero_result"], table["searches"])
        table["no_click_rate"] = _rate(table["no_click"], shown)
        table["no_positive_rate"] = _rate(table["no_positive"], shown)
        return table

    def top_queries(self, limit: int = 20, source: str | None = None) -> pd.DataFrame:
        """The most searched queries: searches, share of all searches, zero-result and abandonment counts and
        rates (``no_click_rate``, ``no_positive_rate``: of the searches that showed results)."""
        return self._outcomes(source).head(limit).reset_index(drop=True)

    def zero_result_queries(self, limit: int = 20, source: str | None = None) -> pd.DataFrame:
        """Queries that showed nothing at least once, most zero-result searches first."""
        table = self._outcomes(source)
        table = table[table["zero_result"] > 0].sort_values(["zero_result", "normalized_query"],
                                                            ascending=[False, True], kind="stable")
        return table.head(limit).reset_index(drop=True)

    def abandoned_queries(self, limit: int = 20, by: str = "click", source: str | None = None) -> pd.DataFrame:
        """Queries whose results went without a click (``by="click"``) or without a positive event
        (``by="positive"``, the reward window's kinds), most abandoned searches first."""
        if by not in ("click", "positive"):
            raise ValueError(f"by: {by!r} is not one of ('click', 'positive')")
        column = f"no_{by}"
        table = self._outcomes(source)
        table = table[table[column] > 0].sort_values([column, "normalized_query"], ascending=[False, True],
                                                    kind="stable")
        return table.head(limit).reset_index(drop=True)

    def trend(self, queries: Sequence[str] | None = None, source: str | None = None) -> pd.DataFrame:
        """Searches, zero-result searches, abandoned searches and clicks per time bucket: of the whole log
        (``normalized_query`` "(all)") or of each of ``queries`` (normalized texts)."""
        table = self._rt.store.query_trend(self._bucket(source)[1], self._positive(), source)
        if queries is not None:
            return table[table["normalized_query"].isin(list(queries))].reset_index(drop=True)
        totals = table.groupby("bucket", as_index=False)[list(MEASURES)].sum()
        totals.insert(1, "normalized_query", "(all)")
        return totals

    def click_positions(self, source: str | None = None) -> pd.DataFrame:
        """Clicks by the rank the clicked result was shown at, with each rank's share of the clicks."""
        table = self.click_position_trend(source).groupby("rank", as_index=False)["clicks"].sum()
        table["share"] = _rate(table["clicks"], pd.Series(table["clicks"].sum(), index=table.index))
        return table

    def click_position_trend(self, source: str | None = None) -> pd.DataFrame:
        """Clicks per time bucket and rank."""
        return self._rt.store.click_positions(self._bucket(source)[1], source)

    def strategy_finds(self, source: str | None = None) -> pd.DataFrame:
        """Per strategy, over the confirmed items (a shown result clicked, engaged with or thumbed up):
        how many it found (``found_share`` of all confirmed) and how many only it found (``only_share``)."""
        table = self._rt.store.strategy_finds(CONFIRMING, source)
        table["found_share"] = _rate(table["found"], table["confirmed"])
        table["only_share"] = _rate(table["only_found"], table["confirmed"])
        return table

    def strategy_recall(self, depth: int = 100, min_grade: int = 1, judge: str | None = None,
                        max_queries: int = 200) -> pd.DataFrame:
        """Recall at ``depth`` per strategy on the labelled queries (the first ``max_queries`` by text): the
        mean share of a query's items graded ``min_grade`` or more that the strategy retrieves alone in its
        top ``depth`` (the candidates a ranker can still rank). Empty when nothing is labelled."""
        qrels = label_qrels(self._rt.store.labels(judge=judge))
        relevant = {q: {e for e, g in grades.items() if g >= min_grade} for q, grades in sorted(qrels.items())}
        relevant = dict(list(((q, r) for q, r in relevant.items() if r))[:max_queries])
        rows = []
        pipeline = self._rt.pipeline
        understood = [pipeline.understand(q) for q in relevant]
        for name in self._rt.strategy_names:
            recalls = [len(items & set(pipeline.retrieve(name, u, Context(), depth).ids)) / len(items)
                       for u, items in zip(understood, relevant.values())]
            if recalls:
                rows.append((name, depth, len(recalls), sum(recalls) / len(recalls)))
        return pd.DataFrame.from_records(rows, columns=list(RECALL_COLUMNS))

    def click_judgments(self, min_impressions: int = DEFAULT_MIN_IMPRESSIONS) -> pd.DataFrame:
        """The judgments the log's clicks imply (``--judgments clicks``): one row per (query, result)
        shown at least ``min_impressions`` times, with clicks, expected clicks, COEC and grade."""
        judged = click_judgments(self._rt.store.click_stats(), min_impressions)
        columns = ["query", "entity_id", "impressions", "clicks", "expected", "coec", "grade"]
        return pd.DataFrame([[getattr(j, c) for c in columns] for j in judged], columns=columns)

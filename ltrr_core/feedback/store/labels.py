"""Relevance labels: a graded judgment per (normalized query, entity, judge)."""

from __future__ import annotations

from typing import Iterable

import pandas as pd

from ltrr_core.base.records import Label
from ltrr_core.feedback.store.core import StoreCore, frame, where
from ltrr_core.understanding.text import normalize

LABEL_COLUMNS = ("query", "normalized_query", "entity_id", "grade", "judge", "source", "updated_at")


class LabelRepository(StoreCore):
    """Labels by judge; queries are keyed by their normalized text."""

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

    def labels(self, judge: str | None = None) -> list[Label]:
        """Relevance labels, optionally of one judge, ordered by query, entity, judge."""
        condition, params = where({"judge": judge})
        sql = f"SELECT {', '.join(LABEL_COLUMNS)} FROM labels{condition} ORDER BY normalized_query, entity_id, judge"
        with self._read() as db:
            rows = db.execute(sql, params).fetchall()
        return [Label(**dict(zip(LABEL_COLUMNS, row))) for row in rows]

    def labels_frame(self, judge: str | None = None) -> pd.DataFrame:
        """:meth:`labels` as a table (one row per label)."""
        rows = [{name: getattr(label, name) for name in LABEL_COLUMNS} for label in self.labels(judge)]
        return frame(rows, LABEL_COLUMNS, "updated_at")

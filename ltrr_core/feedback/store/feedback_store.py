"""FeedbackStore: the SQLite log of searches, impressions, feedback, bandit updates, labels, experiments,
interleaving, imported logs, query notes, the examination curve and the settings processes share (and query analytics
over them), composed from one repository per record kind."""

from __future__ import annotations

from pathlib import Path

from ltrr_core.base.examination import ExaminationCurve
from ltrr_core.feedback.store.analytics import AnalyticsRepository
from ltrr_core.feedback.store.core import DEFAULT_TIMEOUT_S, GENERATIONS, StoreError, bump
from ltrr_core.feedback.store.curve import CurveRepository
from ltrr_core.feedback.store.experiments import ExperimentRepository
from ltrr_core.feedback.store.imported_logs import ImportedLogRepository
from ltrr_core.feedback.store.interleaving import InterleavingRepository
from ltrr_core.feedback.store.labels import LabelRepository
from ltrr_core.feedback.store.notes import NoteRepository
from ltrr_core.feedback.store.searches import SearchRepository
from ltrr_core.feedback.store.shared import SharedStateRepository

__all__ = ["FeedbackStore", "StoreError"]

LEARNING_TABLES = ("bandit_updates", "feedback", "impressions", "interleaved_searches", "searches")  # children first
# Imported interaction logs and what was learnt from them (child tables first).
IMPORT_TABLES = ("replayed_rounds", "log_events", "log_imports", "examination_curve")


class FeedbackStore(SearchRepository, LabelRepository, ExperimentRepository, InterleavingRepository,
                    ImportedLogRepository, CurveRepository, SharedStateRepository, AnalyticsRepository,
                    NoteRepository):
    """The feedback database at ``path`` (created with its folder if missing).

    ``timeout`` is how long a write waits for another process's lock before raising
    :class:`StoreError`. Safe to share between threads: each thread gets its own
    connection, and writers of one process queue on a lock instead of polling SQLite.
    Opening it removes what an import killed mid-way left staged.
    """

    def __init__(self, path: str | Path, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        super().__init__(path, timeout)
        self._drop_abandoned_imports()
        self.reload_curve()

    def reset_learning(self) -> dict[str, int]:
        """Delete searches, impressions, feedback and bandit updates, and any imported logs with what
        was learnt from them; **labels are kept** (so is the chosen policy). Both generations advance
        in the same transaction: every process sharing the database rebuilds at its next catch-up.

        Returns how many rows each table lost (an import table only when it held rows).
        """
        with self._write() as db:
            deleted = {table: db[table].count for table in LEARNING_TABLES}
            imported = {table: db[table].count for table in IMPORT_TABLES}
            for table in IMPORT_TABLES + LEARNING_TABLES:
                db.execute(f"DELETE FROM {table}")
            bump(db, *GENERATIONS)
        self.curve = ExaminationCurve()
        return deleted | {table: n for table, n in imported.items() if n}

"""The examination curve estimated from traffic (the probability that a result at a rank is looked at)."""

from __future__ import annotations

import time
from typing import Sequence

from ltrr_core.base.examination import ExaminationCurve
from ltrr_core.feedback.store.core import STATS_GENERATION, StoreCore, bump


class CurveRepository(StoreCore):
    """The stored curve; ``self.curve`` is the one in use (SQL's ``examination()`` reads it)."""

    def save_examination_curve(self, probabilities: Sequence[float]) -> ExaminationCurve:
        """Store an estimated examination curve (rank 1 first) and use it from now on; empty: the prior.
        The memory's aggregate changes with it: the stats generation advances."""
        curve = ExaminationCurve(tuple(probabilities))
        now = time.time()
        with self._write() as db:
            db.execute("DELETE FROM examination_curve")
            db.conn.executemany("INSERT INTO examination_curve (rank, probability, updated_at) VALUES (?, ?, ?)",
                                [(rank, p, now) for rank, p in enumerate(curve.estimated, start=1)])
            bump(db, STATS_GENERATION)
        self.curve = curve
        return curve

    def reload_curve(self) -> ExaminationCurve:
        """Use the stored curve (the prior when none was estimated): another process may have stored one."""
        with self._read() as db:
            rows = db.execute("SELECT probability FROM examination_curve ORDER BY rank").fetchall()
        self.curve = ExaminationCurve(tuple(p for (p,) in rows))
        return self.curve

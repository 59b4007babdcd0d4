"""What the processes sharing one database read before they learn: where the logs end, the generations
of what was rewritten under them, and the settings every process follows (the chosen policy)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from ltrr_core.feedback.store.core import LOG_GENERATION, STATS_GENERATION, StoreCore

POLICY = "policy"  # the settings key of the chosen policy
# One read of indexed maxima and single rows: what a catch-up costs when nothing is new.
_POSITION = f"""SELECT
    (SELECT value FROM store_meta WHERE key = '{LOG_GENERATION}'),
    (SELECT value FROM store_meta WHERE key = '{STATS_GENERATION}'),
    (SELECT COALESCE(MAX(rowid), 0) FROM bandit_updates),
    (SELECT COALESCE(MAX(id), 0) FROM impressions),
    (SELECT COALESCE(MAX(id), 0) FROM feedback),
    (SELECT value FROM settings WHERE key = '{POLICY}')"""


@dataclass(frozen=True)
class LogPosition:
    """One consistent reading of the shared database: the generations (:data:`core.GENERATIONS`), the
    last row of the reward log, the last impression and feedback ids, and the chosen policy's
    record (None when none was chosen or it does not parse)."""

    log_generation: int
    stats_generation: int
    last_seq: int
    impressions: int
    feedback: int
    policy: dict | None


class SharedStateRepository(StoreCore):
    """The log's position and generations, and the settings every process follows."""

    def log_position(self) -> LogPosition:
        """Where the log stands now (one read)."""
        with self._read() as db:
            log_generation, stats_generation, last_seq, impressions, feedback, policy = db.execute(_POSITION).fetchone()
        try:
            record = json.loads(policy) if policy is not None else None
        except ValueError:
            record = None
        return LogPosition(int(log_generation), int(stats_generation), last_seq, impressions, feedback,
                           record if isinstance(record, dict) else None)

    def choose_policy(self, record: dict) -> None:
        """Store the policy every process sharing the database follows (its fields as JSON)."""
        with self._write() as db:
            db.conn.execute("INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) "
                            "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                            (POLICY, json.dumps(record, sort_keys=True), time.time()))

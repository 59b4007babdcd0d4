"""Offline experiment snapshots: one header per run and one result row per configuration and query."""

from __future__ import annotations

import json
from typing import Iterable

import pandas as pd

from ltrr_core.base.records import integer, to_json
from ltrr_core.feedback.store.core import StoreCore, frame, insert_sql

EXPERIMENT_COLUMNS = ("created_at", "catalog_hash", "catalog_source", "query_set", "judgments", "configurations",
                      "baseline", "qrels", "queries", "summary")
EXPERIMENT_JSON_COLUMNS = ("configurations", "qrels", "queries", "summary")
EXPERIMENT_RESULT_COLUMNS = ("configuration", "query_id", "ranked", "metrics", "candidates", "ms", "strategy_ms")
EXPERIMENT_RESULT_JSON_COLUMNS = ("ranked", "metrics", "strategy_ms")


class ExperimentRepository(StoreCore):
    """Experiment snapshots, written whole and read back as they were run."""

    def save_experiment(self, header: dict, results: Iterable[dict]) -> int:
        """Store an experiment snapshot (``EXPERIMENT_COLUMNS``) and its per-query results
        (``EXPERIMENT_RESULT_COLUMNS``) in one transaction; returns the snapshot id."""
        row = tuple(to_json(header[c]) if c in EXPERIMENT_JSON_COLUMNS else header[c] for c in EXPERIMENT_COLUMNS)
        with self._write() as db:
            experiment_id = db.conn.execute(insert_sql("experiments", EXPERIMENT_COLUMNS), row).lastrowid
            db.conn.executemany(
                insert_sql("experiment_results", ("experiment_id", *EXPERIMENT_RESULT_COLUMNS)),
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
        return frame(rows, columns, "created_at")

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

"""Interaction-log import speed, streaming: events/s and the process's peak memory.

Writes a synthetic log of ``--events`` rows (pages of 10 impressions over the default catalog's
ids, about one click per page) to a temporary CSV, then imports it into a fresh database in one
transaction (``ltrr_core.feedback.log_import.import_log``, what ``ltrr logs import`` runs), and
re-reads the memory statistics the engine would load. Peak RSS is read before and after: a
streaming import grows it by far less than the file.

Run: ``PYTHONPATH=. nice -n 10 .venv/bin/python benchmarks/bench_log_import.py [--events 1000000]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from ltrr_core.catalog.sources import load_catalog
from ltrr_core.feedback.log_import import LOG_COLUMNS, import_log
from ltrr_core.feedback.store.feedback_store import FeedbackStore


def write_synthetic(path: Path, ids: list[str], events: int, seed: int = 0) -> int:
    rng = np.random.default_rng(seed)
    queries = [f"query {i}" for i in range(5000)]
    written, page, t = 0, 0, 1767225600.0
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(LOG_COLUMNS)
        while written < events:
            query, session = queries[int(rng.integers(len(queries)))], f"s{page % 20000}"
            shown = rng.choice(len(ids), 10, replace=False)
            for rank, row in enumerate(shown, start=1):
                out.writerow([f"{t:.3f}", session, query, ids[row], "impression", rank, "0.5", "prod"])
            written += 10
            click = int(rng.integers(10))
            out.writerow([f"{t + 2:.3f}", session, query, ids[shown[click]], "click", "", "", ""])
            written += 1
            page, t = page + 1, t + 7.0
    return written


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    catalog = load_catalog("default")
    ids = [e.id for e in catalog]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log.csv"
        rows = write_synthetic(path, ids, args.events)
        store = FeedbackStore(Path(tmp) / "bench.db")
        before = peak_mib()
        with path.open("rb") as fh:
            report = import_log(store, catalog, str(path), fh, size=path.stat().st_size)
        after = peak_mib()
        start = time.perf_counter()
        stats = store.q2e_stats()
        q2e_s = time.perf_counter() - start
        print(json.dumps({"events": report.events, "rows_written": rows, "pages": report.pages,
                          "file_mib": round(path.stat().st_size / 2**20, 1), "import_s": round(report.seconds, 1),
                          "events_per_s": round(report.events_per_s), "peak_rss_mib_before": round(before),
                          "peak_rss_mib_after": round(after), "q2e_pairs": len(stats), "q2e_reload_s": round(q2e_s, 1)}))


if __name__ == "__main__":
    main()

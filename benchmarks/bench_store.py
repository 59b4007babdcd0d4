"""Median latency of FeedbackStore writes: one feedback event, and one search bundle with 20 impressions.

Run: .venv/bin/python benchmarks/bench_store.py [--n 300]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from ltrr_core.base.records import FeedbackEvent, ImpressionRow, SearchRecord
from ltrr_core.feedback.store.feedback_store import FeedbackStore


def _search(i: int) -> SearchRecord:
    return SearchRecord(
        query=f"query {i}", normalized_query=f"query {i}", user_id="bench", features=[1.0] + [0.1] * 19,
        policy="linucb",
        arms_scored=[{"arm": a, "expected": 0.2, "bonus": 0.1, "score": 0.3, "picked": a != "memory", "why": "bench"}
                     for a in ("bm25", "dense", "fuzzy", "memory")],
        chosen_arms=["bm25", "dense", "fuzzy"], propensity=0.5, ranker="fusion",
        context={"hour": 12, "weekday": 3}, timings={"retrieve": 2.0, "rank": 1.0}, source="simulated",
    )


def _median_ms(action, n: int) -> tuple[float, float]:
    samples = []
    for i in range(n):
        start = time.perf_counter()
        action(i)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (n - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="timed calls per operation")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, FeedbackStore(Path(tmp) / "bench.db") as store:
        impressions = [ImpressionRow(f"e{r}", r, 1.0 / r, ("bm25", "dense")) for r in range(1, 21)]
        search_id = store.log_search_bundle(_search(0), impressions)
        figures = {
            "search bundle (1 search + 20 impressions)": _median_ms(
                lambda i: store.log_search_bundle(_search(i), impressions), args.n),
            "feedback event": _median_ms(
                lambda i: store.log_response(search_id, [FeedbackEvent(search_id, "query 0", f"e{i % 20 + 1}", "click", "simulated", "bench")]),
                args.n),
        }
        many = [FeedbackEvent(None, "q", f"e{i}", "click", "simulated", "bench") for i in range(args.n * 10)]
        start = time.perf_counter()
        store.log_feedback_many(many)
        per_event = (time.perf_counter() - start) * 1000 / len(many)
    print(f"FeedbackStore writes, median of {args.n} calls (WAL, synchronous=NORMAL):")
    for name, (median, p95) in figures.items():
        print(f"  {name:<45} median {median:7.3f} ms   p95 {p95:7.3f} ms")
    print(f"  {'log_feedback_many, per event':<45} {per_event:7.3f} ms   ({len(many)} events in one transaction)")


if __name__ == "__main__":
    main()

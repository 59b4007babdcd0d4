"""``ltrr bench search``: end-to-end and per-stage latency with all six strategies, and start times."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ltrr_core.catalog.sources import load_catalog
from ltrr_core.base.config import Settings
from ltrr_core.engine import Engine
from ltrr_core.selection.bandit import PolicyConfig
from ltrr_core.simulation.traffic import TrafficGenerator

BENCH_MIX = {"spearfish": 0.4, "broad": 0.25, "semantic": 0.25, "fresh": 0.1}
WARM_UP_QUERIES = 20


def _start_seconds(source: str, settings: Settings) -> float:
    """Engine.open + warm_up in a fresh process (what a second app or CLI start costs)."""
    code = (
        "import time; t = time.perf_counter();"
        "from ltrr_core.engine import Engine; from ltrr_core.base.config import Settings;"
        f"Engine.open({source!r}, Settings(cache_dir={str(settings.cache_dir)!r}, db_path={str(settings.db_path)!r},"
        f" model={settings.model!r}, backend={settings.backend!r})).searching.warm_up();"
        "print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def percentiles(values: list[float]) -> dict[str, float]:
    return {"p50": round(float(np.percentile(values, 50)), 3), "p95": round(float(np.percentile(values, 95)), 3)}


def time_searches(engine: Engine, intents: list) -> tuple[list[float], dict[str, list[float]]]:
    """Search every intent after the first ``WARM_UP_QUERIES`` (which warm caches up): each
    search's wall milliseconds, and every trace stage's milliseconds per search."""
    for intent in intents[:WARM_UP_QUERIES]:
        engine.searching.search(intent.query, intent.context)
    totals: list[float] = []
    stages: dict[str, list[float]] = {}
    for intent in intents[WARM_UP_QUERIES:]:
        t = time.perf_counter()
        result = engine.searching.search(intent.query, intent.context)
        totals.append((time.perf_counter() - t) * 1000)
        for stage, ms in result.timings.items():
            stages.setdefault(stage, []).append(ms)
    return totals, stages


def bench_search(source: str, n_queries: int, settings: Settings, seed: int = 7) -> dict:
    """Run ``n_queries`` generated queries (exact titles, typo'd names, genre/mood phrases,
    descriptions) through the policy that picks all six strategies; report medians and p95."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = settings.with_(db_path=Path(tmp) / "bench.db")
        start = time.perf_counter()
        catalog = load_catalog(source)
        engine = Engine.open(source, settings, PolicyConfig(name="all"), catalog=catalog)
        built = engine.searching.warm_up()
        first_start = time.perf_counter() - start
        cold = engine.searching.embeddings_source == "computed"
        intents = TrafficGenerator(catalog, seed=seed).draw(n_queries + WARM_UP_QUERIES, BENCH_MIX)
        totals, stages = time_searches(engine, intents)
        warm = _start_seconds(source, settings)
    return {
        "source": source,
        "queries": n_queries,
        "strategies": engine.runtime.strategy_names,
        "end_to_end_ms": percentiles(totals),
        "stages_ms": {stage: percentiles(v) for stage, v in sorted(stages.items())},
        "cold_start_s": round(first_start, 2) if cold else None,
        "first_start_s": round(first_start, 2),
        "first_start_parts_s": {k: round(v, 2) for k, v in built.items()},
        "warm_start_s": round(warm, 2),
    }


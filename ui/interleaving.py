"""The Interleaving page's helpers: parse configuration specs, run a simulated experiment with a
progress callback, and render an experiment report's pairs as a table."""

from __future__ import annotations

from typing import Callable

import pandas as pd

from ltrr_core.engine import Configuration, Engine
from ltrr_core.evaluation.configurations import parse_configurations
from ltrr_core.services.interleaving_runs import InterleavingConfig, InterleavingRun


def configurations(eng: Engine, specs: str) -> list[Configuration]:
    """The configurations a comma-joined spec names (ConfigurationError names a bad part)."""
    return parse_configurations(specs, eng.strategy_names)


def run_simulated(eng: Engine, configs: list[Configuration], rounds: int, seed: int, alpha: float,
                  progress: Callable[[int, int], None]) -> dict:
    """A sandboxed interleaving experiment on simulated users; ``progress(done, rounds)`` after each batch."""
    run = InterleavingRun(eng, configs, InterleavingConfig(rounds=rounds, seed=seed, alpha=alpha))
    for _ in run.iter_batches(10):
        progress(run.searches, rounds)
    return run.summary()


def pairs_frame(report: dict) -> pd.DataFrame:
    """One row per pair: wins/losses/ties, the win rate and its confidence sequence, the test's state."""
    rows = [{
        "A": p["a"], "B": p["b"], "A wins": p["wins"], "B wins": p["losses"], "ties": p["ties"],
        "A win rate": round(p["win_rate"], 3),
        "interval (anytime 1-alpha)": f"{p['interval'][0]:.3f} - {p['interval'][1]:.3f}",
        "log LR / threshold": f"{p['log_ratio']:.2f} / {p['threshold']:.2f}",
        "decided at search": p["decided_at"] if p["decided_at"] is not None else "not yet",
        "better": p["better"] or "",
    } for p in report["pairs"]]
    return pd.DataFrame(rows)

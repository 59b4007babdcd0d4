"""The Interleaving page's renderer: an experiment report's pairs as a table."""

from __future__ import annotations

import pandas as pd


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

"""The Interleaving page's renderer: a tally's pairs as a table."""

from __future__ import annotations

import pandas as pd

from ltrr_core.services.experiments import TallyReport


def pairs_frame(tally: TallyReport) -> pd.DataFrame:
    """One row per pair: wins/losses/ties, A's win rate and its confidence sequence, the test's evidence."""
    interval = f"A win rate, {100 * (1 - tally.alpha_per_pair):.4g}% interval (valid at every search)"
    rows = [{
        "A": p.a, "B": p.b, "A wins": p.wins, "B wins": p.losses, "ties": p.ties,
        "A win rate": f"{p.win_rate:.1%}",
        interval: f"{p.interval[0]:.1%} - {p.interval[1]:.1%}",
        "evidence (log LR / needed)": f"{p.log_ratio:.2f} / {p.threshold:.2f}",
        "decided at search": p.decided_at if p.decided_at is not None else "not yet",
        "better": p.better or "",
    } for p in tally.pairs]
    return pd.DataFrame(rows)

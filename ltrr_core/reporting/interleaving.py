"""An interleaving experiment as a report: the verdict in words (:mod:`ltrr_core.evaluation.verdicts`)
beside each pair's wins, losses and ties, with every pair's anytime-valid interval."""

from __future__ import annotations

import plotly.graph_objects as go

from ltrr_core.evaluation.interleaving import TallyReport
from ltrr_core.evaluation.verdicts import interleaving_verdict
from ltrr_core.reporting.report import Interval, Report, Section


def _pairs_chart(tally: TallyReport) -> go.Figure:
    labels = [f"{p.a} vs {p.b}" for p in tally.pairs]
    figure = go.Figure([go.Bar(name=name, y=labels, x=[getattr(p, field) for p in tally.pairs], orientation="h")
                        for name, field in (("first wins", "wins"), ("ties", "ties"), ("second wins", "losses"))])
    figure.update_layout(title="Searches won per pair (clicks on each side's results)", barmode="stack",
                         xaxis_title="searches", height=max(260, 120 + 60 * len(labels)),
                         margin=dict(t=50, b=40, l=160, r=20), template="plotly_white")
    return figure


def interleaving_report(experiment: str, configurations: tuple[str, ...], tally: TallyReport) -> Report:
    """The verdict of interleaving ``experiment`` (its configuration specs, team order) and its pairs."""
    verdict = interleaving_verdict(tally)
    level = f"anytime-valid {1 - tally.alpha_per_pair:.0%} interval of the win rate, {tally.impressions:,} searches"
    intervals = tuple((f"{p.a}'s win rate over {p.b}: {p.win_rate:.0%}", Interval(*p.interval, level))
                      for p in tally.pairs)
    section = Section("Which configuration users preferred", (verdict.sentence,), _pairs_chart(tally), intervals)
    setup = (("interleaving experiment", experiment), ("configurations", ", ".join(configurations)),
             ("method", f"{tally.method}, {tally.test}"), ("searches", f"{tally.impressions:,}"),
             ("level", f"alpha {tally.alpha:g} for the family ({tally.alpha_per_pair:.3g} per pair)"))
    return Report("interleaving", f"Interleaving {experiment}", (section,), setup)

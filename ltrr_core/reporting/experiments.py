"""An experiment snapshot as a report: each configuration's main metric with its interval over
queries, the difference to the baseline with its p-value, and what each configuration cost."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ltrr_core.evaluation.experiments import Experiment
from ltrr_core.evaluation.verdicts import p_value_text
from ltrr_core.reporting.report import Report, Section, bar_chart, mean_interval


def p_text(p: float) -> str:
    """``"p < 0.001"`` or ``"p = 0.042"``."""
    text = p_value_text(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _comparison(name: str, metric: str, value: float, base: float, p: float, baseline: str) -> str:
    if math.isnan(p):
        return ""
    if p >= 0.05:
        return f"{name} scored {value:.3f}, no clear difference from {baseline} ({p_text(p)})"
    return (f"{name} scored {value:.3f}, {'better' if value > base else 'worse'} than {baseline} by "
            f"{abs(value - base):.3f} ({p_text(p)})")


def experiment_report(experiment: Experiment) -> Report:
    """The findings of a saved experiment in sentences, each section with its chart and intervals."""
    metric, table = experiment.metrics[0], experiment.table().set_index("configuration")
    names = experiment.names
    intervals = {n: mean_interval(np.array(list(experiment.per_query(n)[metric].values())), "queries") for n in names}
    base = float(table.loc[experiment.baseline, metric])
    best = max(names, key=lambda n: float(table.loc[n, metric]))
    lead = (f"On {len(experiment.qrels):,} judged queries, {best} ranked best by {metric} ({table.loc[best, metric]:.3f}); "
            f"the baseline {experiment.baseline} scored {base:.3f}.")
    others = [_comparison(n, metric, float(table.loc[n, metric]), base, float(table.loc[n, f"p {metric}"]),
                          experiment.baseline) for n in names if n != experiment.baseline]
    tests = ("; ".join(s for s in others if s) + " (Holm-adjusted paired t-tests).") if any(others) else None
    quality = Section(
        f"Ranking quality ({metric})", tuple(s for s in (lead, tests) if s),
        bar_chart(f"{metric} per configuration", names, [float(table.loc[n, metric]) for n in names],
                  [intervals[n] for n in names], metric, percent=False),
        tuple((f"{n} {metric}", intervals[n]) for n in names))
    candidates = {n: mean_interval(np.array([o.candidates for o in experiment.outcomes[n].values()]), "queries")
                  for n in names}
    cheapest = min(names, key=lambda n: float(table.loc[n, "candidates"]))
    cost = Section(
        "What it cost",
        (f"{best} pulled {table.loc[best, 'candidates']:,.0f} candidates per query (p50 {table.loc[best, 'p50 ms']:,.0f} ms "
         f"per search); the cheapest, {cheapest}, pulled {table.loc[cheapest, 'candidates']:,.0f} "
         f"(p50 {table.loc[cheapest, 'p50 ms']:,.0f} ms).",),
        bar_chart("Candidates per query", names, [float(table.loc[n, "candidates"]) for n in names],
                  [candidates[n] for n in names], "candidates", percent=False),
        tuple((f"{n} candidates per query", candidates[n]) for n in names))
    setup = (("snapshot", f"#{experiment.snapshot_id}"), ("catalog", experiment.catalog_source or experiment.catalog_hash),
             ("queries", f"{experiment.query_set} ({len(experiment.qrels):,} judged)"),
             ("judgments", experiment.judgments), ("baseline", experiment.baseline),
             ("configurations", ", ".join(f"{c.name} = {c.retrieval}/{c.ranker}" for c in experiment.configurations)),
             ("metrics", ", ".join(experiment.metrics)),
             ("run", f"{pd.Timestamp(experiment.created_at, unit='s'):%Y-%m-%d %H:%M} UTC, {experiment.seconds:,.1f} s"))
    return Report("experiment", f"Experiment #{experiment.snapshot_id}: {', '.join(names)}", (quality, cost), setup)

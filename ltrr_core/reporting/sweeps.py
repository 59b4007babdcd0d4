"""A saved sweep (many seeds per policy) as a report: the same finding as one simulated run, on the
means over seeds with their intervals, and each policy's regret band."""

from __future__ import annotations

from ltrr_core.reporting.findings import (EVERY, PolicyFigures, best_single, cost_sentence, finding_sentence,
                                          others_sentence, the_bandit)
from ltrr_core.reporting.report import Interval, Report, Section, bar_chart, line_chart, pct
from ltrr_core.simulation.sweep_reports import Interval as SweepInterval
from ltrr_core.simulation.sweep_reports import SweepReport


def _interval(value: SweepInterval, seeds: int, share: bool = True) -> Interval:
    return Interval(value.low, value.high, f"{value_level(seeds)} over {seeds} seeds", share)


def value_level(seeds: int) -> str:
    """How a sweep's intervals are made: Student-t over the seeds."""
    return "95% Student-t interval" if seeds > 1 else "one seed, no interval"


def sweep_report(sweep: SweepReport) -> Report:
    """The findings of ``sweep`` in sentences, each section with its chart and intervals."""
    n = len(sweep.seeds)
    figures = {policy: PolicyFigures(policy, s.hit_rate.mean, _interval(s.hit_rate, n), s.candidates_per_search.mean,
                                     _interval(s.candidates_per_search, n, share=False))
               for policy, s in sweep.policies.items()}
    bandit = figures[the_bandit(list(figures))]
    every, single = figures.get(EVERY), best_single(figures)
    named = {p for p in (bandit.policy, every.policy if every else None, single.policy if single else None) if p}
    shown = list(figures.values())
    finding = finding_sentence(bandit, every, single)
    found = Section(
        "How often searches found the wanted item",
        tuple(s for s in (f"Averaged over {n} seeds of {sweep.rounds:,} searches each: " + finding[0].lower()
                          + finding[1:], others_sentence(figures, named)) if s),
        bar_chart("Searches that found the wanted item (mean over seeds)", [f.policy for f in shown],
                  [f.hit_rate for f in shown], [f.hit_interval for f in shown], "share of searches"),
        tuple((f"{f.policy} hit rate", f.hit_interval) for f in shown))
    cost = Section(
        "What it cost", (cost_sentence(bandit, every, single),),
        bar_chart("Candidates per search (mean over seeds)", [f.policy for f in shown], [f.candidates for f in shown],
                  [f.candidates_interval for f in shown], "candidates", percent=False),
        tuple((f"{f.policy} candidates per search", f.candidates_interval) for f in shown))
    regret = sweep.policies[bandit.policy].cumulative_regret
    learning = Section(
        "Missed searches over time",
        (f"Over {sweep.rounds:,} searches the bandit ({bandit.policy}) missed an item that some strategy could have "
         f"found {regret.mean:,.1f} times on average ({pct(regret.mean / sweep.rounds)} of searches); the bands are "
         f"the seeds' intervals.",),
        line_chart("Cumulative missed searches (regret), mean over seeds",
                   {p: (list(b.round), list(b.mean)) for p, b in sweep.curves.items()}, "missed searches", "search",
                   bands={p: (list(b.low), list(b.high)) for p, b in sweep.curves.items()}),
        ((f"{bandit.policy} missed searches", _interval(regret, n, share=False)),))
    setup = (("sweep", sweep.name), ("catalog", sweep.source), ("seeds", ", ".join(map(str, sweep.seeds))),
             ("rounds per seed", f"{sweep.rounds:,}"), ("policies", ", ".join(sweep.policies)),
             ("ran on", f"{sweep.backend} x {sweep.workers} in {sweep.seconds:,.0f} s"))
    return Report("sweep", f"Sweep {sweep.name}: {', '.join(sweep.policies)}", (found, cost, learning), setup)

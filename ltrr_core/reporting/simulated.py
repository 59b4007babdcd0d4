"""Simulated runs as stored for reports: a :class:`RunRecord` (JSON beside each run's database,
``<run>.report.json``) holds the setup and, per policy run on that traffic, its summary figures,
what the truth says single strategies would have found, and its learning curves; and the report
made from it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from ltrr_core.base.cache import write_atomic
from ltrr_core.reporting.findings import (EVERY, PolicyFigures, best_single, cost_sentence, finding_sentence,
                                          others_sentence, the_bandit, truth_sentence)
from ltrr_core.reporting.report import Interval, Report, Section, bar_chart, line_chart, pct, share_interval

RECORD_SUFFIX = ".report.json"


@dataclass(frozen=True)
class PolicyRun:
    """One policy's run as stored: the run's summary figures (``hit_rate``, ``oracle_hit_rate``,
    ``cumulative_regret``, ``candidates_per_search`` as its summary gives them), the counts behind
    them, the candidates' interval, the share of searches each strategy alone (at full depth) could
    have found the item, and the curves (cumulative regret and hit rate at ``curve_round``)."""

    policy: str
    database: str
    rounds: int
    hits: int
    hit_rate: float
    oracle_hit_rate: float
    cumulative_regret: int
    candidates_per_search: float
    candidates_interval: Interval
    single_found: dict[str, float]
    curve_round: tuple[int, ...]
    curve_regret: tuple[int, ...]
    curve_hit_rate: tuple[float, ...]


@dataclass(frozen=True)
class RunSetup:
    """What every run of a record shares: the catalog, seed, rounds, the policy asked for, the
    pages' depth, the signal, a traffic shift, and when it was written."""

    catalog: str
    seed: int
    rounds: int
    policy: str
    shown: int
    noiseless: bool
    shift_at: int | None
    created_at: float


@dataclass(frozen=True)
class RunRecord:
    """The stored runs of one simulation (one policy, or several on the same traffic: ``--compare``)."""

    setup: RunSetup
    runs: dict[str, PolicyRun]

    def to_json(self) -> dict:
        return {"setup": asdict(self.setup), "runs": {p: asdict(r) for p, r in self.runs.items()}}

    @classmethod
    def from_json(cls, data: dict) -> "RunRecord":
        runs = {}
        for policy, run in data["runs"].items():
            curves = {k: tuple(run[k]) for k in ("curve_round", "curve_regret", "curve_hit_rate")}
            runs[policy] = PolicyRun(**{**run, **curves, "candidates_interval": Interval(**run["candidates_interval"])})
        return cls(RunSetup(**data["setup"]), runs)


def record_path(database: str | Path) -> Path:
    """Where the record of the run whose database is ``database`` lives."""
    path = Path(database)
    return path.with_name(path.stem + RECORD_SUFFIX)


def save_record(record: RunRecord) -> list[Path]:
    """Write ``record`` beside every run's database (atomically); the paths written."""
    text = json.dumps(record.to_json())
    paths = [record_path(run.database) for run in record.runs.values()]
    for path in paths:
        write_atomic(path, lambda p: p.write_text(text, encoding="utf-8"))
    return paths


def load_record(database: str | Path) -> RunRecord:
    """The record stored beside ``database``; FileNotFoundError naming what is missing, ValueError
    for a file that is not a record."""
    path = record_path(database)
    if not path.exists():
        what = "no such database" if not Path(database).exists() else f"no report record ({path.name}) beside it"
        raise FileNotFoundError(f"{database}: {what}; simulated runs are recorded by `ltrr simulate` "
                                "(their databases are under simulations/ beside the live one)")
    try:
        return RunRecord.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a simulation report record ({exc!r}); rerun `ltrr simulate`") from exc


def _figures(run: PolicyRun) -> PolicyFigures:
    return PolicyFigures(run.policy, run.hit_rate, share_interval(run.hits, run.rounds, "searches"),
                         run.candidates_per_search, run.candidates_interval)


def simulation_report(record: RunRecord) -> Report:
    """The findings of ``record`` in sentences, each section with its chart and intervals."""
    figures = {policy: _figures(run) for policy, run in record.runs.items()}
    bandit = figures[the_bandit(list(figures), record.setup.policy)]
    run = record.runs[bandit.policy]
    if len(figures) > 1:
        every, single = figures.get(EVERY), best_single(figures)
        finding = finding_sentence(bandit, every, single)
    else:  # one run: the truth says what every strategy, and each alone, could have found
        every = single = None
        finding = truth_sentence(bandit, run.oracle_hit_rate, run.single_found)
    named = {p for p in (bandit.policy, every.policy if every else None, single.policy if single else None) if p}
    shown = list(figures.values())
    found = Section(
        "How often searches found the wanted item",
        tuple(s for s in (finding, others_sentence(figures, named)) if s),
        bar_chart("Searches that found the wanted item", [f.policy for f in shown], [f.hit_rate for f in shown],
                  [f.hit_interval for f in shown], "share of searches"),
        tuple((f"{f.policy} hit rate", f.hit_interval) for f in shown))
    cost = Section(
        "What it cost",
        (cost_sentence(bandit, every, single),),
        bar_chart("Candidates per search", [f.policy for f in shown], [f.candidates for f in shown],
                  [f.candidates_interval for f in shown], "candidates", percent=False),
        tuple((f"{f.policy} candidates per search", f.candidates_interval) for f in shown))
    missed = run.cumulative_regret
    regret_interval = share_interval(missed, run.rounds, "searches")
    learning = Section(
        "Missed searches over time",
        (f"Over {run.rounds:,} searches the bandit ({bandit.policy}) missed an item that some strategy could "
         f"have found {missed:,} time{'s' if missed != 1 else ''} ({pct(missed / max(run.rounds, 1))} of "
         f"searches); a line that flattens is a policy that stopped missing.",),
        line_chart("Cumulative missed searches (regret)",
                   {p: (list(r.curve_round), list(r.curve_regret)) for p, r in record.runs.items()},
                   "missed searches", "search"),
        ((f"{bandit.policy} share of searches missed", regret_interval),))
    title = (f"Simulated users: {len(record.runs)} policies on the same traffic" if len(record.runs) > 1
             else f"Simulated users: {bandit.policy}")
    return Report("simulation", title, (found, cost, learning), _setup(record))


def _setup(record: RunRecord) -> tuple[tuple[str, str], ...]:
    s = record.setup
    rows = [("catalog", s.catalog), ("seed", str(s.seed)), ("rounds", f"{s.rounds:,}"),
            ("policies", ", ".join(record.runs)), ("results shown per page", str(s.shown)),
            ("click signal", "noiseless" if s.noiseless else "noisy (simulated clicks and engagement)")]
    if s.shift_at is not None:
        rows.append(("traffic shift at search", f"{s.shift_at:,}"))
    rows.append(("databases", ", ".join(Path(r.database).name for r in record.runs.values())))
    return tuple(rows)


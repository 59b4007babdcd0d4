"""How far off the interleaving verdict's "about N more searches expected" is, on simulated users.

Run: ``nice -n 10 .venv/bin/python benchmarks/bench_verdicts.py --cache-dir /tmp/ltrr-test-cache
[--configs A,B] [--seeds 1-4] [--checkpoints 50,100,200,400] [--rounds 3000]``.

Each seed is one simulated interleaving run through the product's path
(:class:`~ltrr_core.services.interleaving_runs.InterleavingRun`, as ``ltrr interleave`` and the
Interleaving page run it: a sandbox of the engine, the traffic generator's intents, the click
model, the team draft and the tally's anytime-valid test). At every checkpoint the run is still
undecided at, the verdict's predicted further searches
(:func:`~ltrr_core.evaluation.verdicts.interleaving_verdict`) is recorded; the run then continues
to its verdict (or ``--rounds``) and the prediction is compared with the searches it actually took
from that checkpoint. Prints one row per (seed, checkpoint) and the median ratio predicted / actual.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ltrr_core.base.config import Settings
from ltrr_core.engine import Engine
from ltrr_core.evaluation.configurations import parse_configurations
from ltrr_core.evaluation.verdicts import interleaving_verdict
from ltrr_core.services.interleaving_runs import InterleavingConfig, InterleavingRun
from ltrr_core.services.simulation import parse_seeds


@dataclass(frozen=True)
class Check:
    """One checkpoint of one run: the searches so far, the predicted further searches (None: "may never
    decide") and the further searches the run took to its verdict (None: undecided at ``--rounds``)."""

    seed: int
    at: int
    wins: int
    losses: int
    ties: int
    predicted: int | None
    actual: int | None
    leader_won: bool

    @property
    def win_rate(self) -> float:
        return self.wins / (self.wins + self.losses) if self.wins + self.losses else 0.5


def run_one(engine: Engine, specs: str, seed: int, checkpoints: list[int], rounds: int) -> list[Check]:
    """One interleaving run to its verdict, with the verdict's prediction at each checkpoint."""
    run = InterleavingRun(engine, parse_configurations(specs), InterleavingConfig(rounds=rounds, seed=seed))
    predictions = []
    for at in checkpoints:
        run.step(at - run.searches)
        report = run.tally.report()
        if run.done or report.winner is not None:
            break
        pair = report.pairs[0]
        predictions.append((at, pair, interleaving_verdict(report).expected_more_searches))
    while not run.done:
        run.step(200)
    final = run.tally.report().pairs[0]
    return [Check(seed, at, p.wins, p.losses, p.ties, predicted, final.decided_at - at if final.decided_at else None,
                  final.better == (p.a if p.wins > p.losses else p.b)) for at, p, predicted in predictions]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, required=True)
    parser.add_argument("--configs", default="lexical+semantic/rrf,lexical/rrf")
    parser.add_argument("--seeds", default="1-4")
    parser.add_argument("--checkpoints", default="50,100,200,400")
    parser.add_argument("--rounds", type=int, default=3000)
    args = parser.parse_args(argv)
    checkpoints = sorted(int(c) for c in args.checkpoints.split(","))
    engine = Engine.open("default", Settings(cache_dir=args.cache_dir, db_path=Path(tempfile.mkdtemp()) / "bench.db"))
    checks = [check for seed in parse_seeds(args.seeds)
              for check in run_one(engine, args.configs, seed, checkpoints, args.rounds)]
    print(f"configs {args.configs}; seeds {args.seeds}; cap {args.rounds} searches")
    print("seed  at  A win rate  predicted  actual  leader won  ratio")
    ratios = []
    for c in checks:
        ratio = c.predicted / c.actual if c.predicted is not None and c.actual and c.leader_won else None
        if ratio is not None:
            ratios.append(ratio)
        print(f"{c.seed:>4} {c.at:>4} {c.win_rate:>10.3f} {str(c.predicted):>10} {str(c.actual):>7} "
              f"{str(c.leader_won) if c.actual else '':>11}  {'' if ratio is None else f'{ratio:.2f}'}")
    never = sum(c.predicted is None for c in checks)
    undecided = sum(c.actual is None for c in checks)
    if ratios:
        within = sum(0.5 <= r <= 2 for r in ratios)
        quartiles = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
        print(f"median ratio predicted/actual {statistics.median(ratios):.2f} over {len(ratios)} checks "
              f"(quartiles {quartiles[0]:.2f}-{quartiles[2]:.2f}); within a factor 2: {within}/{len(ratios)}")
    print(f"checks predicting 'may never decide': {never}; checks whose run was undecided at the cap: {undecided}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()

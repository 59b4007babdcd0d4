"""Which off-policy estimator to trust: the simulator's validation table (``benchmarks/ope_validation.json``).

``benchmarks/bench_ope_validation.py`` grades every estimator against on-policy truths, per log
size: the median relative error over seeds and the share of seeds whose 95% interval covers
the truth, per target. For a log of ``n`` searches the recommendation reads the row of the
nearest validated size (on a log scale) and picks, among the estimators whose intervals
covered the truth in at least ``MIN_COVERAGE`` of seeds for every target, the one with the
lowest worst-target median relative error (when none qualifies: the best worst-target coverage,
then the lowest error, with a warning). It speaks only for log sizes the validation covered, from
its smallest to its largest size give or take :data:`SIZE_SLACK` (a factor); for any other size
it recommends no estimator and says which sizes were covered.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

VALIDATION_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "ope_validation.json"
MIN_COVERAGE = 0.9
SIZE_SLACK = 1.5  # a log this factor beyond the validated sizes still reads the nearest size


@dataclass(frozen=True)
class Recommendation:
    """The estimator to trust for a log's size: the validated size it read (``n_validated``), that
    estimator's worst-target median relative error and coverage there, why, the validation's setup and
    the range of log sizes it covered (``covered``). For a size outside that range ``estimator``,
    ``n_validated``, the error and the coverage are None and ``why`` says so."""

    estimator: str | None
    n_validated: int | None
    median_relative_error: float | None
    coverage: float | None
    why: str
    setup: str
    covered: tuple[int, int]

    @property
    def advice(self) -> str:
        """The advice in one sentence."""
        if self.estimator is None:
            return self.why
        return f"Trust {self.estimator} for logs of this size: {self.why}."


def load_validation(path: Path = VALIDATION_PATH) -> dict | None:
    """The committed table, or None when the file is absent."""
    return json.loads(path.read_text()) if path.exists() else None


def recommend(n_logged: int, validation: dict | None = None) -> Recommendation | None:
    """The :class:`Recommendation` for a log of ``n_logged`` searches; None without a validation table."""
    validation = validation if validation is not None else load_validation()
    if not validation or not validation.get("rows"):
        return None
    sizes = sorted({row["n_logged"] for row in validation["rows"]})
    covered, setup = (sizes[0], sizes[-1]), validation.get("setup", "")
    if not sizes[0] / SIZE_SLACK <= n_logged <= sizes[-1] * SIZE_SLACK:
        span = f"{sizes[0]:,}" if len(sizes) == 1 else f"{sizes[0]:,}-{sizes[-1]:,}"
        why = (f"The validation covered logs of {span} searches; this log has {n_logged:,}, so no estimator is "
               "recommended yet" + (": compare every estimator's interval" if n_logged < sizes[0] else
                                    ": larger logs usually shrink every error, but this was not validated") + ".")
        return Recommendation(None, None, None, None, why, setup, covered)
    nearest = min(sizes, key=lambda size: abs(math.log(size / max(n_logged, 1))))
    by_estimator: dict[str, list[dict]] = {}
    for row in validation["rows"]:
        if row["n_logged"] == nearest:
            by_estimator.setdefault(row["estimator"], []).append(row)
    graded = {name: (max(r["median_relative_error"] for r in rows), min(r["coverage"] for r in rows))
              for name, rows in by_estimator.items()}
    covered = {name: g for name, g in graded.items() if g[1] >= MIN_COVERAGE}
    best_coverage = max(g[1] for g in graded.values())
    pool = covered or {name: g for name, g in graded.items() if g[1] == best_coverage}
    best = min(pool, key=lambda name: pool[name][0])
    error, coverage = pool[best]
    why = (f"lowest worst-target median relative error ({error:.3f}) among estimators whose 95% intervals "
           f"covered the truth in >= {MIN_COVERAGE:.0%} of seeds for every target, at {nearest:,} logged searches"
           if covered else
           f"no estimator's intervals reached {MIN_COVERAGE:.0%} coverage for every target at {nearest:,} logged "
           f"searches; {best} had the best worst-target coverage ({coverage:.0%}) and then the lowest error "
           f"({error:.3f}): read every interval with care")
    return Recommendation(best, nearest, error, coverage, why, setup, covered)

"""Finished sweeps: the typed report (per policy the mean and interval over seeds of each figure, and
the per-round regret band) and its JSON files in ``sweeps/`` beside the live database (written by
``ltrr sweep``, read by the learning face for the Live learning page)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ltrr_core.base.cache import write_atomic
from ltrr_core.base.config import Settings

SWEEPS_DIR = "sweeps"


@dataclass(frozen=True)
class SweepFigures:
    """One seeded run's figures of record."""

    cumulative_regret: float
    hit_rate: float
    candidates_per_search: float


FIGURES = tuple(f.name for f in fields(SweepFigures))


@dataclass(frozen=True)
class Interval:
    """A mean over seeds and its confidence interval."""

    mean: float
    low: float
    high: float


@dataclass(frozen=True)
class PolicySweep:
    """One policy over the seeds: each figure's mean and interval, and every seed's figures."""

    cumulative_regret: Interval
    hit_rate: Interval
    candidates_per_search: Interval
    seeds: dict[int, SweepFigures]

    def intervals(self) -> dict[str, Interval]:
        """Each figure of :data:`FIGURES` by name."""
        return {figure: getattr(self, figure) for figure in FIGURES}


@dataclass(frozen=True)
class RegretBand:
    """Per round: the mean cumulative regret over seeds and its interval."""

    round: tuple[int, ...]
    mean: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]


@dataclass(frozen=True)
class SweepReport:
    """A finished sweep: its ``name``, the seeds, rounds and catalog ``source`` every policy ran, where
    and how long it ran, the interval ``level``, and per policy its figures and regret band."""

    name: str
    seeds: tuple[int, ...]
    rounds: int
    source: str
    backend: str
    workers: int
    seconds: float
    level: float
    policies: dict[str, PolicySweep]
    curves: dict[str, RegretBand]

    def to_json(self) -> dict:
        """The saved JSON layout (``config`` holds policies, seeds, rounds and source; seeds by string)."""
        return {
            "name": self.name,
            "config": {"policies": list(self.policies), "seeds": list(self.seeds), "rounds": self.rounds,
                       "source": self.source},
            "backend": self.backend, "workers": self.workers, "seconds": self.seconds, "level": self.level,
            "policies": {policy: {**{figure: asdict(value) for figure, value in sweep.intervals().items()},
                                  "seeds": {str(seed): asdict(f) for seed, f in sweep.seeds.items()}}
                         for policy, sweep in self.policies.items()},
            "curves": {policy: {name: list(values) for name, values in asdict(band).items()}
                       for policy, band in self.curves.items()},
        }

    @classmethod
    def from_json(cls, data: dict) -> "SweepReport":
        """The report :meth:`to_json` wrote; KeyError, TypeError or ValueError when it is not one."""
        config = data["config"]
        policies = {policy: PolicySweep(**{figure: Interval(**values[figure]) for figure in FIGURES},
                                        seeds={int(seed): SweepFigures(**f) for seed, f in values["seeds"].items()})
                    for policy, values in data["policies"].items()}
        curves = {policy: RegretBand(*(tuple(band[name]) for name in ("round", "mean", "low", "high")))
                  for policy, band in data["curves"].items()}
        return cls(data["name"], tuple(config["seeds"]), config["rounds"], config["source"], data["backend"],
                   data["workers"], data["seconds"], data["level"], policies, curves)


def sweeps_dir(settings: Settings) -> Path:
    """Where saved sweep reports live (``<name>.json``)."""
    return settings.db_path.parent / SWEEPS_DIR


def save_report(sweep: SweepReport, path: Path) -> Path:
    """Write ``sweep`` as JSON at ``path`` (atomically)."""
    write_atomic(path, lambda p: p.write_text(json.dumps(sweep.to_json()), encoding="utf-8"))
    return path


def load_report(path: Path) -> SweepReport:
    """A saved report; a clear error for a file that is not one."""
    try:
        sweep = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable sweep report ({exc}); rerun `ltrr sweep`") from exc
    try:
        return SweepReport.from_json(sweep)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"{path}: not a sweep report (no policies/curves/config: {exc!r}); rerun `ltrr sweep`") \
            from exc


def saved_reports(settings: Settings) -> list[Path]:
    """The saved reports, newest first."""
    folder = sweeps_dir(settings)
    found = folder.glob("*.json") if folder.is_dir() else []
    return sorted(found, key=lambda p: (-p.stat().st_mtime, p.name))

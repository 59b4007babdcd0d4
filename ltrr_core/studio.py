"""What pages, ``ui/`` and the CLI hold: the studio of one catalog, settings and database — a face
per use case and nothing else (no store, no index, no learning state).

``Studio.open(source, settings)`` builds the :class:`~ltrr_core.engine.Engine` (the composition
root) and hands out its faces; :func:`save_settings`, :func:`env_settings`,
:func:`startup_source`, :func:`save_catalog_choice` and :func:`catalog_summary` need no open catalog.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ltrr_core.base.config import Settings, active_source, env_overrides, save_source
from ltrr_core.catalog.schema import Catalog
from ltrr_core.catalog.sources import load_catalog
from ltrr_core.engine import Engine
from ltrr_core.selection.bandit import PolicyConfig
from ltrr_core.services.analytics import AnalyticsService
from ltrr_core.services.experiments import ExperimentService
from ltrr_core.services.labels import LabelService
from ltrr_core.services.learning import LearningService
from ltrr_core.services.logs import LogService
from ltrr_core.services.reports import Report, ReportService, render_html, run_report
from ltrr_core.services.search import SearchService
from ltrr_core.services.simulation import SimulationService


@dataclass(frozen=True)
class Studio:
    """The faces of one engine: search, learning, labels, experiments, logs, simulation, query analytics
    and reports."""

    search: SearchService
    learning: LearningService
    labels: LabelService
    experiments: ExperimentService
    logs: LogService
    simulation: SimulationService
    analytics: AnalyticsService
    reports: ReportService
    catalog: Catalog
    settings: Settings
    strategies: tuple[str, ...]

    @classmethod
    def of(cls, engine: Engine) -> "Studio":
        """The faces ``engine`` built (the same objects: a studio shares the engine's state)."""
        rt = engine.runtime
        return cls(search=engine.searching, learning=engine.learning, labels=engine.labelling,
                   experiments=engine.experiments, logs=engine.logs, simulation=SimulationService(engine),
                   analytics=engine.analytics, reports=ReportService(engine), catalog=rt.catalog,
                   settings=rt.settings, strategies=tuple(rt.strategy_names))

    @classmethod
    def open(cls, source: str = "default", settings: Settings | None = None,
             policy: PolicyConfig | None = None) -> "Studio":
        """:meth:`Engine.open <ltrr_core.engine.Engine.open>` and its faces."""
        return cls.of(Engine.open(source, settings, policy))


def save_settings(settings: Settings, **changes) -> Settings:
    """Save the model, backend and/or dense index beside ``settings``' database (read on every
    start, so the next open uses them); the new settings, or ValueError naming the field."""
    return settings.save(**changes)


def env_settings() -> dict[str, str]:
    """Settings fixed by ``LTRR_*`` environment variables (they override the saved ones), ``source``
    (``LTRR_SOURCE``) included."""
    source = os.environ.get("LTRR_SOURCE")
    return env_overrides() | ({"source": source} if source else {})


def startup_source(settings: Settings) -> str:
    """The catalog a new session or start opens: ``LTRR_SOURCE``, else the one saved beside
    ``settings``' database (:func:`save_catalog_choice`), else ``default``."""
    return active_source(settings.db_path)


def save_catalog_choice(settings: Settings, source: str) -> None:
    """Save ``source`` as the catalog new sessions and the next start open (``LTRR_SOURCE`` overrides it)."""
    save_source(settings.db_path, source)


def simulation_report(database: str) -> Report:
    """The report of the recorded simulated run whose sandbox database is ``database``, without
    opening its catalog (FileNotFoundError naming what is missing)."""
    return run_report(database)


def report_html(report: Report) -> str:
    """``report`` as one self-contained HTML file (plotly inlined: it opens offline)."""
    return render_html(report)


def catalog_summary(source: str) -> dict:
    """What catalog ``source`` holds (entities by type ...), without building an engine over it."""
    return load_catalog(source).summary()

"""The composition root: one catalog, its settings and its feedback store, and the use-case
services built over them (:mod:`ltrr_core.services`).

:class:`Engine` builds one :class:`~ltrr_core.services.runtime.Runtime` (pipeline, store, learning
loop, live ranker) and a face per use case over it: :attr:`Engine.searching` (search, feedback,
warming), :attr:`Engine.learning` (policy, learnt state, off-policy estimates),
:attr:`Engine.labelling` (labels, judgments, ranker training), :attr:`Engine.experiments` (offline
experiments, BEIR, interleaving), :attr:`Engine.logs` (interaction logs, position bias, warm start)
and :attr:`Engine.analytics` (query analytics from the log).
It holds those and nothing else: runs that drive the whole engine (simulations, interleaving on
simulated users, sweeps, benchmarks) call a face's method through the face
(``engine.searching.search``) and reach the runtime only for what no face offers
(``engine.runtime.pipeline``); pages, ``ui/`` and the CLI get the faces only
(:class:`ltrr_core.studio.Studio`).
"""

from __future__ import annotations

import shutil
from dataclasses import replace

from ltrr_core.base.cache import slug
from ltrr_core.base.config import Settings
from ltrr_core.catalog.schema import Catalog
from ltrr_core.catalog.sources import load_catalog
from ltrr_core.feedback.settlement import RewardWindow
from ltrr_core.feedback.store.feedback_store import FeedbackStore
from ltrr_core.pipeline import Pipeline
from ltrr_core.retrieval.resources import Resources
from ltrr_core.retrieval.shards.sharded import serving_shards
from ltrr_core.selection.bandit import PolicyConfig
from ltrr_core.services.analytics import AnalyticsService
from ltrr_core.services.experiments import ExperimentService
from ltrr_core.services.labels import LabelService
from ltrr_core.services.learning import LearningService
from ltrr_core.services.logs import LogService
from ltrr_core.services.runtime import Runtime
from ltrr_core.services.search import SearchService

SIMULATIONS_DIR = "simulations"  # sandboxed runs' databases, beside the live one
# the engine's faces, beside its runtime
FACES = ("searching", "learning", "labelling", "experiments", "logs", "analytics")


class Engine:
    """One catalog's search engine over one database: the shared runtime and the faces built on it."""

    __slots__ = ("runtime", *FACES)

    def __init__(self, pipeline: Pipeline, store: FeedbackStore, policy: PolicyConfig | None = None,
                 retrain_every: int = 50, window: RewardWindow | None = None) -> None:
        self.runtime = Runtime(pipeline, store, policy, retrain_every, window)
        self.labelling = LabelService(self.runtime)
        self.searching = SearchService(self.runtime, self.labelling)
        self.learning = LearningService(self.runtime)
        self.experiments = ExperimentService(self.runtime)
        self.logs = LogService(self.runtime)
        self.analytics = AnalyticsService(self.runtime)

    @classmethod
    def open(cls, source: str = "default", settings: Settings | None = None, policy: PolicyConfig | None = None,
             catalog: Catalog | None = None, window: RewardWindow | None = None) -> "Engine":
        """Load a catalog by source string and build an engine over it (indexes load lazily); the
        learning state is restored from the database. A given ``policy`` becomes the database's choice for
        every process on it; None follows the choice stored there."""
        settings = settings or Settings.from_env()
        catalog = catalog or load_catalog(source)
        resources = Resources(catalog, settings)
        if settings.shards > 1:
            resources = serving_shards(resources)
        return cls(Pipeline(resources), FeedbackStore(settings.db_path), policy, window=window)

    def sandbox(self, name: str) -> "Engine":
        """A fresh engine for a simulated run: its own new database (``simulations/<name>.db`` beside
        the live one, or ``<name>-2.db``, ``-3`` ... when taken: claimed by exclusive create, so two
        runs of one name never share a log), learning state and memory observations; the catalog's
        indexes and model are shared. The live engine is never touched."""
        rt = self.runtime
        folder = rt.settings.db_path.parent / SIMULATIONS_DIR
        folder.mkdir(parents=True, exist_ok=True)
        n = 1
        while True:
            path = folder / (f"{slug(name)}.db" if n == 1 else f"{slug(name)}-{n}.db")
            try:
                path.open("x").close()  # atomic: only one run claims this name
                break
            except FileExistsError:
                n += 1
        for stale in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)  # left by a database deleted by hand
        shutil.rmtree(path.with_name(path.name + ".learning"), ignore_errors=True)  # its snapshot and ranker
        resources = rt.pipeline.resources.sandboxed()
        resources.settings = replace(rt.settings, db_path=path)
        return Engine(Pipeline(resources, rt.strategy_names), FeedbackStore(path), rt.policy,
                      rt.rankers.policy.every, rt.loop.window)

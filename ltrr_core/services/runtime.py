"""What every use-case service of one database shares: the funnel, the feedback store, the learning
loop and the live ranker, with the few steps several services run (understand, featurize, run a
configuration, log a search, adopt a retrained ranker).

It is no face: pages, ``ui/`` and the CLI never see it; the services in this package hold one each
(built by the composition root, :class:`ltrr_core.engine.Engine`).
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import numpy as np

from ltrr_core.base.cache import write_atomic
from ltrr_core.base.records import ImpressionRow, SearchRecord
from ltrr_core.catalog.schema import Catalog
from ltrr_core.evaluation.configurations import Configuration, ConfigurationError
from ltrr_core.feedback.learning_state import LearningState, StateFiles
from ltrr_core.feedback.loop import FeedbackLoop
from ltrr_core.feedback.settlement import RewardWindow
from ltrr_core.feedback.store.feedback_store import FeedbackStore
from ltrr_core.pipeline import FunnelRun, Pipeline, timed
from ltrr_core.ranking.features import FEATURE_NAMES
from ltrr_core.ranking.ltr import LTRRanker, TrainingGroup
from ltrr_core.ranking.pool import CandidatePool
from ltrr_core.ranking.rankers import FusionRanker, InterleaveRanker, Ranker
from ltrr_core.ranking.retraining import RankerManager, RetrainDecision, RetrainPolicy
from ltrr_core.results import SearchResult
from ltrr_core.selection.bandit import PolicyConfig, arm_depths
from ltrr_core.selection.context import Context, category, context_feature_names, featurize
from ltrr_core.understanding.query import QueryUnderstanding
from ltrr_core.base.text_files import MAX_QUERY_CHARS, MAX_STORED_QUERY_CHARS

RANKERS = ("interleave", "rrf", "ltr")  # the rankers a configuration may name


class Runtime:
    """One catalog's funnel over one database: the pipeline, the store, the learning loop, the live ranker."""

    def __init__(self, pipeline: Pipeline, store: FeedbackStore, policy: PolicyConfig | None = None,
                 retrain_every: int = 50, window: RewardWindow | None = None) -> None:
        self.pipeline = pipeline
        self.settings = pipeline.resources.settings
        self.store = store
        self.strategy_names = list(pipeline.strategy_names)
        self.n_features = len(context_feature_names(self.strategy_names))
        self.state_files = StateFiles(self.state_dir)
        self.loop = FeedbackLoop(store, pipeline.resources.memory, self.state_files, self.strategy_names,
                                 self.n_features, policy, window)
        self.rankers = RankerManager(RetrainPolicy(every=retrain_every))
        if self.ranker_path.exists():
            try:
                self.rankers.current = LTRRanker.load(self.ranker_path)
            except ValueError:  # unreadable: rank by interleaving, keep the file for inspection
                self.ranker_path.rename(self.ranker_path.with_suffix(".unreadable"))

    @property
    def catalog(self) -> Catalog:
        return self.pipeline.catalog

    @property
    def state(self) -> LearningState:
        return self.loop.state

    @property
    def policy(self) -> PolicyConfig:
        return self.state.bandit.config

    @property
    def state_dir(self) -> Path:
        """One learning state per database: ``<db name>.learning/<catalog hash>/`` beside it."""
        db = self.settings.db_path
        return db.with_name(db.name + ".learning") / self.catalog.content_hash

    @property
    def ranker_path(self) -> Path:
        return self.state_dir / "ranker.json"

    @property
    def lock(self) -> threading.RLock:
        """Held while the learning state or the live ranker changes."""
        return self.loop.lock

    # -- the funnel's shared steps -------------------------------------------------------
    def understand(self, query: str) -> QueryUnderstanding:
        return self.pipeline.understand(query)

    def context_vector(self, understanding: QueryUnderstanding, context: Context) -> tuple[np.ndarray, str]:
        """The bandit's context vector for this query and context, and the query's category."""
        key = category(understanding)
        return featurize(understanding, context, self.state.history.rates(key)), key

    def ranker_for(self, name: str) -> Ranker:
        """The ranker a configuration names: ``interleave``, ``rrf`` or ``ltr`` (the live trained model)."""
        if name == "interleave":
            return InterleaveRanker()
        if name == "rrf":
            return FusionRanker()
        if name == "ltr":
            if not isinstance(self.rankers.current, LTRRanker):
                raise ConfigurationError("ranker 'ltr': no trained model yet; label or simulate searches and run "
                                         "`ltrr train`, or choose interleave or rrf")
            return self.rankers.current
        raise ConfigurationError(f"ranker {name!r}: choose {', '.join(RANKERS)}")

    def run_configuration(self, config: Configuration, query: str, context: Context | None = None) -> FunnelRun:
        """Run ``query`` through ``config``'s retrieval and ranker, unlogged (experiments, interleaving).
        ``bandit`` retrieval takes the learned bandit's greedy subset: no exploration draw."""
        context = context or Context()
        u = self.understand(query)
        if config.depths is not None:
            depths = dict(config.depths)
        else:
            x, _ = self.context_vector(u, context)
            with self.lock:
                bandit = self.state.bandit
                depths = arm_depths(bandit.greedy_subset(bandit.score(x))[0])
        return self.pipeline.run(u, context, depths, self.ranker_for(config.ranker))

    def understand_timed(self, query: str, timings: dict[str, float]) -> tuple[QueryUnderstanding, str | None]:
        """The query understood (timed into ``timings``), and what the page says of a query cut short."""
        return timed(timings, "understand", self.understand, query), query_message(query)

    def empty_result(self, query: str, context: Context, u: QueryUnderstanding, timings: dict[str, float],
                     message: str | None) -> SearchResult:
        """The result of a query that is empty after normalization: nothing searched, nothing logged."""
        return SearchResult(query=query, context=context, understanding=u, x=np.zeros(self.n_features),
                            selection=None, candidates={}, pool=CandidatePool.union([]),
                            features=np.empty((0, len(FEATURE_NAMES)), np.float32), items=(), ranker="none",
                            timings=timings, message=message or "Type a query to search.")

    @staticmethod
    def search_record(result: SearchResult, key: str, source: str, user_id: str, experiment: str | None = None,
                      **selection) -> SearchRecord:
        """The log record of a served search: the bandit's selection, or for a page no bandit served
        (an interleaved one, of ``experiment``) the ``selection`` fields given."""
        sel, ctx = result.selection, result.context
        fields = selection or {"policy": sel.policy, "arms_scored": tuple(dict(a.__dict__) for a in sel.arms),
                               "chosen_arms": sel.chosen, "propensity": sel.propensity}
        context = {"weekday": ctx.weekday, "hour": ctx.hour, "holiday": ctx.holiday, "user": ctx.user.id}
        if experiment is not None:
            context["experiment"] = experiment
        return SearchRecord(query=result.query[:MAX_STORED_QUERY_CHARS],
                            normalized_query=result.understanding.normalized, user_id=user_id,
                            features=tuple(result.x.tolist()), ranker=result.ranker, context=context,
                            timings=result.timings, source=source, category=key, **fields)

    @staticmethod
    def impressions(result: SearchResult) -> list[ImpressionRow]:
        return [ImpressionRow(i.id, i.rank, i.score, i.found_by) for i in result.items]

    def log(self, result: SearchResult, key: str, source: str, user_id: str) -> SearchResult:
        """Log a bandit-served search (it opens a reward window); the result with its ``search_id``."""
        record = self.search_record(result, key, source, user_id)
        return replace(result, search_id=self.loop.log(record, self.impressions(result), result.x))

    # -- learning ------------------------------------------------------------------------
    def adopt(self, groups: list[TrainingGroup], forget_labelled: bool = False) -> RetrainDecision:
        """Retrain the LTR ranker on ``groups``; the new model goes live (and to disk) only if the
        manager's gate accepts it. ``forget_labelled``: the labelled-since-training count restarts."""
        with self.lock:
            decision = self.rankers.train(groups)
            if forget_labelled:
                self.state.labelled_since_train = set()
            if decision.accepted:
                write_atomic(self.ranker_path, self.rankers.current.save)
        return decision

    def reload_memory(self) -> None:
        """The memory's observed statistics, re-read from the log now: an import or a new examination
        curve advanced the store's stats generation, which the loop's catch-up follows (as every
        other process sharing the database does at its next one)."""
        self.loop.catch_up()

    # -- the semantic index's background build ---------------------------------------------
    @property
    def warming(self) -> tuple[str, ...]:
        """Strategies whose indexes are still being built in the background (left out of the arms)."""
        return ("semantic",) if "semantic" in self.strategy_names and self.pipeline.resources.semantic_warming else ()

    def wait_until_ready(self, timeout: float | None = None) -> bool:
        """Block until the background build finished (True) or ``timeout`` seconds passed (False)."""
        build = self.pipeline.resources.background
        return build is None or build.wait(timeout)

    def warming_for(self, policy: PolicyConfig) -> frozenset[str]:
        """The strategies to leave out of this search; a policy fixed on a warming one waits for it."""
        warming = frozenset(self.warming)
        if policy.kind == "fixed" and warming.intersection(policy.fixed_strategies):
            self.wait_until_ready()
            return frozenset(self.warming)
        return warming


def query_message(query: str) -> str | None:
    """What the result page says about a query cut to the longest one the funnel reads."""
    if len(query) > MAX_QUERY_CHARS:
        return f"Query cut to its first {MAX_QUERY_CHARS} characters (it had {len(query):,})."
    return None

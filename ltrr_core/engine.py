"""The engine face: the one object pages, CLI, simulator and off-policy evaluation talk to.

It holds the :class:`~ltrr_core.pipeline.Pipeline` (the stateless funnel), the learning state
(bandit, hit history, live ranker) and the feedback store. A search is: understand, featurize
the context, let the bandit select arms, run the funnel, log. Every stage reports into the
:class:`~ltrr_core.results.SearchResult` trace; the UI and CLI render it and never recompute.
Feedback flows back through :meth:`Engine.respond` to the store, the bandit (per-arm hit)
and the memory index.
"""

from __future__ import annotations

import gc
import io
import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from ltrr_core.catalog.hard_cases import HARD_CASES
from ltrr_core.catalog.loaders import ENTITY_FIELDS, REQUIRED_FIELDS
from ltrr_core.catalog.schema import Catalog, CatalogError
from ltrr_core.catalog.sources import load_catalog
from ltrr_core.base.config import BACKENDS, DENSE_INDEXES, Settings, env_overrides
from ltrr_core.evaluation.configurations import (
    Configuration,
    ConfigurationError,
    parse_configuration,
    parse_configurations,
)
from ltrr_core.evaluation.experiments import Experiment, Progress, SnapshotError, run_experiment
from ltrr_core.evaluation.labelling import evaluate_labels, labelling_queue
from ltrr_core.evaluation.offpolicy import evaluate_policies, evaluate_policy
from ltrr_core.evaluation.query_sets import Judgments, QuerySet, QuerySetError, judgments_for, parse_query_set
from ltrr_core.evaluation.interleaving import METHOD as INTERLEAVING_METHOD
from ltrr_core.evaluation.interleaving import InterleavingTally, team_draft
from ltrr_core.evaluation.sequential import DEFAULT_ALPHA
from ltrr_core.feedback.exchange import LabelImport, export_labels, import_judgments
from ltrr_core.base.grades import GRADES, MAX_GRADE, grade_label
from ltrr_core.base.labels import FORMATS as LABEL_FORMATS
from ltrr_core.base.labels import LabelFileError, parse_labels, read_labels
from ltrr_core.base.examination import examination
from ltrr_core.feedback.learning_state import LearningState, StateFiles
from ltrr_core.feedback.log_import import LOG_FORMATS, LogFileError, LogImport, import_log, write_log
from ltrr_core.feedback.log_import import Progress as LogProgress
from ltrr_core.feedback.loop import FeedbackLoop
from ltrr_core.feedback.position_bias import DEFAULT_MAX_RANK, CurveEstimate, estimate_from_impressions
from ltrr_core.base.records import (
    BanditLogRecord,
    ImpressionRow,
    Label,
    SearchRecord,
)
from ltrr_core.feedback.settlement import NONE_OF_THESE, RewardWindow, Settlement
from ltrr_core.feedback.replay import Replayer
from ltrr_core.feedback.store import FeedbackStore, StoreError
from ltrr_core.pipeline import FunnelRun, Pipeline, timed
from ltrr_core.feedback.click_training import click_groups
from ltrr_core.ranking.features import FEATURE_NAMES
from ltrr_core.ranking.ltr import LTRRanker
from ltrr_core.ranking.pool import CandidatePool
from ltrr_core.ranking.rankers import FusionRanker, InterleaveRanker, Ranker
from ltrr_core.ranking.retraining import RankerManager, RetrainDecision
from ltrr_core.feedback.training import training_groups
from ltrr_core.results import ResultItem, SearchResult
from ltrr_core.retrieval.candidates import Candidates
from ltrr_core.base.cache import slug, write_atomic
from ltrr_core.retrieval.indexes.embedder import ModelNotFoundError
from ltrr_core.retrieval.registry import REGISTRY
from ltrr_core.retrieval.resources import Resources
from ltrr_core.retrieval.shards.sharded import serving_shards
from ltrr_core.retrieval.strategies.semantic import query_text
from ltrr_core.selection.bandit import (
    POLICIES,
    PolicyConfig,
    arm_depths,
    arm_name,
)
from ltrr_core.selection.context import (
    Context,
    category,
    context_feature_names,
    featurize,
)
from ltrr_core.simulation.sweep_reports import load_report, saved_reports, sweeps_dir
from ltrr_core.understanding.query import QueryUnderstanding
from ltrr_core.understanding.text import MAX_QUERY_CHARS, normalize

# What pages and the CLI may use: the engine, its results, and the vocabulary they show.
__all__ = [
    "BACKENDS", "DENSE_INDEXES", "ENTITY_FIELDS", "GRADES", "HARD_CASES", "LABEL_FORMATS", "LOG_FORMATS",
    "MAX_GRADE", "POLICIES", "REQUIRED_FIELDS", "CatalogError", "Configuration", "ConfigurationError", "Engine",
    "Experiment", "LabelFileError", "LabelImport", "LogFileError", "LogImport", "ModelNotFoundError",
    "PolicyConfig", "QuerySetError", "RetrainDecision", "SearchResult", "SnapshotError", "StoreError",
    "grade_label",
]

SIMULATIONS_DIR = "simulations"  # sandboxed runs' databases, beside the live one


class Engine:
    """One catalog's search engine: the funnel, the learning state and the feedback store."""

    def __init__(self, pipeline: Pipeline, store: FeedbackStore, policy: PolicyConfig | None = None,
                 retrain_every: int = 50, window: RewardWindow | None = None) -> None:
        self.pipeline = pipeline
        self.settings = pipeline.resources.settings
        self.store = store
        self.strategy_names = list(pipeline.strategy_names)
        self.n_features = len(context_feature_names(self.strategy_names))
        self.retrain_every = retrain_every
        self.state_files = StateFiles(self.state_dir)
        self.loop = FeedbackLoop(store, pipeline.resources.memory, self.state_files, self.strategy_names,
                                 self.n_features, policy, window)
        self.rankers = RankerManager()
        if self.ranker_path.exists():
            try:
                self.rankers.current = LTRRanker.load(self.ranker_path)
            except ValueError:  # unreadable: rank by interleaving, keep the file for inspection
                self.ranker_path.rename(self.ranker_path.with_suffix(".unreadable"))

    # -- construction ------------------------------------------------------------------
    @classmethod
    def open(cls, source: str = "default", settings: Settings | None = None, policy: PolicyConfig | None = None,
             catalog: Catalog | None = None, window: RewardWindow | None = None) -> "Engine":
        """Load a catalog by source string and build an engine over it (indexes load lazily); the
        learning state is restored from the database (``policy`` None: the saved one)."""
        settings = settings or Settings.from_env()
        catalog = catalog or load_catalog(source)
        resources = Resources(catalog, settings)
        if settings.shards > 1:
            resources = serving_shards(resources)
        return cls(Pipeline(resources), FeedbackStore(settings.db_path), policy, window=window)

    @property
    def catalog(self) -> Catalog:
        return self.pipeline.catalog

    @property
    def embeddings_source(self) -> str:
        """``"cache"`` or ``"computed"`` once the catalog's embeddings exist (``""`` before)."""
        return self.pipeline.resources.embeddings_source

    def sandbox(self, name: str) -> "Engine":
        """A fresh engine for a simulated run: its own database (``simulations/<name>.db`` beside the
        live one, replaced if it exists), learning state and memory observations; the catalog's
        indexes and model are shared. The live engine is never touched."""
        path = self.settings.db_path.parent / SIMULATIONS_DIR / f"{slug(name)}.db"
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
        shutil.rmtree(path.with_name(path.name + ".learning"), ignore_errors=True)  # its snapshot and ranker
        resources = self.pipeline.resources.sandboxed()
        resources.settings = replace(self.settings, db_path=path)
        return Engine(Pipeline(resources, self.strategy_names), FeedbackStore(path), self.policy,
                      self.retrain_every, self.loop.window)

    @property
    def state(self) -> LearningState:
        return self.loop.state

    @property
    def state_dir(self) -> Path:
        """One learning state per database: ``<db name>.learning/<catalog hash>/`` beside it."""
        db = self.settings.db_path
        return db.with_name(db.name + ".learning") / self.catalog.content_hash

    @property
    def ranker_path(self) -> Path:
        return self.state_dir / "ranker.json"

    @property
    def policy(self) -> PolicyConfig:
        return self.state.bandit.config

    def warm_up(self, progress: Callable[[str, float], None] | None = None,
                background: bool = False) -> dict[str, float]:
        """Build every index and model now (seconds per part); ``progress(label, fraction)``.
        ``background``: when the catalog's embeddings are not cached yet, build the semantic parts
        in a background thread and serve at once with the other strategies (see
        :meth:`semantic_status`); with cached embeddings everything loads now (a few seconds)."""
        if progress:
            self.pipeline.resources.progress = progress
        background = background and not self.pipeline.resources.embeddings_file.exists()
        seconds = self.pipeline.warm_up(background)
        build = self.pipeline.resources.warm_in_background(progress, start=False) if background else None
        start = time.perf_counter()
        self.search("warm up", Context(), log=False)
        seconds["first_search"] = time.perf_counter() - start
        if build is not None:
            build.start()  # after the first search: the model export and load would compete with it
        # The indexes just built live as long as the process: move their ~0.5 M objects out of
        # the cyclic collector's reach, or every full collection rescans them (~12% of a
        # simulated search's time).
        gc.freeze()
        return seconds

    # -- the funnel ------------------------------------------------------------------
    def understand(self, query: str) -> QueryUnderstanding:
        return self.pipeline.understand(query)

    def context_vector(self, understanding: QueryUnderstanding, context: Context) -> tuple[np.ndarray, str]:
        key = category(understanding)
        return featurize(understanding, context, self.state.history.rates(key)), key

    def search(self, query: str, context: Context | None = None, k: int = 10, source: str = "human",
               log: bool = True, user_id: str | None = None,
               retrieved: dict[str, Candidates] | None = None) -> SearchResult:
        """Run the funnel for one query. ``retrieved`` (full-depth lists per strategy) lets the
        simulator reuse retrieval it already ran; picked depths are prefixes of those lists."""
        context = context or Context()
        if log:
            self.loop.close_expired()
        timings: dict[str, float] = {}
        message = _query_message(query)
        u = timed(timings, "understand", self.understand, query)
        if u.is_empty:
            return self._empty(query, context, u, timings, message or "Type a query to search.")
        x, key = timed(timings, "featurize", self.context_vector, u, context)
        warming = self._warming_for(self.policy)
        with self.loop.lock:
            selection = timed(timings, "select", self.state.bandit.select, x, warming)
        ranker = self.rankers.current
        funnel = self.pipeline.run(u, context, arm_depths(selection.chosen), ranker, retrieved, timings)
        pool, ranked = funnel.pool, funnel.ranked
        items = tuple(
            ResultItem.of(r + 1, self.catalog.entities[pool.positions[i]], ranked.scores[i], pool.found_by[i])
            for r, i in enumerate(ranked.order[:k])
        )
        timings["total"] = sum(timings.values())
        result = SearchResult(query, context, u, x, selection, funnel.candidates, pool, funnel.features, items,
                              ranker.name, timings, None, message)
        if log:
            result = self._log(result, key, source, user_id or context.user.id)
        return result

    def _empty(self, query, context, u, timings, message) -> SearchResult:
        pool = CandidatePool.union([])
        return SearchResult(query, context, u, np.zeros(self.n_features), None, {}, pool,
                            np.empty((0, len(FEATURE_NAMES)), np.float32), (), "none", timings, None, message)

    def _log(self, result: SearchResult, key: str, source: str, user_id: str) -> SearchResult:
        sel = result.selection
        record = SearchRecord(
            query=result.query[:MAX_QUERY_CHARS * 4], normalized_query=result.understanding.normalized,
            user_id=user_id, features=tuple(result.x.tolist()), policy=sel.policy,
            arms_scored=tuple(dict(a.__dict__) for a in sel.arms), chosen_arms=sel.chosen,
            propensity=sel.propensity, ranker=result.ranker,
            context={"weekday": result.context.weekday, "hour": result.context.hour,
                     "holiday": result.context.holiday, "user": result.context.user.id},
            timings=result.timings, source=source, category=key)
        impressions = [ImpressionRow(i.id, i.rank, i.score, i.found_by) for i in result.items]
        return replace(result, search_id=self.loop.log(record, impressions, result.x))

    # -- configurations ----------------------------------------------------------------
    def run_configuration(self, config: Configuration, query: str, context: Context | None = None) -> FunnelRun:
        """Run ``query`` through ``config``'s retrieval and ranker, unlogged (experiments, interleaving).
        ``bandit`` retrieval takes the learned bandit's greedy subset: no exploration draw."""
        context = context or Context()
        u = self.understand(query)
        if config.depths is not None:
            depths = dict(config.depths)
        else:
            x, _ = self.context_vector(u, context)
            with self.loop.lock:
                bandit = self.state.bandit
                depths = arm_depths(bandit.greedy_subset(bandit.score(x))[0])
        return self.pipeline.run(u, context, depths, self.ranker_for(config.ranker))

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
        raise ConfigurationError(f"ranker {name!r}: choose interleave, rrf or ltr")

    # -- feedback ----------------------------------------------------------------------
    def feedback(self, search_id: int, entity_id: str, kind: str, source: str = "human",
                 user_id: str = "analyst") -> Settlement | None:
        """One event on a shown result (``click``, ``engage``, ``thumbs_up``, ``thumbs_down``); see :meth:`respond`."""
        return self.respond(search_id, [(entity_id, kind)], source, user_id)

    def respond(self, search_id: int, events: list[tuple[str, str]], source: str = "human",
                user_id: str = "analyst", then_close: str | None = None) -> Settlement | None:
        """A user's ``(entity_id, kind)`` events on a logged search, stored in one transaction. The
        first positive one (engage, thumbs up) on a shown result closes the search's reward window:
        the returned settlement rewards the picked arms whose candidates held that result.
        ``then_close`` (e.g. ``"next_search"``) closes the window with the default reward otherwise."""
        settlement = self.loop.respond(search_id, events, source, user_id, then_close)
        if events and source == "human":
            self._labelled(f"search:{search_id}")
        return settlement

    def close(self, search_id: int, reason: str = NONE_OF_THESE) -> Settlement | None:
        """Close a search's reward window without a positive event ("none of these"): every picked
        arm gets the default reward. None if the window was closed already."""
        return self.loop.close(search_id, reason)

    def close_expired(self) -> list[Settlement]:
        """Close every reward window open longer than the window's wait (also done before each logged search)."""
        return self.loop.close_expired()

    @property
    def reward_window(self) -> RewardWindow:
        return self.loop.window

    @property
    def open_searches(self) -> list[int]:
        """Searches whose reward window is still open."""
        return self.loop.open_searches

    # -- labels ------------------------------------------------------------------------
    def label(self, query: str, entity_id: str, grade: int, judge: str = "analyst") -> None:
        """A graded relevance label (0..MAX_GRADE), kept apart from clicks."""
        if entity_id not in self.catalog:
            raise KeyError(f"entity {entity_id!r} is not in the catalog {self.catalog.source!r}")
        label = self.store.set_label(query, entity_id, grade, judge)
        self.loop.label(label.normalized_query, entity_id, grade)
        self._labelled(f"query:{label.normalized_query}")

    def labels(self, judge: str | None = None) -> list[Label]:
        return self.store.labels(judge=judge)

    def labels_frame(self, judge: str | None = None) -> pd.DataFrame:
        return self.store.labels_frame(judge=judge)

    def import_labels(self, file: str | Path | tuple[str, bytes], fmt: str | None = None,
                      judge: str = "analyst") -> LabelImport:
        """Import a label file (a path, or ``(name, bytes)`` of an upload) in one transaction.

        A bad row, or a grade above the studio's scale, raises ``LabelFileError`` naming its
        line and nothing is stored; documents the catalog lacks are skipped and counted."""
        if isinstance(file, tuple):
            judgments = parse_labels(file[1], file[0], fmt, max_grade=MAX_GRADE)
        else:
            judgments = read_labels(file, fmt, max_grade=MAX_GRADE)
        report = import_judgments(self.store, self.catalog, judgments, judge)
        with self.loop.lock:
            self.state.labelled_since_train.update(f"query:{normalize(q)}" for q in report.queries)
        self.maybe_retrain()
        return report

    def export_labels(self, fmt: str, judge: str | None = None) -> str:
        """The text of a label file in ``fmt`` with the stored labels (of ``judge``, or all)."""
        return export_labels(self.labels(judge), fmt)

    def labelling_queue(self, judge: str = "analyst", limit: int = 50) -> pd.DataFrame:
        return labelling_queue(self.store, self.catalog, judge, limit)

    def evaluate_labels(self, judge: str | None = None) -> pd.DataFrame:
        """Each strategy and the live ranker's blend, scored on the stored labels."""
        return evaluate_labels(self.pipeline, self.rankers.current, self.labels(judge))

    def _labelled(self, key: str) -> None:
        self.state.labelled_since_train.add(key)
        self.maybe_retrain()

    def maybe_retrain(self) -> RetrainDecision | None:
        """Retrain the LTR ranker after every ``retrain_every`` new labelled searches."""
        if len(self.state.labelled_since_train) < self.retrain_every:
            return None
        return self.retrain()

    def retrain(self, source: str | None = "human") -> RetrainDecision:
        """Train LambdaMART on stored feedback of ``source`` (None: every source) and the labels;
        keep the old ranker if the new one is worse on held-out searches."""
        groups = training_groups(self.pipeline, self.store.searches(source=source),
                                 self.store.feedback_events(source=source), self.store.labels())
        with self.loop.lock:
            self.rankers.groups = {g.group_id: g for g in groups}
            decision = self.rankers.retrain()
            self.state.labelled_since_train = set()
            if decision.accepted:
                write_atomic(self.ranker_path, self.rankers.current.save)
        return decision

    def explain(self, result: SearchResult, entity_ids: list[str]) -> pd.DataFrame:
        """Per-feature contributions of the LTR ranker for the named (shown) results."""
        rows = [result.pool.ids.index(e) for e in entity_ids if e in result.pool.ids]
        if not rows:
            return pd.DataFrame()
        return self.rankers.current.explain(result.features[rows]).frame([result.pool.ids[r] for r in rows])

    # -- learning state ----------------------------------------------------------------
    def save_state(self) -> None:
        """Write a snapshot of the learning state now (the log already holds every settled round)."""
        self.loop.save()

    def set_policy(self, policy: PolicyConfig) -> None:
        """Switch policy: its state is the fold of the whole log, and the choice is saved."""
        self.loop.set_policy(policy)

    def bandit_log(self, source: str | None = None) -> list[BanditLogRecord]:
        """Every settled search as a typed bandit-log record (context, chosen subset, propensity, rewards)."""
        return self.store.bandit_log(source=source)

    def evaluate_policy(self, target: str, n_bootstrap: int = 200, seed: int = 7, source: str | None = None) -> dict:
        """Off-policy estimates (IPS, SNIPS, DM, DR, SNDR, Switch-DR) of ``target`` from the logged
        searches, its support, and which estimator the validation table says to trust."""
        return evaluate_policy(self.state.bandit, self.bandit_log(source), target, n_bootstrap, seed)

    def reset_learning(self) -> dict[str, int]:
        """Forget this database's log, learning state and memory feedback (graded labels are kept)."""
        with self.loop.lock:
            self.rankers.reset()
            self.ranker_path.unlink(missing_ok=True)
            return self.loop.reset()

    def learning_history(self) -> pd.DataFrame:
        """One row per settled search, in the order the reward windows closed: ``round``,
        ``search_id``, ``reason``, ``rewarded`` (any arm earned 1) and ``reward:<arm>`` per picked arm."""
        rows = [{"round": i, "search_id": r.search_id, "reason": r.reason, "rewarded": max(r.rewards.values()) > 0,
                 **{f"reward:{arm}": reward for arm, reward in r.rewards.items()}}
                for i, r in enumerate(self.store.settled_rounds(), start=1)]
        return pd.DataFrame(rows, columns=None if rows else ["round", "search_id", "reason", "rewarded"])

    def arm_stats(self) -> pd.DataFrame:
        stats = self.state.bandit.stats
        return pd.DataFrame(
            [{"arm": a, "pulls": stats.pulls.get(a, 0), "mean_reward": stats.mean(a)} for a in self.state.bandit.arms])

    # -- experiments ---------------------------------------------------------------------
    def query_set(self, spec: str) -> QuerySet:
        """The query set a spec names: ``sim:N``, ``log:top:N``, ``log:sample:N`` or ``file:PATH``."""
        return parse_query_set(spec, self.catalog, self.store.query_counts)

    def judgments(self, query_set: QuerySet, spec: str) -> Judgments:
        """Judgments for ``query_set``: ``sim``, ``labels``, ``labels:JUDGE`` or ``qrels:PATH``."""
        return judgments_for(query_set, spec, self.catalog, lambda judge: self.store.labels(judge=judge))

    def default_configurations(self) -> str:
        """Configurations that run on this engine as it is (``ltr`` once a model is trained)."""
        ranker = "ltr" if isinstance(self.rankers.current, LTRRanker) else "rrf"
        return (f"bandit=bandit/{ranker},all=all/{ranker},lexical+semantic=lexical+semantic/rrf,"
                "all-interleaved=all/interleave")

    def run_experiment(self, configurations: str | list[str], queries: str | QuerySet, judgments: str | Judgments,
                       baseline: str | None = None, against: int | None = None, save: bool = True,
                       progress: Progress | None = None) -> Experiment:
        """Run configurations offline over a query set (unlogged) and score them on the judgments;
        saved as a snapshot unless ``save`` is False. ``against``: an earlier snapshot's id, whose
        configurations join the comparison. Everything is checked before the first search, and
        nothing is stored unless the whole run succeeds."""
        configs = parse_configurations(configurations, self.strategy_names)
        for config in configs:
            self.ranker_for(config.ranker)
        query_set = self.query_set(queries) if isinstance(queries, str) else queries
        judged = self.judgments(query_set, judgments) if isinstance(judgments, str) else judgments
        earlier = self.experiment_snapshot(against) if against is not None else None
        embedder = self.pipeline.resources.embedder
        experiment = run_experiment(
            self.run_configuration, configs, query_set, judged, self.catalog.content_hash, self.catalog.source,
            baseline, lambda texts: embedder.encode_queries([query_text(self.understand(t)) for t in texts]), progress)
        combined = experiment.including(earlier) if earlier else experiment
        if save:
            snapshot_id = self.store.save_experiment(*experiment.snapshot_rows())
            combined = replace(combined, snapshot_id=snapshot_id)
        return combined

    def experiment_snapshots(self) -> pd.DataFrame:
        """Saved experiments, newest first, with ``this_catalog`` telling which ones compare here."""
        frame = self.store.experiments()
        frame["this_catalog"] = frame["catalog_hash"] == self.catalog.content_hash
        return frame

    def experiment_snapshot(self, snapshot_id: int) -> Experiment:
        """A saved experiment; refused if it was made on another catalog."""
        header, rows = self.store.experiment(snapshot_id)
        if header["catalog_hash"] != self.catalog.content_hash:
            raise SnapshotError(f"snapshot #{snapshot_id}: made on catalog {header['catalog_source']!r} "
                                f"(hash {header['catalog_hash']}), not on this one ({self.catalog.source!r}, "
                                f"hash {self.catalog.content_hash}); open that catalog to compare it")
        return Experiment.from_snapshot(snapshot_id, header, rows)

    # -- interleaving --
    def start_interleaving(self, configs: Sequence[Configuration], name: str | None = None) -> str:
        """Register an online experiment of ``configs`` (two: team-draft interleaving; three or more:
        team-draft multileaving) and return its id: ``name``, or the configuration names joined by " vs "."""
        if len(configs) < 2:
            raise ConfigurationError(f"interleaving: give two or more configurations, got {[c.name for c in configs]}")
        experiment = (name or " vs ".join(c.name for c in configs)).strip()
        self.store.create_interleaving(experiment, [c.spec for c in configs], INTERLEAVING_METHOD)
        return experiment

    def interleaving_configurations(self, experiment: str) -> list[Configuration]:
        """The configurations ``experiment`` compares, in team order."""
        return [parse_configuration(spec, self.strategy_names) for spec in self.store.interleaving_experiment(experiment)]

    def search_interleaved(self, query: str, experiment: str, context: Context | None = None, k: int = 10,
                           source: str = "human", user_id: str | None = None,
                           rng: np.random.Generator | None = None) -> SearchResult:
        """Serve ``query`` as a team-draft interleaved (or multileaved) page of ``experiment``'s
        configurations, each run by :meth:`run_configuration`; every shown result carries its team.

        The search is logged with its teams but opens no reward window: the bandit never learns
        from it, and it never enters the settled rounds, the bandit log or off-policy estimates
        (:meth:`FeedbackStore.log_interleaved_search`). Its clicks credit the teams
        (:meth:`interleaving_report`)."""
        context = context or Context()
        configs = self.interleaving_configurations(experiment)
        self.loop.close_expired()
        timings: dict[str, float] = {}
        message = _query_message(query)
        u = timed(timings, "understand", self.understand, query)
        if u.is_empty:
            return self._empty(query, context, u, timings, message or "Type a query to search.")
        runs = [timed(timings, f"configuration:{c.name}", self.run_configuration, c, query, context) for c in configs]
        lists = [[run.pool.ids[i] for i in run.ranked.order] for run in runs]
        drafted = timed(timings, "interleave", team_draft, lists, k, rng or np.random.default_rng())
        candidates: dict[str, Candidates] = {}
        depths: dict[str, int] = {}
        for config, run in zip(configs, runs):
            for strategy, found in run.candidates.items():
                if strategy not in candidates or len(found) > len(candidates[strategy]):
                    candidates[strategy] = found
                depth = config.depths[strategy] if config.depths is not None else len(found)
                depths[strategy] = max(depths.get(strategy, 1), depth)
        pool = CandidatePool.union(list(candidates.values()))
        features = timed(timings, "features", self.pipeline.featurize, pool, u)
        rows = [{entity_id: i for i, entity_id in enumerate(run.pool.ids)} for run in runs]
        items = []
        for rank, (entity_id, team) in enumerate(zip(drafted.ids, drafted.teams), start=1):
            run, i = runs[team], rows[team][entity_id]
            item = ResultItem.of(rank, self.catalog.entities[run.pool.positions[i]], run.ranked.scores[i],
                                 run.pool.found_by[i])
            items.append(replace(item, team=configs[team].name))
        x, key = self.context_vector(u, context)
        timings["total"] = sum(timings.values())
        record = SearchRecord(
            query=query[:MAX_QUERY_CHARS * 4], normalized_query=u.normalized, user_id=user_id or context.user.id,
            features=tuple(x.tolist()), policy="interleaving", arms_scored=(),
            chosen_arms=tuple(arm_name(s, d) for s, d in depths.items()), propensity=1.0, ranker=INTERLEAVING_METHOD,
            context={"weekday": context.weekday, "hour": context.hour, "holiday": context.holiday,
                     "user": context.user.id, "experiment": experiment},
            timings=timings, source=source, category=key)
        impressions = [ImpressionRow(i.id, i.rank, i.score, i.found_by) for i in items]
        search_id = self.loop.log_interleaved(record, impressions, [i.team for i in items], experiment)
        return SearchResult(query, context, u, x, None, candidates, pool, features, tuple(items), INTERLEAVING_METHOD,
                            timings, search_id, message, experiment)

    def interleaving_report(self, experiment: str, alpha: float = DEFAULT_ALPHA) -> dict:
        """Wins, losses and ties per pair of ``experiment``'s configurations from the logged clicks, with
        each pair's anytime-valid test (:class:`~ltrr_core.evaluation.interleaving.InterleavingTally`)."""
        configs = self.interleaving_configurations(experiment)
        tally = InterleavingTally(tuple(c.name for c in configs), alpha)
        for _, clicked in self.store.interleaving_credits(experiment):
            tally.add([clicked.get(c.name, 0) for c in configs])
        return {"experiment": experiment, "configurations": [c.spec for c in configs]} | tally.report()

    def interleaving_experiments(self) -> list[dict]:
        """Every interleaving experiment of this database, newest first, with its number of searches."""
        return self.store.interleaving_experiments()

    # -- interaction logs --
    def import_log(self, file: str | Path | tuple[str, bytes], fmt: str | None = None, skip_unknown: bool = False,
                   progress: LogProgress | None = None) -> LogImport:
        """Import an interaction log (a path, or ``(name, bytes)`` of an upload) in one transaction,
        streaming: a bad row raises ``LogFileError`` naming its line and field and nothing is stored;
        ids the catalog lacks refuse the file unless ``skip_unknown``. The memory index then counts
        the imported impressions and events. ``progress(rows read, fraction of the file)``."""
        if isinstance(file, tuple):
            name, binary, size = file[0], io.BytesIO(file[1]), len(file[1])
        else:
            path = Path(file)
            if not path.is_file():
                raise LogFileError(f"{path}: no such log file; give a CSV or JSON-lines interaction log")
            name, binary, size = str(path), path.open("rb"), path.stat().st_size
        with binary:
            report = import_log(self.store, self.catalog, name, binary, fmt, skip_unknown, size, progress)
        self._reload_memory()
        return report

    def log_imports(self) -> pd.DataFrame:
        """One row per imported log file (events, skipped)."""
        return self.store.log_imports()

    def log_event_counts(self) -> dict[str, int]:
        return self.store.log_event_counts()

    def export_log(self, path: str | Path) -> int:
        """Write this database's logged searches as an interaction log (CSV); returns the rows written."""
        with Path(path).open("w", encoding="utf-8", newline="") as fh:
            return write_log(self.store.export_log_rows(), fh)

    def _reload_memory(self) -> None:
        """The memory's observed statistics, re-read from the log (imported events and the curve in use)."""
        memory = self.pipeline.resources.memory
        with self.loop.lock:
            memory.reset_observed()
            memory.load_stats(self.store.q2e_stats())

    def estimate_position_bias(self, max_rank: int = DEFAULT_MAX_RANK, apply: bool = True) -> CurveEstimate:
        """Estimate the examination curve from randomized traffic (imported pages and logged searches),
        leaving out searches a strategy that learns from clicks (``memory``) helped rank: it moves a
        result because it was clicked, which is no intervention (:mod:`ltrr_core.feedback.position_bias`).
        With ``apply`` and a trustworthy estimate (no ``refusals``) it replaces the prior for the memory
        and IPS weights."""
        learning = [name for name, strategy in REGISTRY.items() if strategy.learns]
        estimate = estimate_from_impressions(self.store.position_impressions(), max_rank, leave_out=learning)
        if apply and estimate.usable:
            self.store.save_examination_curve(estimate.theta)
            self._reload_memory()
        return estimate

    def examination_curve(self, max_rank: int = DEFAULT_MAX_RANK) -> pd.DataFrame:
        """Examination probability by rank: the prior and the curve in use (``source``: prior or estimated)."""
        curve = self.store.curve
        return pd.DataFrame({"rank": range(1, max_rank + 1), "prior": [examination(r) for r in range(1, max_rank + 1)],
                             "in_use": [curve(r) for r in range(1, max_rank + 1)], "source": curve.source})

    def warm_start(self, progress: Callable[[int, int], None] | None = None) -> dict:
        """Warm-start the bandit by replaying every imported page (every strategy recomputed, each page
        grading the arms it exposed; memory against its own past, see :mod:`ltrr_core.feedback.replay`);
        the rounds are stored, and the learning state becomes the replayed rounds followed by the live
        ones (saved)."""
        pages = self.store.logged_pages()
        if not pages:
            raise ValueError("no imported result pages to replay; import a log first (ltrr logs import FILE)")
        replayer = Replayer(Pipeline(self.pipeline.resources.sandboxed(), self.strategy_names), self.policy,
                            self.n_features, self.loop.window, self.store.curve)
        rounds = list(replayer.replay(pages, progress))
        self.store.replace_replayed_rounds(rounds)
        self.loop.set_policy(self.policy)
        return replayer.summary(rounds).to_json()

    def train_from_logs(self, debias: bool = True) -> RetrainDecision:
        """Retrain the LTR ranker on the imported pages' clicks (``debias``: inverse-propensity weights
        from the examination curve in use); kept only if not worse on held-out pages."""
        groups = click_groups(self.pipeline, self.store.logged_pages(), max(self.policy.depths),
                              self.store.curve if debias else None)
        with self.loop.lock:
            self.rankers.groups = {g.group_id: g for g in groups}
            decision = self.rankers.retrain()
            if decision.accepted:
                write_atomic(self.ranker_path, self.rankers.current.save)
        return decision
    # -- fast encoder: background warm-up --------------------------------------------
    @property
    def warming(self) -> tuple[str, ...]:
        """Strategies whose indexes are still being built in the background (left out of the arms)."""
        return ("semantic",) if "semantic" in self.strategy_names and self.pipeline.resources.semantic_warming else ()

    def semantic_status(self) -> dict:
        """The background build's ``state`` (``ready``, ``warming`` or ``failed``), step ``label``
        (with rate and time left while embedding), ``fraction`` and ``error``."""
        build = self.pipeline.resources.background
        if build is None:
            ready = "dense" in self.pipeline.resources.__dict__
            return {"state": "ready" if ready else "not started", "label": "", "fraction": float(ready),
                    "error": None, "seconds": {}}
        return build.status()

    def wait_until_ready(self, timeout: float | None = None) -> bool:
        """Block until the background build finished (True) or ``timeout`` seconds passed (False)."""
        build = self.pipeline.resources.background
        return build is None or build.wait(timeout)

    @staticmethod
    def save_settings(settings: Settings, **changes) -> Settings:
        """Save the model, backend and/or dense index beside ``settings``' database (read on every
        start, so the next open uses them); the new settings, or ValueError naming the field."""
        return settings.save(**changes)

    @staticmethod
    def env_settings() -> dict[str, str]:
        """Settings fixed by ``LTRR_*`` environment variables (they override the saved ones)."""
        return env_overrides()

    def _warming_for(self, policy: PolicyConfig) -> frozenset[str]:
        """The strategies to leave out of this search; a policy fixed on a warming one waits for it."""
        warming = frozenset(self.warming)
        if policy.kind == "fixed" and warming.intersection(policy.fixed_strategies):
            self.wait_until_ready()
            return frozenset(self.warming)
        return warming

    # -- sweeps --
    def saved_sweeps(self) -> list[str]:
        """Names of the finished sweeps (``ltrr sweep``) saved beside this database, newest first."""
        return [path.stem for path in saved_reports(self.settings)]

    def load_sweep(self, name: str) -> dict:
        """A saved sweep report: per policy the mean and 95% interval of regret, hit rate and
        candidates, and the per-round regret band (:mod:`ltrr_core.services.sweeps`)."""
        if name not in self.saved_sweeps():
            raise KeyError(f"sweep {name!r}: not saved beside {self.settings.db_path}; run `ltrr sweep` first")
        return load_report(sweeps_dir(self.settings) / f"{name}.json")
    # -- off-policy evaluation --
    def evaluate_policies(self, targets: list[str], n_bootstrap: int = 200, seed: int = 7,
                          source: str | None = None) -> dict[str, dict]:
        """:meth:`evaluate_policy` for several targets sharing one reward model and its bootstrap refits;
        each result carries ``support``, ``no_support`` and the validation table's ``recommendation``."""
        return evaluate_policies(self.state.bandit, self.bandit_log(source), targets, n_bootstrap, seed)


def _query_message(query: str) -> str | None:
    if len(query) > MAX_QUERY_CHARS:
        return f"Query cut to its first {MAX_QUERY_CHARS} characters (it had {len(query):,})."
    return None

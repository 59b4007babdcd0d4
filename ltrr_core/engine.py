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
import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ltrr_core.catalog.hard_cases import HARD_CASES
from ltrr_core.catalog.loaders import ENTITY_FIELDS, REQUIRED_FIELDS
from ltrr_core.catalog.schema import Catalog, CatalogError
from ltrr_core.catalog.sources import load_catalog
from ltrr_core.config import Settings
from ltrr_core.evaluation.labelling import evaluate_labels, labelling_queue
from ltrr_core.evaluation.offpolicy import evaluate_policies, evaluate_policy
from ltrr_core.feedback.exchange import LabelImport, export_labels, import_judgments
from ltrr_core.feedback.grades import GRADES, MAX_GRADE, grade_label
from ltrr_core.feedback.labels import FORMATS as LABEL_FORMATS
from ltrr_core.feedback.labels import LabelFileError, parse_labels, read_labels
from ltrr_core.feedback.learning_state import LearningState, StateFiles
from ltrr_core.feedback.loop import FeedbackLoop
from ltrr_core.feedback.records import (
    BanditLogRecord,
    ImpressionRow,
    Label,
    SearchRecord,
)
from ltrr_core.feedback.settlement import NONE_OF_THESE, RewardWindow, Settlement
from ltrr_core.feedback.store import FeedbackStore, StoreError
from ltrr_core.pipeline import Pipeline, timed
from ltrr_core.ranking.features import FEATURE_NAMES
from ltrr_core.ranking.ltr import LTRRanker
from ltrr_core.ranking.pool import CandidatePool
from ltrr_core.ranking.retraining import RankerManager, RetrainDecision
from ltrr_core.ranking.training import training_groups
from ltrr_core.results import ResultItem, SearchResult
from ltrr_core.retrieval.candidates import Candidates
from ltrr_core.retrieval.indexes.cache import slug, write_atomic
from ltrr_core.retrieval.indexes.embedder import ModelNotFoundError
from ltrr_core.retrieval.resources import Resources
from ltrr_core.selection.bandit import (
    POLICIES,
    PolicyConfig,
    arm_depths,
)
from ltrr_core.selection.context import (
    Context,
    category,
    context_feature_names,
    featurize,
)
from ltrr_core.understanding.query import QueryUnderstanding
from ltrr_core.understanding.text import MAX_QUERY_CHARS, normalize

# What pages and the CLI may use: the engine, its results, and the vocabulary they show.
__all__ = [
    "ENTITY_FIELDS", "GRADES", "HARD_CASES", "LABEL_FORMATS", "MAX_GRADE", "POLICIES", "REQUIRED_FIELDS",
    "CatalogError", "Engine", "LabelFileError", "LabelImport", "ModelNotFoundError", "PolicyConfig", "RetrainDecision",
    "SearchResult", "StoreError", "grade_label",
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
        return cls(Pipeline(Resources(catalog, settings)), FeedbackStore(settings.db_path), policy, window=window)

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

    def warm_up(self, progress: Callable[[str, float], None] | None = None) -> dict[str, float]:
        """Build every index and model now (seconds per part); ``progress(label, fraction)``."""
        if progress:
            self.pipeline.resources.progress = progress
        seconds = self.pipeline.warm_up()
        start = time.perf_counter()
        self.search("warm up", Context(), log=False)
        seconds["first_search"] = time.perf_counter() - start
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
        with self.loop.lock:
            selection = timed(timings, "select", self.state.bandit.select, x)
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

"""The experiments face: configurations compared offline on a query set with judgments (saved as
snapshots), BEIR folders scored with the studio's settings, and online interleaving experiments
served to live searches."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ltrr_core.base.config import Settings
from ltrr_core.evaluation.beir import BEIR_STRATEGIES, EvalReport, evaluate_beir
from ltrr_core.evaluation.configurations import (
    Configuration,
    ConfigurationError,
    parse_configuration,
    parse_configurations,
)
from ltrr_core.base.progress import Progress
from ltrr_core.evaluation.experiments import Experiment, SnapshotError, run_experiment
from ltrr_core.evaluation.interleaving import METHOD as INTERLEAVING_METHOD
from ltrr_core.evaluation.interleaving import InterleavingTally, TallyReport, team_draft
from ltrr_core.evaluation.query_sets import Judgments, QuerySet, judgments_for, parse_query_set
from ltrr_core.evaluation.sequential import DEFAULT_ALPHA
from ltrr_core.evaluation.side_by_side import Comparison, Ranked, query_grades
from ltrr_core.pipeline import timed
from ltrr_core.ranking.ltr import LTRRanker
from ltrr_core.ranking.pool import CandidatePool
from ltrr_core.results import ResultItem, SearchResult
from ltrr_core.retrieval.candidates import Candidates
from ltrr_core.retrieval.strategies.semantic import query_text
from ltrr_core.selection.bandit import arm_name
from ltrr_core.selection.context import Context
from ltrr_core.services.runtime import Runtime

BEIR_SYSTEMS: tuple[str, ...] = (*BEIR_STRATEGIES, "fusion", "ltr")  # what a BEIR evaluation can score


@dataclass(frozen=True)
class InterleavingExperiment:
    """A registered online experiment: its ``id``, when it was made, the configuration specs it
    compares (team order), the method and how many searches it has served."""

    id: str
    created_at: float
    configurations: tuple[str, ...]
    method: str
    searches: int


@dataclass(frozen=True)
class InterleavingReport:
    """An interleaving experiment's standing from its logged clicks: its name, the configuration specs
    it compares (team order) and the tally of every pair (with its anytime-valid test)."""

    experiment: str
    configurations: tuple[str, ...]
    tally: TallyReport

    def to_json(self) -> dict:
        """As JSON: the experiment and its configurations, then the tally's figures."""
        return {"experiment": self.experiment, "configurations": list(self.configurations)} | self.tally.to_json()


def evaluate_folder(folder: str | Path, split: str, settings: Settings, systems: Sequence[str] | None = None,
                    progress: Progress | None = None) -> EvalReport:
    """Every chosen system (default: all of :data:`BEIR_SYSTEMS`) on ``split`` of a BEIR folder,
    with ``settings``' cache and model; needs no open catalog."""
    return evaluate_beir(folder, split=split, systems=systems or BEIR_SYSTEMS, settings=settings, progress=progress)


class ExperimentService:
    """Offline experiments and interleaving over one :class:`Runtime`."""

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    def configurations(self, specs: str | list[str]) -> list[Configuration]:
        """The configurations comma-joined ``specs`` name (ConfigurationError names a bad part)."""
        return parse_configurations(specs, self._rt.strategy_names)

    def default_configurations(self) -> str:
        """Configurations that run on this engine as it is (``ltr`` once a model is trained)."""
        ranker = "ltr" if isinstance(self._rt.rankers.current, LTRRanker) else "rrf"
        return (f"bandit=bandit/{ranker},all=all/{ranker},lexical+semantic=lexical+semantic/rrf,"
                "all-interleaved=all/interleave")

    def query_set(self, spec: str) -> QuerySet:
        """The query set a spec names: ``sim:N``, ``log:top:N``, ``log:sample:N``, ``log:pps:N`` or ``file:PATH``."""
        return parse_query_set(spec, self._rt.catalog, self._rt.store.query_counts)

    def judgments(self, query_set: QuerySet, spec: str) -> Judgments:
        """Judgments for ``query_set``: ``sim``, ``labels``, ``labels:JUDGE``, ``labels:mean|min|max``
        (the judges' grades merged), ``clicks[:MIN_IMPRESSIONS]`` (clicks over expected clicks in the log)
        or ``qrels:PATH``."""
        return judgments_for(query_set, spec, self._rt.catalog, lambda judge: self._rt.store.labels(judge=judge),
                             clicks=self._rt.store.click_stats)

    def run_experiment(self, configurations: str | list[str], queries: str | QuerySet, judgments: str | Judgments,
                       baseline: str | None = None, against: int | None = None, save: bool = True,
                       progress: Progress | None = None) -> Experiment:
        """Run configurations offline over a query set (unlogged) and score them on the judgments;
        saved as a snapshot unless ``save`` is False. ``against``: an earlier snapshot's id, whose
        configurations join the comparison. Everything is checked before the first search, and
        nothing is stored unless the whole run succeeds."""
        rt = self._rt
        configs = self.configurations(configurations)
        for config in configs:
            rt.ranker_for(config.ranker)
        query_set = self.query_set(queries) if isinstance(queries, str) else queries
        judged = self.judgments(query_set, judgments) if isinstance(judgments, str) else judgments
        earlier = self.experiment_snapshot(against) if against is not None else None
        embedder = rt.pipeline.resources.embedder
        experiment = run_experiment(
            rt.run_configuration, configs, query_set, judged, rt.catalog.content_hash, rt.catalog.source,
            baseline, lambda texts: embedder.encode_queries([query_text(rt.understand(t)) for t in texts]), progress)
        combined = experiment.including(earlier) if earlier else experiment
        if save:
            snapshot_id = rt.store.save_experiment(*experiment.snapshot_rows())
            combined = replace(combined, snapshot_id=snapshot_id)
        return combined

    def experiment_snapshots(self) -> pd.DataFrame:
        """Saved experiments, newest first, with ``this_catalog`` telling which ones compare here."""
        frame = self._rt.store.experiments()
        frame["this_catalog"] = frame["catalog_hash"] == self._rt.catalog.content_hash
        return frame

    def experiment_snapshot(self, snapshot_id: int) -> Experiment:
        """A saved experiment; refused if it was made on another catalog."""
        catalog = self._rt.catalog
        header, rows = self._rt.store.experiment(snapshot_id)
        if header["catalog_hash"] != catalog.content_hash:
            raise SnapshotError(f"snapshot #{snapshot_id}: made on catalog {header['catalog_source']!r} "
                                f"(hash {header['catalog_hash']}), not on this one ({catalog.source!r}, "
                                f"hash {catalog.content_hash}); open that catalog to compare it")
        return Experiment.from_snapshot(snapshot_id, header, rows)

    def evaluate_beir(self, folder: str | Path, split: str, systems: Sequence[str] | None = None,
                      progress: Progress | None = None) -> EvalReport:
        """:func:`evaluate_folder` with this studio's settings."""
        return evaluate_folder(folder, split, self._rt.settings, systems, progress)

    def side_by_side(self, query: str, a: str, b: str, context: Context | None = None, k: int = 10) -> Comparison:
        """The typed ``query`` through configuration specs ``a`` and ``b`` side by side, with its stored
        grades (ConfigurationError names a bad spec). Offline: nothing is logged, no reward window
        opens and the bandit picks without exploring."""
        rt = self._rt
        if not query.strip():
            raise ValueError("query: empty; type a query to compare")
        if k < 1:
            raise ValueError(f"k: {k!r} must be at least 1")
        configs = [parse_configuration(spec, rt.strategy_names) for spec in (a, b)]
        for config in configs:
            rt.ranker_for(config.ranker)  # an untrained ltr is a message before any search
        keep = max(k, 10)  # nDCG@10 reads ten
        sides = []
        for config in configs:
            run = rt.run_configuration(config, query, context)
            order = run.ranked.order[:keep]
            sides.append(Ranked(config, tuple(run.pool.ids[i] for i in order),
                                tuple(run.pool.found_by[i] for i in order),
                                {s: len(found) for s, found in run.candidates.items()}))
        return Comparison(query, *sides, grades=query_grades(query, rt.store.labels()), k=k)

    # -- interleaving --------------------------------------------------------------------
    def start_interleaving(self, configs: Sequence[Configuration], name: str | None = None) -> str:
        """Register an online experiment of ``configs`` (two: team-draft interleaving; three or more:
        team-draft multileaving) and return its id: ``name``, or the configuration names joined by " vs "."""
        if len(configs) < 2:
            raise ConfigurationError(f"interleaving: give two or more configurations, got {[c.name for c in configs]}")
        experiment = (name or " vs ".join(c.name for c in configs)).strip()
        self._rt.store.create_interleaving(experiment, [c.spec for c in configs], INTERLEAVING_METHOD)
        return experiment

    def interleaving_configurations(self, experiment: str) -> list[Configuration]:
        """The configurations ``experiment`` compares, in team order."""
        return [parse_configuration(spec, self._rt.strategy_names)
                for spec in self._rt.store.interleaving_experiment(experiment)]

    def search_interleaved(self, query: str, experiment: str, context: Context | None = None, k: int = 10,
                           source: str = "human", user_id: str | None = None,
                           rng: np.random.Generator | None = None) -> SearchResult:
        """Serve ``query`` as a team-draft interleaved (or multileaved) page of ``experiment``'s
        configurations; every shown result carries its team.

        The search is logged with its teams but opens no reward window: the bandit never learns
        from it, and it never enters the settled rounds, the bandit log or off-policy estimates.
        Its clicks credit the teams (:meth:`interleaving_report`)."""
        rt = self._rt
        context = context or Context()
        configs = self.interleaving_configurations(experiment)
        rt.loop.close_expired()
        timings: dict[str, float] = {}
        u, message = rt.understand_timed(query, timings)
        if u.is_empty:
            return rt.empty_result(query, context, u, timings, message)
        runs = [timed(timings, f"configuration:{c.name}", rt.run_configuration, c, query, context) for c in configs]
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
        features = timed(timings, "features", rt.pipeline.featurize, pool, u)
        rows = [{entity_id: i for i, entity_id in enumerate(run.pool.ids)} for run in runs]
        items = []
        for rank, (entity_id, team) in enumerate(zip(drafted.ids, drafted.teams), start=1):
            run, i = runs[team], rows[team][entity_id]
            item = ResultItem.of(rank, rt.catalog.entities[run.pool.positions[i]], run.ranked.scores[i],
                                 run.pool.found_by[i])
            items.append(replace(item, team=configs[team].name))
        x, key = rt.context_vector(u, context)
        timings["total"] = sum(timings.values())
        result = SearchResult(query=query, context=context, understanding=u, x=x, selection=None,
                              candidates=candidates, pool=pool, features=features, items=tuple(items),
                              ranker=INTERLEAVING_METHOD, timings=timings, message=message, experiment=experiment)
        record = rt.search_record(result, key, source, user_id or context.user.id, policy="interleaving",
                                  arms_scored=(), chosen_arms=tuple(arm_name(s, d) for s, d in depths.items()),
                                  propensity=1.0, experiment=experiment)
        search_id = rt.loop.log_interleaved(record, rt.impressions(result), [i.team for i in items], experiment)
        return replace(result, search_id=search_id)

    def interleaving_report(self, experiment: str, alpha: float = DEFAULT_ALPHA) -> InterleavingReport:
        """Wins, losses and ties per pair of ``experiment``'s configurations from the logged clicks, with
        each pair's anytime-valid test (:class:`~ltrr_core.evaluation.interleaving.InterleavingTally`)."""
        configs = self.interleaving_configurations(experiment)
        tally = InterleavingTally(tuple(c.name for c in configs), alpha)
        for _, clicked in self._rt.store.interleaving_credits(experiment):
            tally.add([clicked.get(c.name, 0) for c in configs])
        return InterleavingReport(experiment, tuple(c.spec for c in configs), tally.report())

    def interleaving_experiments(self) -> list[InterleavingExperiment]:
        """Every interleaving experiment of this database, newest first, with its number of searches."""
        return [InterleavingExperiment(row["id"], row["created_at"], tuple(row["configurations"]), row["method"],
                                       row["searches"]) for row in self._rt.store.interleaving_experiments()]

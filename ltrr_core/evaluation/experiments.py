"""Offline experiments: several configurations over one query set, scored on one set of judgments.

:func:`run_experiment` runs every configuration (:mod:`ltrr_core.evaluation.configurations`)
over every judged query through a ``run(configuration, query)`` callable (the engine's
``run_configuration``: unlogged, the bandit without exploration) and keeps, per configuration
and query, the top :data:`KEEP` ranked ids, the pool size and the time. An :class:`Experiment`
is a value: its table (a row per configuration: metrics, candidates per query, p50 latency per
search and per strategy, Holm-adjusted paired t-test p-values against the baseline), the
queries that changed most between two configurations, and a side-by-side view of one query.
It is saved to and read back from the store as a snapshot tied to the catalog's content hash.

Query vectors are encoded in one batch before the clock starts, so latency excludes query
encoding and every configuration sees the same warm cache.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from ltrr_core.evaluation.configurations import Configuration, ConfigurationError, parse_configuration
from ltrr_core.base.metrics import DEFAULT_METRICS, paired_tests, per_query_scores
from ltrr_core.base.progress import Progress, pace
from ltrr_core.evaluation.overlap import jaccard, rbo
from ltrr_core.evaluation.query_sets import Judgments, Query, QuerySet, QuerySetError
from ltrr_core.pipeline import FunnelRun

KEEP = 100  # ranked ids kept per configuration and query (recall@100 needs them all)
RunConfiguration = Callable[[Configuration, str], FunnelRun]
UNJUDGED = "unjudged"


@dataclass(frozen=True)
class Outcome:
    """One configuration on one query: the ranked ids (best first), the pool size, the times."""

    ranked: tuple[str, ...]
    candidates: int
    ms: float
    strategy_ms: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Experiment:
    """Configurations x judged queries: outcomes, judgments, and where they came from."""

    configurations: tuple[Configuration, ...]
    queries: tuple[Query, ...]
    qrels: Mapping[str, Mapping[str, int]]
    outcomes: Mapping[str, Mapping[str, Outcome]]  # configuration name -> query id -> outcome
    query_set: str
    judgments: str
    baseline: str
    catalog_hash: str
    catalog_source: str = ""
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # CPU time of the process meanwhile: the cost on a machine shared with others
    created_at: float = field(default_factory=time.time)
    snapshot_id: int | None = None
    metrics: tuple[str, ...] = DEFAULT_METRICS
    _scores: dict = field(default_factory=dict, init=False, repr=False, compare=False)  # per_query, computed once

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.configurations]

    def run(self, name: str) -> dict[str, dict[str, float]]:
        """One configuration's ranked lists as a run (score = KEEP - rank, so the order is exact)."""
        return {q: {d: float(KEEP - r) for r, d in enumerate(o.ranked)} for q, o in self._outcomes(name).items()}

    def per_query(self, name: str) -> dict[str, dict[str, float]]:
        """``{metric: {query id: score}}`` of one configuration."""
        if name not in self._scores:
            self._scores[name] = per_query_scores(self.qrels, self.run(name), self.metrics)
        return self._scores[name]

    def table(self) -> pd.DataFrame:
        """A row per configuration: its metrics (``p <metric>``: Holm-adjusted paired t-test p-value
        against the baseline), candidates per query, p50 ms per search and per strategy."""
        runs = {name: self.run(name) for name in self.names}
        tests = paired_tests(self.qrels, runs, self.baseline, self.metrics).set_index(["system", "metric"])
        strategies = list(dict.fromkeys(s for o in self._all() for s in o.strategy_ms))
        rows = []
        for config in self.configurations:
            scores = self.per_query(config.name)
            outcomes = list(self._outcomes(config.name).values())
            row: dict[str, object] = {"configuration": config.name, "spec": f"{config.retrieval}/{config.ranker}"}
            for metric in self.metrics:
                row[metric] = float(np.mean(list(scores[metric].values())))
                row[f"p {metric}"] = (tests.loc[(config.name, metric), "p_holm"]
                                      if config.name != self.baseline else float("nan"))
            row["candidates"] = float(np.mean([o.candidates for o in outcomes]))
            row["p50 ms"] = float(np.median([o.ms for o in outcomes]))
            for strategy in strategies:
                times = [o.strategy_ms[strategy] for o in outcomes if strategy in o.strategy_ms]
                row[f"p50 ms {strategy}"] = float(np.median(times)) if times else float("nan")
            rows.append(row)
        return pd.DataFrame(rows)

    def significance(self) -> pd.DataFrame:
        """Every configuration against the baseline per metric: delta, p, Holm p, wins/ties/losses."""
        return paired_tests(self.qrels, {n: self.run(n) for n in self.names}, self.baseline, self.metrics)

    def changed_queries(self, a: str, b: str, metric: str = "ndcg@10", k: int = 10, limit: int = 20) -> pd.DataFrame:
        """The queries whose top ``k`` differ most between ``a`` and ``b``: biggest metric change
        first, then lowest rank-biased overlap. Columns: query_id, query, a, b, delta, rbo, jaccard."""
        if metric not in self.metrics:
            raise ValueError(f"metric: {metric!r} is not one of this experiment's {list(self.metrics)}")
        score_a, score_b = self.per_query(a)[metric], self.per_query(b)[metric]
        lists_a, lists_b = self._outcomes(a), self._outcomes(b)
        rows = [{"query_id": q.id, "query": q.text, a: score_a[q.id], b: score_b[q.id],
                 "delta": score_b[q.id] - score_a[q.id],
                 "rbo": rbo(lists_a[q.id].ranked, lists_b[q.id].ranked, k),
                 "jaccard": jaccard(lists_a[q.id].ranked, lists_b[q.id].ranked, k)}
                for q in self.queries if q.id in score_a]
        frame = pd.DataFrame(rows, columns=["query_id", "query", a, b, "delta", "rbo", "jaccard"])
        frame["change"] = frame["delta"].abs()
        frame = frame.sort_values(["change", "rbo", "query_id"], ascending=[False, True, True])
        return frame.drop(columns="change").head(limit).reset_index(drop=True)

    def side_by_side(self, a: str, b: str, query_id: str, title: Callable[[str], str] = str, k: int = 10) -> pd.DataFrame:
        """The top ``k`` of ``a`` and ``b`` for one query, rank by rank, with each item's judged
        grade (``unjudged`` when the judgments do not mention it)."""
        if query_id not in self.qrels:
            raise ValueError(f"query {query_id!r}: not among this experiment's judged queries")
        grades = self.qrels[query_id]
        columns: dict[str, list] = {"rank": list(range(1, k + 1))}
        for name in (a, b):
            ranked = list(self._outcomes(name)[query_id].ranked[:k])
            ranked += [""] * (k - len(ranked))
            columns[name] = [title(d) if d else "" for d in ranked]
            columns[f"{name} grade"] = [grades.get(d, UNJUDGED) if d else "" for d in ranked]
        return pd.DataFrame(columns)

    def including(self, earlier: "Experiment") -> "Experiment":
        """This experiment with an earlier snapshot's configurations added (named ``#<id> <name>``),
        compared on this experiment's queries and judgments."""
        if earlier.catalog_hash != self.catalog_hash:
            raise SnapshotError(f"snapshot #{earlier.snapshot_id}: made on another catalog "
                                f"({earlier.catalog_source or earlier.catalog_hash}); compare snapshots of this catalog")
        missing = [q for q in self.qrels if q not in earlier.outcomes[earlier.names[0]]]
        if missing:
            raise SnapshotError(f"snapshot #{earlier.snapshot_id}: ran {earlier.query_set!r}, which lacks "
                                f"{len(missing)} of these queries (e.g. {missing[0]!r}); run with --queries {earlier.query_set}")
        added = tuple(replace(c, name=f"#{earlier.snapshot_id} {c.name}") for c in earlier.configurations)
        outcomes = {**self.outcomes, **{n.name: earlier.outcomes[c.name]
                                        for n, c in zip(added, earlier.configurations)}}
        return replace(self, configurations=self.configurations + added, outcomes=outcomes)

    def to_json(self) -> dict:
        table = self.table()
        return {"snapshot": self.snapshot_id, "catalog": self.catalog_source, "catalog_hash": self.catalog_hash,
                "query_set": self.query_set, "judgments": self.judgments, "queries": len(self.qrels),
                "baseline": self.baseline, "seconds": round(self.seconds, 3), "cpu_seconds": round(self.cpu_seconds, 3),
                "configurations": table.set_index("configuration").replace({np.nan: None}).to_dict("index")}

    # -- snapshots ---------------------------------------------------------------------
    def snapshot_rows(self) -> tuple[dict, list[dict]]:
        """The store's header and per-query rows for this experiment (see ``FeedbackStore.save_experiment``)."""
        header = {"created_at": self.created_at, "catalog_hash": self.catalog_hash,
                  "catalog_source": self.catalog_source, "query_set": self.query_set, "judgments": self.judgments,
                  "configurations": [c.spec for c in self.configurations], "baseline": self.baseline,
                  "qrels": self.qrels, "queries": [[q.id, q.text, q.category] for q in self.queries],
                  "summary": {"seconds": self.seconds, "cpu_seconds": self.cpu_seconds, "metrics": list(self.metrics)}}
        rows = []
        for name in self.names:
            scores = self.per_query(name)
            for qid, o in self._outcomes(name).items():
                rows.append({"configuration": name, "query_id": qid, "ranked": list(o.ranked),
                             "metrics": {m: scores[m].get(qid) for m in self.metrics}, "candidates": o.candidates,
                             "ms": o.ms, "strategy_ms": dict(o.strategy_ms)})
        return header, rows

    @classmethod
    def from_snapshot(cls, snapshot_id: int, header: dict, rows: Sequence[dict]) -> "Experiment":
        configurations = tuple(parse_configuration(spec) for spec in header["configurations"])
        outcomes: dict[str, dict[str, Outcome]] = {c.name: {} for c in configurations}
        for r in rows:
            outcomes[r["configuration"]][r["query_id"]] = Outcome(tuple(r["ranked"]), r["candidates"], r["ms"],
                                                                  r["strategy_ms"])
        return cls(configurations, tuple(Query(*q) for q in header["queries"]), header["qrels"], outcomes,
                   header["query_set"], header["judgments"], header["baseline"], header["catalog_hash"],
                   header["catalog_source"], header["summary"]["seconds"], header["summary"]["cpu_seconds"],
                   header["created_at"], snapshot_id, tuple(header["summary"]["metrics"]))

    def _outcomes(self, name: str) -> Mapping[str, Outcome]:
        if name not in self.outcomes:
            raise ConfigurationError(f"configuration {name!r}: not in this experiment; choose from {self.names}")
        return self.outcomes[name]

    def _all(self):
        return (o for per in self.outcomes.values() for o in per.values())


class SnapshotError(ValueError):
    """A snapshot that cannot be compared here (another catalog, other queries)."""


def run_experiment(run: RunConfiguration, configurations: Sequence[Configuration], query_set: QuerySet,
                   judgments: Judgments, catalog_hash: str, catalog_source: str = "", baseline: str | None = None,
                   encode: Callable[[list[str]], object] | None = None, progress: Progress | None = None) -> Experiment:
    """Every configuration over the judged queries of ``query_set``; ``baseline`` defaults to the first.
    ``encode(texts)`` warms the query-vector cache in one batch; ``progress(label, fraction)`` gets
    the searches done, the rate and the time left."""
    if not configurations:
        raise ConfigurationError("configurations: none given; write e.g. bandit/rrf,all/rrf")
    names = [c.name for c in configurations]
    baseline = baseline or names[0]
    if baseline not in names:
        raise ConfigurationError(f"baseline {baseline!r}: not one of the configurations {names}")
    queries = tuple(q for q in query_set.queries if judgments.qrels.get(q.id))
    if not queries:
        raise QuerySetError(f"query set {query_set.spec!r}: none of its queries is judged by {judgments.spec!r}")
    if encode:
        encode([q.text for q in queries])
    started, cpu, total = time.perf_counter(), time.process_time(), len(configurations) * len(queries)
    outcomes: dict[str, dict[str, Outcome]] = {}
    for c_index, config in enumerate(configurations):
        per: dict[str, Outcome] = outcomes.setdefault(config.name, {})
        for q_index, query in enumerate(queries):
            t = time.perf_counter()
            funnel = run(config, query.text)
            ms = (time.perf_counter() - t) * 1000
            ranked = funnel.ranked.order[:KEEP] if funnel.ranked is not None else []
            per[query.id] = Outcome(tuple(funnel.pool.ids[i] for i in ranked), len(funnel.pool), ms,
                                    {s: c.ms for s, c in funnel.candidates.items()})
            done = c_index * len(queries) + q_index + 1
            if progress and (done % 25 == 0 or done == total):
                progress(progress_label(config.name, done, total, time.perf_counter() - started), done / total)
    return Experiment(tuple(configurations), queries, {q.id: dict(judgments.qrels[q.id]) for q in queries}, outcomes,
                      query_set.spec, judgments.spec, baseline, catalog_hash, catalog_source,
                      time.perf_counter() - started, time.process_time() - cpu)


def progress_label(what: str, done: int, total: int, elapsed: float) -> str:
    """``"<what> · 250/1,200 searches · 85.0 searches/s · 00:11 left"``."""
    return f"{what} · {done:,}/{total:,} searches · {pace(elapsed, done / total, done, 'searches')}"

"""Offline evaluation on a BEIR dataset: each strategy alone, their RRF fusion, and LightGBM LTR.

``evaluate_beir(dir)`` retrieves with the real strategies over the dataset's corpus, trains the
LTR model on the TRAIN split's queries and qrels only, and scores every system on the
evaluation split with :mod:`ltrr_core.base.metrics` (ranx). One tidy table comes back:
a row per system, a column per metric.

Strategies left out on BEIR, and why, are listed in ``BEIR_LEFT_OUT``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ltrr_core.catalog.beir import load_beir
from ltrr_core.base.config import Settings
from ltrr_core.base.metrics import DEFAULT_METRICS, compare, rrf
from ltrr_core.base.progress import Progress
from ltrr_core.base.grades import MAX_GRADE
from ltrr_core.pipeline import Pipeline
from ltrr_core.ranking.ltr import LTRParams, LTRRanker, TrainingGroup, TrainReport
from ltrr_core.ranking.pool import CandidatePool
from ltrr_core.retrieval.resources import Resources
from ltrr_core.retrieval.strategies.semantic import query_text
from ltrr_core.selection.context import Context

RunDict = dict[str, dict[str, float]]

BEIR_STRATEGIES: tuple[str, ...] = ("lexical", "semantic")
BEIR_LEFT_OUT: dict[str, str] = {
    "popular": "BEIR documents carry no popularity (all 0), so its ranking is arbitrary",
    "structured": "needs music metadata (artist, album, genre, mood, decade)",
    "explore": "samples by popularity and metadata, which BEIR documents lack",
    "memory": "no searches or feedback have been logged on a BEIR corpus; its predicted queries come from music metadata",
}

# Chosen on a 25% validation split of SciFact's TRAIN queries (grid over learning rate, leaves,
# min_data_in_leaf); never on test. Sparse qrels (about one relevant document per query) want
# bigger leaves and a slower, longer run than the engine's defaults.
BEIR_PARAMS = LTRParams(learning_rate=0.03, num_leaves=31, min_data_in_leaf=100, num_boost_round=600,
                        early_stopping_rounds=100)


@dataclass(frozen=True)
class EvalOptions:
    """How deep each strategy retrieves, the RRF constant, and the LTR training knobs."""

    depth: int = 100
    rrf_k: int = 60
    valid_fraction: float = 0.2
    seed: int = 0
    params: LTRParams = field(default_factory=lambda: BEIR_PARAMS)

    def __post_init__(self) -> None:
        if self.depth < 1:
            raise ValueError(f"depth: {self.depth} must be >= 1")
        if self.rrf_k < 1:
            raise ValueError(f"rrf_k: {self.rrf_k} must be >= 1")


@dataclass(frozen=True)
class SplitRetrieval:
    """Every query of one split run through the strategies: per-strategy runs, pools and features."""

    query_ids: tuple[str, ...]
    runs: dict[str, RunDict]
    pools: dict[str, CandidatePool]
    features: dict[str, np.ndarray]


@dataclass(frozen=True)
class EvalReport:
    dataset: str
    split: str
    queries: int
    table: pd.DataFrame
    seconds: float
    train: TrainReport | None = None
    left_out: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "dataset": self.dataset,
            "split": self.split,
            "queries": self.queries,
            "systems": {name: {m: float(v) for m, v in row.items()} for name, row in self.table.iterrows()},
            "seconds": round(self.seconds, 3),
            **({"train": {k: v for k, v in asdict(self.train).items() if not k.endswith("group_ids")}} if self.train else {}),
            "left_out": dict(self.left_out),
        }


def retrieve_split(
    pipeline: Pipeline, queries: Mapping[str, str], query_ids: Sequence[str], depth: int,
    progress: Progress | None = None, label: str = "retrieving",
) -> SplitRetrieval:
    """Every query in ``query_ids`` through the funnel: every pipeline strategy at ``depth``, pooled and featurized."""
    understood = [pipeline.understand(queries[q]) for q in query_ids]
    pipeline.resources.embedder.encode_queries([query_text(u) for u in understood])  # one batch fills the query cache
    depths = {name: depth for name in pipeline.strategy_names}
    runs: dict[str, RunDict] = {name: {} for name in pipeline.strategy_names}
    pools: dict[str, CandidatePool] = {}
    features: dict[str, np.ndarray] = {}
    for i, (qid, query) in enumerate(zip(query_ids, understood)):
        funnel = pipeline.run(query, Context(), depths, ranker=None)
        for name, cands in funnel.candidates.items():
            runs[name][qid] = dict(zip(cands.ids, cands.scores.tolist()))
        pools[qid], features[qid] = funnel.pool, funnel.features
        if progress and (i + 1) % 50 == 0:
            progress(label, (i + 1) / len(query_ids))
    return SplitRetrieval(tuple(query_ids), runs, pools, features)


def training_groups(retrieved: SplitRetrieval, qrels: Mapping[str, Mapping[str, int]]) -> list[TrainingGroup]:
    """One group per query: its pool's features, labelled with the qrels grades (unjudged = 0)."""
    groups = []
    for qid in retrieved.query_ids:
        judged = qrels.get(qid, {})
        labels = np.array([min(int(judged.get(d, 0)), MAX_GRADE) for d in retrieved.pools[qid].ids], dtype=np.int32)
        groups.append(TrainingGroup(retrieved.features[qid], labels, qid))
    return groups


def ltr_run(ranker: LTRRanker, retrieved: SplitRetrieval) -> RunDict:
    return {
        qid: dict(zip(retrieved.pools[qid].ids, ranker.score(retrieved.features[qid]).tolist()))
        for qid in retrieved.query_ids
    }


def evaluate_beir(
    directory: str | Path,
    split: str = "test",
    systems: Sequence[str] | None = None,
    train_split: str = "train",
    settings: Settings | None = None,
    progress: Progress | None = None,
    options: EvalOptions | None = None,
) -> EvalReport:
    """Evaluate strategies, ``fusion`` and ``ltr`` on ``split``; LTR learns from ``train_split`` only."""
    started = time.perf_counter()
    options = options or EvalOptions()
    known = (*BEIR_STRATEGIES, "fusion", "ltr")
    systems = tuple(systems or known)
    unknown = [s for s in systems if s not in known]
    if unknown:
        raise ValueError(f"systems: {unknown} not available on BEIR; choose from {list(known)} (left out: {BEIR_LEFT_OUT})")
    dataset = load_beir(directory)
    for name in [split, *([train_split] if "ltr" in systems else [])]:
        if name not in dataset.qrels:
            raise ValueError(f"split: {directory}/qrels has no {name}.tsv (has {sorted(dataset.qrels)})")
    qrels = dataset.qrels[split]
    pipeline = Pipeline(Resources(dataset.catalog, settings, progress), BEIR_STRATEGIES)
    evaluated = [q for q in qrels if q in dataset.queries]
    test = retrieve_split(pipeline, dataset.queries, evaluated, options.depth, progress=progress, label=f"retrieving {split}")
    runs: dict[str, RunDict] = {s: test.runs[s] for s in BEIR_STRATEGIES if s in systems}
    if "fusion" in systems:
        runs["fusion"] = rrf([test.runs[s] for s in BEIR_STRATEGIES], k=options.rrf_k)
    report = None
    if "ltr" in systems:
        train_qrels = dataset.qrels[train_split]
        train_ids = [q for q in train_qrels if q in dataset.queries and q not in qrels]
        train = retrieve_split(pipeline, dataset.queries, train_ids, options.depth, progress=progress,
                               label=f"retrieving {train_split}")
        ranker = LTRRanker(options.params)
        report = ranker.train(training_groups(train, train_qrels), options.valid_fraction, options.seed)
        runs["ltr"] = ltr_run(ranker, test)
    table = compare(qrels, {s: runs[s] for s in systems}, DEFAULT_METRICS).set_index("system")
    return EvalReport(Path(directory).name, split, len(evaluated), table, time.perf_counter() - started, report, BEIR_LEFT_OUT)

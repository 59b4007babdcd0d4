"""Offline ranking metrics: a thin, explicit layer over ranx, plus reciprocal-rank fusion.

Shapes are plain dicts: ``qrels = {query_id: {doc_id: grade}}`` (grade 0 = not relevant) and
``run = {query_id: {doc_id: score}}`` (higher score = ranked higher).

Conventions, made explicit because ranx leaves them to flags or raises on them:

* the evaluated queries are exactly the qrels queries; a query missing from the run (or with
  an empty result list) scores 0 on every metric, and run queries absent from the qrels are
  ignored — the trec_eval ``-c`` convention;
* a qrels query whose grades are all 0 has no relevant document and scores 0 as well; a qrels
  query with no judgments at all (``{}``) is not evaluated;
* ties in score are ranked by doc id, so a run evaluates the same whatever its dict order;
* metric names are ranx's: ``ndcg@10`` (gain = grade, Järvelin-Kekäläinen), ``ndcg_burges@10``
  (gain = 2^grade - 1), ``recall@100``, ``mrr@10``, ``map``, ``precision@5``, ``hit_rate@10`` ...
"""

from __future__ import annotations

import re
import threading
import warnings
from numbers import Integral
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ltrr_core.base.fusion import rrf_scores

QrelsDict = Mapping[str, Mapping[str, int]]
RunDict = Mapping[str, Mapping[str, float]]

# _RANX_ON_USE: ranx (with numba, scipy.stats and matplotlib) is imported by the two functions that
# compute with it: at the top it was 8-11 s of every CLI and app start, and a search never needs it.
# ranx's numba kernels warn "unsafe cast from uint64 to int64" on every first compile; harmless.
warnings.filterwarnings("ignore", message="unsafe cast from uint64 to int64", module=r"ranx\.")

DEFAULT_METRICS = ("ndcg@10", "recall@100", "mrr@10")
RANX_METRICS = ("hits", "hit_rate", "precision", "recall", "f1", "r-precision", "mrr", "map", "ndcg", "ndcg_burges")
# ranx pins numba to its workqueue threading layer, which aborts the whole process when two threads
# enter a parallel kernel at once (two sessions' experiments, an experiment and a ranker gate): one
# lock around every ranx call here (its only user) serializes them; they are a small part of any evaluation.
RANX_LOCK = threading.Lock()
_NOTHING = "\x00no result"  # stands in for an empty result list, which a ranx Run cannot hold (never relevant)
_METRIC = re.compile(r"(?P<base>[a-z_-]+)(@(?P<k>[1-9][0-9]*))?")


def _check_metrics(metrics: Sequence[str] | str) -> list[str]:
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    if not names:
        raise ValueError("metrics: empty; name at least one metric, e.g. 'ndcg@10'")
    for name in names:
        match = _METRIC.fullmatch(name)
        if match is None or match["base"] not in RANX_METRICS:
            raise ValueError(
                f"metrics: unknown metric {name!r}; use NAME or NAME@K (K a positive integer) "
                f"with NAME one of {', '.join(RANX_METRICS)}"
            )
    return names


def _check_qrels(qrels: QrelsDict) -> None:
    if not qrels or not any(qrels.values()):
        raise ValueError("qrels: no judgments; give at least one {query_id: {doc_id: grade}} entry")
    for query_id, docs in qrels.items():
        for doc_id, grade in docs.items():
            if isinstance(grade, bool) or not isinstance(grade, Integral) or grade < 0:
                raise ValueError(f"qrels[{query_id!r}][{doc_id!r}]: grade {grade!r} must be a whole number >= 0")


def _by_rank(docs: Mapping[str, float]) -> dict[str, float]:
    """Docs best first, ties by doc id (ranx keeps insertion order among equal scores)."""
    return dict(sorted(((d, float(s)) for d, s in docs.items()), key=lambda item: (-item[1], item[0])))


def _per_query_scores(qrels: QrelsDict, run: RunDict, metrics: list[str]) -> dict[str, dict[str, float]]:
    """``{metric: {query_id: score}}`` over every qrels query (missing/empty results score 0)."""
    _check_qrels(qrels)
    judged = {q: docs for q, docs in qrels.items() if docs}
    ranked = {q: _by_rank(run[q]) for q in judged if run.get(q)}
    scores = {m: {q: 0.0 for q in judged} for m in metrics}
    if not ranked:  # ranx cannot build an empty Run; every query scores 0
        return scores
    from ranx import Qrels, Run, evaluate  # here, not at the top: see _RANX_ON_USE

    with RANX_LOCK:  # building a Run sorts in a parallel kernel too
        ranx_qrels = Qrels({q: {d: int(g) for d, g in docs.items()} for q, docs in judged.items()})
        ranx_run = Run(ranked)
        evaluate(ranx_qrels, ranx_run, metrics, make_comparable=True)
    for metric in metrics:
        scores[metric].update({q: float(v) for q, v in ranx_run.scores[metric].items()})
    return scores


def evaluate_run(qrels: QrelsDict, run: RunDict, metrics: Sequence[str] | str = DEFAULT_METRICS) -> dict[str, float]:
    """Mean of each metric over the qrels queries: ``{"ndcg@10": 0.61, ...}``."""
    names = _check_metrics(metrics)
    per_metric = _per_query_scores(qrels, run, names)
    return {m: sum(per_metric[m].values()) / len(per_metric[m]) for m in names}


def per_query(qrels: QrelsDict, run: RunDict, metric: str) -> dict[str, float]:
    """``{query_id: score}`` for one metric over every qrels query, in qrels order."""
    (name,) = _check_metrics([metric])
    return _per_query_scores(qrels, run, [name])[name]


def per_query_scores(qrels: QrelsDict, run: RunDict, metrics: Sequence[str] | str = DEFAULT_METRICS) -> dict[str, dict[str, float]]:
    """``{metric: {query_id: score}}`` for several metrics in one ranx call, in qrels order."""
    return _per_query_scores(qrels, run, _check_metrics(metrics))


def compare(qrels: QrelsDict, runs: Mapping[str, RunDict], metrics: Sequence[str] | str = DEFAULT_METRICS) -> pd.DataFrame:
    """One tidy table: a row per system (in the given order), a ``system`` column, a column per metric."""
    names = _check_metrics(metrics)
    if not runs:
        raise ValueError("runs: empty; give at least one {system_name: run}")
    rows = [{"system": system, **evaluate_run(qrels, run, names)} for system, run in runs.items()]
    return pd.DataFrame(rows, columns=["system", *names])


def rrf(runs: Sequence[RunDict], k: float = 60) -> dict[str, dict[str, float]]:
    """Reciprocal-rank fusion: ``score(d) = sum over runs of 1 / (k + rank(d))``, ranks from 1.

    Within a run, ties in score are ranked by doc id so the result is deterministic. A query may
    be missing from some runs (it then contributes nothing there). The sum is the rankers'
    :func:`~ltrr_core.base.fusion.rrf_scores` (one definition of RRF); not ``ranx.fuse``,
    which requires every run to hold the same queries and none to be empty.
    """
    if not runs:
        raise ValueError("runs: empty; give at least one run to fuse")
    if not k > 0:
        raise ValueError(f"k: {k!r} must be positive (60 is the usual choice)")
    fused: dict[str, dict[str, float]] = {}
    for query_id in dict.fromkeys(q for run in runs for q in run):
        lists = [list(_by_rank(run[query_id])) for run in runs if query_id in run]
        docs = list(dict.fromkeys(d for ranked in lists for d in ranked))
        ranks = [_ranks_of(docs, ranked) for ranked in lists]
        fused[query_id] = _by_rank(dict(zip(docs, rrf_scores(ranks, k).tolist()))) if docs else {}
    return fused


def _ranks_of(docs: list[str], ranked: list[str]) -> np.ndarray:
    """1-based rank of each of ``docs`` in ``ranked`` (NaN where absent)."""
    rank = {doc: r for r, doc in enumerate(ranked, start=1)}
    return np.array([rank.get(doc, np.nan) for doc in docs], dtype=np.float64)


def paired_tests(qrels: QrelsDict, runs: Mapping[str, RunDict], baseline: str,
                 metrics: Sequence[str] | str = DEFAULT_METRICS) -> pd.DataFrame:
    """Each system against ``baseline``: ranx ``compare``'s paired two-sided Student t-test over the
    qrels queries (same conventions as :func:`evaluate_run`), with the p-values of each metric
    adjusted for the several systems by Holm-Bonferroni (a system tied with the baseline on every
    query gets p = 1). One row per (system, metric):
    ``system, metric, delta, p_value, p_holm, wins, ties, losses``."""
    names = _check_metrics(metrics)
    if baseline not in runs:
        raise ValueError(f"baseline: {baseline!r} is not one of the systems {list(runs)}")
    others = [s for s in runs if s != baseline]
    columns = ["system", "metric", "delta", "p_value", "p_holm", "wins", "ties", "losses"]
    if not others:
        return pd.DataFrame(columns=columns)
    _check_qrels(qrels)
    judged = {q: {d: int(g) for d, g in docs.items()} for q, docs in qrels.items() if docs}
    from ranx import Qrels, Run  # see _RANX_ON_USE
    from ranx import compare as ranx_compare

    with RANX_LOCK:
        ranx_runs = [Run({q: _by_rank(run[q]) if run.get(q) else {_NOTHING: 0.0} for q in judged}, name=system)
                     for system, run in ((s, runs[s]) for s in [baseline, *others])]
        report = ranx_compare(Qrels(judged), ranx_runs, names, stat_test="student", make_comparable=True).to_dict()
    rows = []
    for metric in names:
        ties = [report[s]["win_tie_loss"][baseline][metric]["T"] == len(judged) for s in others]
        # identical scores on every query: the t statistic is 0/0 (ranx gives NaN); no evidence of a difference
        p_values = [1.0 if tie else float(report[baseline]["comparisons"][s][metric]) for s, tie in zip(others, ties)]
        for system, p, p_adj in zip(others, p_values, holm(p_values)):
            wtl = report[system]["win_tie_loss"][baseline][metric]
            delta = report[system]["scores"][metric] - report[baseline]["scores"][metric]
            rows.append({"system": system, "metric": metric, "delta": float(delta), "p_value": p, "p_holm": p_adj,
                         "wins": wtl["W"], "ties": wtl["T"], "losses": wtl["L"]})
    return pd.DataFrame(rows, columns=columns)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (step-down, monotone, capped at 1; NaN stays NaN)."""
    order = sorted(range(len(p_values)), key=lambda i: (np.isnan(p_values[i]), p_values[i]))
    adjusted = [float("nan")] * len(p_values)
    tested = sum(not np.isnan(p) for p in p_values)
    running = 0.0
    for rank, i in enumerate(order[:tested]):
        running = max(running, min(1.0, (tested - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted

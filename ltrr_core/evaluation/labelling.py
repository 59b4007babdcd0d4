"""The labelling queue and evaluation on the analyst's own labels.

The queue offers (query, result) pairs from recent logged searches, most informative first:

- ``disagreement``: the picked strategies disagree about the result (some found it, others
  did not): a label settles which one was right;
- ``uncertainty``: the bandit was unsure about that search (mean exploration bonus of the
  picked arms, scaled to the largest in the queue);
- ``top10``: an unlabelled result on the first page (1 / rank).

Pairs already labelled by the judge are left out.
"""

from __future__ import annotations

from typing import Iterable

import pandas as pd

from ltrr_core.catalog.schema import Catalog
from ltrr_core.base.metrics import DEFAULT_METRICS, compare
from ltrr_core.base.records import Label
from ltrr_core.feedback.store.feedback_store import FeedbackStore
from ltrr_core.pipeline import Pipeline
from ltrr_core.ranking.rankers import Ranker
from ltrr_core.selection.bandit import split_arm

QUEUE_COLUMNS = ("query", "entity_id", "title", "type", "rank", "found_by", "score", "why", "search_id")


def labelling_queue(store: FeedbackStore, catalog: Catalog, judge: str = "analyst", limit: int = 50,
                    searches: int = 200) -> pd.DataFrame:
    """The ``limit`` most informative unlabelled pairs from the newest ``searches`` searches."""
    labelled = {(lab.normalized_query, lab.entity_id) for lab in store.labels(judge=judge)}
    rows, seen = [], set()
    for search in store.searches(limit=searches).itertuples():
        chosen = {split_arm(a)[0] for a in search.chosen_arms}
        bonus = [a["bonus"] for a in search.arms_scored if a.get("picked")]
        uncertainty = sum(bonus) / len(bonus) if bonus else 0.0
        for shown in store.impressions(search.search_id):
            key = (search.normalized_query, shown.entity_id)
            if key in labelled or key in seen or shown.entity_id not in catalog:
                continue
            seen.add(key)
            disagreement = 1.0 - len(set(shown.found_by) & chosen) / len(chosen) if chosen else 0.0
            entity = catalog.get(shown.entity_id)
            rows.append({"query": search.query, "entity_id": shown.entity_id, "title": entity.title,
                         "type": entity.type, "rank": shown.rank, "found_by": ", ".join(shown.found_by),
                         "disagreement": disagreement, "uncertainty": uncertainty,
                         "top10": 1.0 / shown.rank if shown.rank <= 10 else 0.0, "search_id": search.search_id})
    if not rows:
        return pd.DataFrame(columns=QUEUE_COLUMNS)
    frame = pd.DataFrame(rows)
    top = frame["uncertainty"].max()
    frame["uncertainty"] = frame["uncertainty"] / top if top > 0 else 0.0
    frame["score"] = frame["disagreement"] + frame["uncertainty"] + frame["top10"]
    parts = frame[["disagreement", "uncertainty", "top10"]]
    frame["why"] = parts.idxmax(axis=1).where(parts.max(axis=1) > 0, "top10")
    return frame.sort_values(["score", "search_id"], ascending=[False, False]).head(limit)[list(QUEUE_COLUMNS)]


def evaluate_labels(pipeline: Pipeline, ranker: Ranker, labels: Iterable[Label], depth: int = 100) -> pd.DataFrame:
    """nDCG@10, recall@100, MRR@10 on graded ``labels``: every strategy alone, and all strategies
    blended by ``ranker`` (``ensemble:<ranker>``). One row per system."""
    qrels: dict[str, dict[str, int]] = {}
    text: dict[str, str] = {}
    for lab in labels:
        grades = qrels.setdefault(lab.normalized_query, {})
        grades[lab.entity_id] = max(lab.grade, grades.get(lab.entity_id, 0))
        text.setdefault(lab.normalized_query, lab.query)
    if not qrels:
        raise ValueError("no stored labels yet: grade some results on the Search or Labelling page first")
    runs: dict[str, dict[str, dict[str, float]]] = {s: {} for s in pipeline.strategy_names}
    ensemble: dict[str, dict[str, float]] = {}
    every = {name: depth for name in pipeline.strategy_names}
    for qid, query in text.items():
        replayed = pipeline.replay(query, every, ranker)
        for name, cands in replayed.candidates.items():
            runs[name][qid] = dict(zip(cands.ids, cands.scores.tolist()))
        ranked = replayed.ranked
        ensemble[qid] = {replayed.pool.ids[i]: float(ranked.scores[i]) for i in ranked.order}
    runs[f"ensemble:{ranker.name}"] = ensemble
    return compare(qrels, runs, DEFAULT_METRICS)

"""The labels face: graded relevance labels by named judges (one judge's grade never replaces
another's), label files in and out, the labelling queue, case grading (a query set's results to
grade with each query's nDCG@10, notes on queries, the judges' agreement), and training the LTR
ranker on what the labels and the feedback say."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import pandas as pd

from ltrr_core.base.grades import MAX_GRADE
from ltrr_core.base.labels import LabelFileError, parse_labels, parse_topics, read_labels
from ltrr_core.base.metrics import per_query
from ltrr_core.base.records import Label
from ltrr_core.evaluation.agreement import KAPPA_WEIGHTS, MERGE_RULES, Agreement, agreement, merged_qrels
from ltrr_core.evaluation.configurations import Configuration
from ltrr_core.evaluation.labelling import evaluate_labels, labelling_queue
from ltrr_core.evaluation.query_sets import QuerySet
from ltrr_core.feedback.click_training import click_groups
from ltrr_core.feedback.exchange import LabelImport, export_labels, import_judgments
from ltrr_core.feedback.store.notes import QueryNote
from ltrr_core.feedback.training import training_groups
from ltrr_core.ranking.retraining import RetrainDecision
from ltrr_core.results import ResultItem
from ltrr_core.services.runtime import Runtime
from ltrr_core.understanding.text import normalize


__all__ = ["CASE_COLUMNS", "CASE_METRIC", "KAPPA_WEIGHTS", "MERGE_RULES", "Agreement", "Case", "LabelImport",
           "LabelService", "QueryNote"]
CASE_METRIC = "ndcg@10"
CASE_COLUMNS = ("query", "normalized_query", CASE_METRIC, "graded", "judges", "note")


@dataclass(frozen=True)
class Case:
    """One query's results to grade: the engine's top ``k`` as the Search page ranks them without
    exploring (the bandit's greedy pick, the live ``ranker``), from an unlogged run."""

    query: str
    normalized_query: str
    results: tuple[ResultItem, ...]
    ranker: str


class LabelService:
    """Labels, judgments and ranker training over one :class:`Runtime`."""

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    def label(self, query: str, entity_id: str, grade: int, judge: str) -> Label:
        """Store ``judge``'s graded relevance (0..MAX_GRADE) of ``entity_id`` for ``query``, kept apart
        from clicks and from other judges' grades of the same pair; the stored label."""
        rt = self._rt
        if entity_id not in rt.catalog:
            raise KeyError(f"entity {entity_id!r} is not in the catalog {rt.catalog.source!r}")
        label = rt.store.set_label(query, entity_id, grade, judge)
        rt.loop.label(label.normalized_query, entity_id, grade)
        self.labelled(f"query:{label.normalized_query}")
        return label

    def labels(self, judge: str | None = None) -> list[Label]:
        return self._rt.store.labels(judge=judge)

    def labels_frame(self, judge: str | None = None) -> pd.DataFrame:
        return self._rt.store.labels_frame(judge=judge)

    def import_labels(self, file: str | Path | tuple[str, bytes], fmt: str | None, judge: str,
                      topics: str | Path | tuple[str, bytes] | None = None) -> LabelImport:
        """Import ``judge``'s label file (a path, or ``(name, bytes)`` of an upload) in one transaction;
        ``topics`` (a topics file: :func:`~ltrr_core.base.labels.parse_topics`) gives the query texts of
        trec/beir query ids.

        A bad row, or a grade above the studio's scale, raises ``LabelFileError`` naming its
        line and nothing is stored; documents the catalog lacks are skipped and counted."""
        rt = self._rt
        if isinstance(file, tuple):
            judgments = parse_labels(file[1], file[0], fmt, max_grade=MAX_GRADE)
        else:
            judgments = read_labels(file, fmt, max_grade=MAX_GRADE)
        if topics is not None:
            name, data = topics if isinstance(topics, tuple) else (str(topics), Path(topics).read_bytes())
            texts = parse_topics(data, name)
            missing = sorted({j.query_id for j in judgments if not j.query} - set(texts))
            if missing:  # an id is never stored as if it were the query's text
                raise LabelFileError(f"{name}: no topic for query id(s) {', '.join(missing[:5])}; add them to "
                                     "the topics file")
            judgments = [j if j.query else replace(j, query=texts[j.query_id]) for j in judgments]
        report = import_judgments(rt.store, rt.catalog, judgments, judge)
        with rt.lock:
            rt.state.labelled_since_train.update(f"query:{normalize(q)}" for q in report.queries)
        self.maybe_retrain()
        return report

    def export_labels(self, fmt: str, judge: str | None = None) -> str:
        """The text of a label file in ``fmt`` with the stored labels (of ``judge``, or all)."""
        return export_labels(self.labels(judge), fmt)

    def labelling_queue(self, judge: str, limit: int | None = None) -> pd.DataFrame:
        """The pairs most worth grading next for ``judge``, from every logged search; all of them (the
        queue's real size) unless ``limit`` (see :func:`~ltrr_core.evaluation.labelling.labelling_queue`)."""
        return labelling_queue(self._rt.store, self._rt.catalog, judge, limit, searches=None)

    def evaluate_labels(self, judge: str | None = None) -> pd.DataFrame:
        """Each strategy and the live ranker's blend, scored on the stored labels."""
        return evaluate_labels(self._rt.pipeline, self._rt.rankers.current, self.labels(judge))

    def labelled(self, key: str) -> RetrainDecision | None:
        """Count a newly labelled search or query; retrain once enough have come in."""
        self._rt.state.labelled_since_train.add(key)
        return self.maybe_retrain()

    def maybe_retrain(self) -> RetrainDecision | None:
        """Retrain the LTR ranker once the manager's policy says enough new labelled searches came in."""
        if not self._rt.rankers.due(len(self._rt.state.labelled_since_train)):
            return None
        return self.retrain()

    def retrain(self, source: str | None = "human") -> RetrainDecision:
        """Train LambdaMART on stored feedback of ``source`` (None: every source) and the labels;
        keep the old ranker if the new one is worse on held-out searches."""
        rt = self._rt
        groups = training_groups(rt.pipeline, rt.store.searches(source=source),
                                 rt.store.feedback_events(source=source), rt.store.labels())
        return rt.adopt(groups, forget_labelled=True)

    def train_from_logs(self, debias: bool = True) -> RetrainDecision:
        """Retrain the LTR ranker on the imported pages' clicks (``debias``: inverse-propensity weights
        from the examination curve in use); kept only if not worse on held-out pages."""
        rt = self._rt
        groups = click_groups(rt.pipeline, rt.store.logged_pages(), max(rt.policy.depths),
                              rt.store.curve if debias else None)
        return rt.adopt(groups)

    # -- case grading ----------------------------------------------------------------------
    def case(self, query: str, k: int = 10) -> Case:
        """``query``'s top ``k`` results to grade, from an offline run: nothing is logged, no reward
        window opens, the bandit does not explore (ValueError for a query without words)."""
        rt = self._rt
        if rt.understand(query).is_empty:
            raise ValueError(f"case {query!r}: the query has nothing to search")
        ranker = rt.rankers.current.name
        run = rt.run_configuration(Configuration("live", None, ranker), query)
        order = run.ranked.order[:k] if run.ranked is not None else []
        results = tuple(ResultItem.of(rank, rt.catalog.entities[run.pool.positions[i]], run.ranked.scores[i],
                                      run.pool.found_by[i]) for rank, i in enumerate(order, start=1))
        return Case(query, run.understanding.normalized, results, ranker)

    def case_scores(self, cases: Sequence[Case], rule: str = "mean") -> pd.DataFrame:
        """One row per case (:data:`CASE_COLUMNS`): its nDCG@10 on every judge's labels of the query
        merged by ``rule`` (NaN while none of its results is graded), how many shown results are
        graded, by how many judges, and the query's note."""
        if rule not in MERGE_RULES:
            raise ValueError(f"merge rule {rule!r}: choose {', '.join(MERGE_RULES)}")
        keys = {case.normalized_query for case in cases}
        labels = [label for label in self._rt.store.labels() if label.normalized_query in keys]
        qrels = merged_qrels(labels, rule)
        run = {c.normalized_query: {r.id: float(len(c.results) - r.rank + 1) for r in c.results} for c in cases}
        scores = per_query(qrels, run, CASE_METRIC) if qrels else {}
        notes = self._rt.store.notes(keys)
        rows = []
        for case in cases:
            graded = qrels.get(case.normalized_query, {})
            judges = {label.judge for label in labels if label.normalized_query == case.normalized_query}
            note = notes.get(case.normalized_query)
            rows.append({"query": case.query, "normalized_query": case.normalized_query,
                         CASE_METRIC: scores.get(case.normalized_query, float("nan")),
                         "graded": sum(r.id in graded for r in case.results), "judges": len(judges),
                         "note": note.note if note else ""})
        return pd.DataFrame(rows, columns=list(CASE_COLUMNS))

    def agreement(self, query_set: QuerySet | None = None, weights: str | None = None) -> Agreement:
        """How the judges agree (Cohen's kappa of every two, ``weights`` None: unweighted) on the
        labels of ``query_set``'s queries, or on every label."""
        labels = self.labels()
        if query_set is not None:
            keys = {normalize(q.text) for q in query_set.queries} | {q.id for q in query_set.queries}
            labels = [label for label in labels if label.normalized_query in keys]
        return agreement(labels, weights)

    def set_note(self, query: str, note: str, judge: str) -> QueryNote | None:
        """Store ``judge``'s note on ``query`` for every judge to read (an empty note removes it)."""
        return self._rt.store.set_note(query, note, judge)

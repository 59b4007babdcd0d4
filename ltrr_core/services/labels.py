"""The labels face: graded relevance labels by named judges (one judge's grade never replaces
another's), label files in and out, the labelling queue, and training the LTR ranker on what the
labels and the feedback say."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from ltrr_core.base.grades import MAX_GRADE
from ltrr_core.base.labels import LabelFileError, parse_labels, parse_topics, read_labels
from ltrr_core.base.records import Label
from ltrr_core.evaluation.labelling import evaluate_labels, labelling_queue
from ltrr_core.feedback.click_training import click_groups
from ltrr_core.feedback.exchange import LabelImport, export_labels, import_judgments
from ltrr_core.feedback.training import training_groups
from ltrr_core.ranking.retraining import RetrainDecision
from ltrr_core.services.runtime import Runtime
from ltrr_core.understanding.text import normalize


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

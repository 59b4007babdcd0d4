"""Label import and export: one path for the Labelling page and ``ltrr labels``.

An import reads the whole file first (a bad row raises :class:`LabelFileError` naming its
line, grades above the studio's scale included), skips and counts the judgments whose
document the catalog lacks, and stores the rest in one transaction: all or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Container, Sequence

from ltrr_core.base.labels import Judgment, format_labels
from ltrr_core.base.records import Label
from ltrr_core.feedback.store.feedback_store import FeedbackStore


@dataclass(frozen=True)
class LabelImport:
    """What an import stored, and what it skipped because the catalog lacks the document."""

    imported: int
    judge: str
    unknown: int = 0
    unknown_example: str | None = None
    queries: tuple[str, ...] = ()  # the distinct query texts that got labels

    def message(self) -> str:
        text = f"Imported {self.imported:,} labels as judge {self.judge}."
        if self.unknown:
            text += (f" Skipped {self.unknown:,} whose document is not in this catalog"
                     f" (e.g. {self.unknown_example}).")
        return text

    def to_json(self) -> dict:
        return {"imported": self.imported, "judge": self.judge, "unknown": self.unknown,
                "unknown_example": self.unknown_example, "queries": len(self.queries)}


def import_judgments(store: FeedbackStore, catalog: Container[str], judgments: Sequence[Judgment],
                     judge: str) -> LabelImport:
    """Store ``judgments`` by ``judge`` in one transaction; unknown documents are skipped and counted."""
    unknown = [j for j in judgments if j.doc_id not in catalog]
    rows = [(_query_text(j), j.doc_id, j.grade) for j in judgments if j.doc_id in catalog]
    store.set_labels(rows, judge)
    return LabelImport(len(rows), judge, len(unknown), unknown[0].doc_id if unknown else None,
                       tuple(dict.fromkeys(query for query, _, _ in rows)))


def _query_text(judgment: Judgment) -> str:
    """A judgment's query: its text, else its id with ``_`` read as a space (how ids are exported)."""
    return judgment.query or judgment.query_id.replace("_", " ")


def label_judgments(labels: Sequence[Label], fmt: str) -> list[Judgment]:
    """Stored labels as judgments for ``fmt``: csv keys queries by their text, trec and beir by
    the normalized text with ``_`` for spaces (their ids cannot hold whitespace; an import reads
    ``_`` back as a space)."""
    return [Judgment(label.query if fmt == "csv" else "_".join(label.normalized_query.split()),
                     label.entity_id, label.grade, label.query) for label in labels]


def export_labels(labels: Sequence[Label], fmt: str) -> str:
    """The text of a label file in ``fmt`` holding ``labels`` (csv cells a spreadsheet would run as
    formulas get a leading ``'``, NUL is dropped: :func:`~ltrr_core.base.text_files.spreadsheet_cell`)."""
    return format_labels(label_judgments(labels, fmt), fmt, f"labels.{fmt}")

"""Judgments from clicks (implicit judgments, as OpenSearch's Search Relevance Workbench makes them):
clicks over expected clicks (COEC) per (query, result), graded.

A pair's expected clicks are what an average result would have drawn at the ranks it was shown at:
``expected = ctr * sum(curve(rank) for each impression)``, where ``curve`` is the examination curve in
use (the store's: estimated from traffic, else the prior) and ``ctr = total clicks / total examined
impressions`` over the whole log (the click rate of an examined result). ``COEC = clicks / expected``:
1 is an average result, 2 drew twice the clicks an average one would have there.

Grades (:data:`COEC_GRADES`): COEC >= 2 -> 3 (perfect), >= 1 -> 2 (relevant), >= 0.5 -> 1 (related),
below -> 0 (not relevant). Only pairs shown at least ``min_impressions`` times are judged
(:data:`DEFAULT_MIN_IMPRESSIONS`): fewer say too little.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ltrr_core.feedback.store.analytics import ClickStat

DEFAULT_MIN_IMPRESSIONS = 10
COEC_GRADES: tuple[tuple[float, int], ...] = ((2.0, 3), (1.0, 2), (0.5, 1))  # (lowest COEC, grade), highest first


@dataclass(frozen=True)
class ClickJudgment:
    """One judged (normalized query, entity) pair: its impressions, clicks, expected clicks, COEC and grade."""

    query: str
    entity_id: str
    impressions: int
    clicks: int
    expected: float
    coec: float
    grade: int


def coec_grade(coec: float) -> int:
    """The grade of a COEC value (:data:`COEC_GRADES`)."""
    return next((grade for lowest, grade in COEC_GRADES if coec >= lowest), 0)


def click_judgments(stats: Sequence[ClickStat], min_impressions: int = DEFAULT_MIN_IMPRESSIONS) -> list[ClickJudgment]:
    """The graded pairs of ``stats`` shown at least ``min_impressions`` times (the log's click rate per
    examined impression sets the expectation; empty when the log holds no click)."""
    if min_impressions < 1:
        raise ValueError(f"min_impressions: {min_impressions!r} must be at least 1")
    clicks = sum(s.clicks for s in stats)
    examined = sum(s.examined for s in stats)
    if not clicks or not examined:
        return []
    ctr = clicks / examined
    judged = []
    for s in stats:
        if s.impressions < min_impressions:
            continue
        expected = ctr * s.examined
        coec = s.clicks / expected
        judged.append(ClickJudgment(s.query, s.entity_id, s.impressions, s.clicks, expected, coec, coec_grade(coec)))
    return judged


def click_qrels(stats: Sequence[ClickStat],
                min_impressions: int = DEFAULT_MIN_IMPRESSIONS) -> dict[str, dict[str, int]]:
    """:func:`click_judgments` as qrels ``{normalized query: {entity id: grade}}`` (grade 0 pairs kept)."""
    qrels: dict[str, dict[str, int]] = {}
    for judgment in click_judgments(stats, min_impressions):
        qrels.setdefault(judgment.query, {})[judgment.entity_id] = judgment.grade
    return qrels

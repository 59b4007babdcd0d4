"""Several judges on the same pairs: how far they agree, and one grade per pair from their grades.

Agreement is Cohen's kappa (:func:`sklearn.metrics.cohen_kappa_score`) of every two judges over the
(query, result) pairs both graded: unweighted by default (grades as categories), or ``linear`` /
``quadratic`` weights (grades as an ordinal scale). A pair is keyed by the normalized query, as
labels are. Kappa is undefined (NaN) when the two judges share fewer than two pairs or one grade
is all either of them gave on them.

A merge rule makes one grade of a pair's grades: ``max``, ``min``, or ``mean`` rounded half up
(1 and 2 -> 2; 0, 1 and 1 -> 1). ``labels:RULE`` judgments (:mod:`ltrr_core.evaluation.query_sets`)
are the labels merged by RULE.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from itertools import combinations
from typing import Iterable, Mapping, Sequence

import pandas as pd
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import cohen_kappa_score

from ltrr_core.base.grades import GRADES
from ltrr_core.base.records import Label

MERGE_RULES: tuple[str, ...] = ("mean", "min", "max")
KAPPA_WEIGHTS: tuple[str | None, ...] = (None, "linear", "quadratic")
Pair = tuple[str, str]  # (normalized query, entity id)


def merge_grades(grades: Iterable[int], rule: str) -> int:
    """One grade of several judges' ``grades`` by ``rule`` (see the module docstring)."""
    values = [int(g) for g in grades]
    if rule not in MERGE_RULES:
        raise ValueError(f"merge rule {rule!r}: choose {', '.join(MERGE_RULES)}")
    if not values:
        raise ValueError("merge: no grades to merge")
    if rule == "max":
        return max(values)
    if rule == "min":
        return min(values)
    return math.floor(sum(values) / len(values) + 0.5)


def grades_by_pair(labels: Iterable[Label]) -> dict[Pair, dict[str, int]]:
    """``{(normalized query, entity id): {judge: grade}}`` of ``labels``."""
    pairs: dict[Pair, dict[str, int]] = {}
    for label in labels:
        pairs.setdefault((label.normalized_query, label.entity_id), {})[label.judge] = label.grade
    return pairs


def merged_qrels(labels: Iterable[Label], rule: str) -> dict[str, dict[str, int]]:
    """``{normalized query: {entity id: grade}}``: every judge's grades of a pair merged by ``rule``."""
    qrels: dict[str, dict[str, int]] = {}
    for (query, entity_id), by_judge in grades_by_pair(labels).items():
        qrels.setdefault(query, {})[entity_id] = merge_grades(by_judge.values(), rule)
    return qrels


@dataclass(frozen=True)
class JudgePair:
    """Two judges on the pairs both graded: how many (``shared``), the share graded the same
    (``exact``, NaN with none shared) and Cohen's ``kappa`` (NaN when undefined)."""

    judges: tuple[str, str]
    shared: int
    exact: float
    kappa: float


@dataclass(frozen=True)
class Agreement:
    """Every judge's number of graded pairs, and every two judges' :class:`JudgePair`;
    ``weights``: the kappa's weighting (None: unweighted)."""

    graded: Mapping[str, int]
    pairs: tuple[JudgePair, ...]
    weights: str | None = None

    @property
    def judges(self) -> tuple[str, ...]:
        return tuple(self.graded)

    def kappa(self, a: str, b: str) -> float:
        """Cohen's kappa of judges ``a`` and ``b`` (1.0 for a judge with itself)."""
        if a == b:
            return 1.0
        for pair in self.pairs:
            if set(pair.judges) == {a, b}:
                return pair.kappa
        raise KeyError(f"judges {a!r} and {b!r}: not both among {list(self.judges)}")

    def matrix(self) -> pd.DataFrame:
        """Judges by judges, Cohen's kappa in each cell (symmetric; 1.0 on the diagonal)."""
        return pd.DataFrame([[self.kappa(a, b) for b in self.judges] for a in self.judges],
                            index=list(self.judges), columns=list(self.judges))

    def table(self) -> pd.DataFrame:
        """One row per two judges: ``judge_a, judge_b, shared, exact, kappa``."""
        return pd.DataFrame([{"judge_a": p.judges[0], "judge_b": p.judges[1], "shared": p.shared, "exact": p.exact,
                              "kappa": p.kappa} for p in self.pairs],
                            columns=["judge_a", "judge_b", "shared", "exact", "kappa"])


def cohen_kappa(a: Sequence[int], b: Sequence[int], weights: str | None = None) -> float:
    """Cohen's kappa of two judges' grades of the same pairs (in the same order) on the studio's
    grade scale; NaN when undefined (under two pairs, or a single grade throughout)."""
    if weights not in KAPPA_WEIGHTS:
        raise ValueError(f"kappa weights {weights!r}: choose none, linear or quadratic")
    if len(a) != len(b):
        raise ValueError(f"kappa: {len(a)} grades against {len(b)}; give both judges' grades of the same pairs")
    if len(a) < 2:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        return float(cohen_kappa_score(list(a), list(b), labels=list(GRADES), weights=weights))


def agreement(labels: Iterable[Label], weights: str | None = None) -> Agreement:
    """How the judges of ``labels`` agree: each judge's graded pairs and every two judges'
    :class:`JudgePair` over the pairs both graded (judges in name order)."""
    pairs = grades_by_pair(labels)
    graded: dict[str, int] = {}
    for by_judge in pairs.values():
        for judge in by_judge:
            graded[judge] = graded.get(judge, 0) + 1
    judges = sorted(graded)
    rows = []
    for a, b in combinations(judges, 2):
        both = [(g[a], g[b]) for g in pairs.values() if a in g and b in g]
        grades_a, grades_b = [x for x, _ in both], [y for _, y in both]
        exact = sum(x == y for x, y in both) / len(both) if both else float("nan")
        rows.append(JudgePair((a, b), len(both), exact, cohen_kappa(grades_a, grades_b, weights)))
    return Agreement({j: graded[j] for j in judges}, tuple(rows), weights)

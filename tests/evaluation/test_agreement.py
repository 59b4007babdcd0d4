"""Judges' agreement (Cohen's kappa on known pairs, by hand and by scikit-learn) and the merge rules."""

from __future__ import annotations

import math

import pytest

from ltrr_core.base.records import Label
from ltrr_core.evaluation.agreement import agreement, cohen_kappa, merge_grades, merged_qrels


def label(query: str, entity_id: str, grade: int, judge: str) -> Label:
    return Label(query, query.lower(), entity_id, grade, judge)


def test_kappa_of_a_known_table_equals_the_textbook_value():
    # 10 pairs: both say 3 on four, both 0 on three, a=3/b=0 on two, a=0/b=3 on one.
    # p_o = 7/10; p_e = (6/10 * 5/10) + (4/10 * 5/10) = 0.5; kappa = (0.7 - 0.5) / 0.5 = 0.4
    a = [3] * 4 + [0] * 3 + [3] * 2 + [0]
    b = [3] * 4 + [0] * 3 + [0] * 2 + [3]
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert cohen_kappa(a, a) == pytest.approx(1.0)


def test_weighted_kappa_credits_near_misses_that_unweighted_does_not():
    a, b = [0, 1, 2, 3, 3, 0], [1, 2, 3, 2, 3, 0]  # mostly one grade apart
    assert cohen_kappa(a, b, "linear") > cohen_kappa(a, b) and cohen_kappa(a, b, "quadratic") > cohen_kappa(a, b)
    with pytest.raises(ValueError, match="choose none, linear or quadratic"):
        cohen_kappa(a, b, "cubic")


def test_kappa_is_undefined_with_one_shared_pair_or_a_single_grade():
    assert math.isnan(cohen_kappa([2], [2]))
    assert math.isnan(cohen_kappa([1, 1, 1], [1, 1, 1]))


def test_agreement_pairs_judges_on_the_pairs_both_graded_only():
    labels = [label("love", "a", 3, "ana"), label("love", "b", 0, "ana"), label("love", "c", 2, "ana"),
              label("love", "a", 3, "bo"), label("love", "b", 1, "bo"), label("rain", "x", 1, "bo"),
              label("love", "a", 2, "cy")]
    found = agreement(labels)
    assert found.judges == ("ana", "bo", "cy") and dict(found.graded) == {"ana": 3, "bo": 3, "cy": 1}
    ana_bo = found.pairs[0]
    assert ana_bo.judges == ("ana", "bo") and ana_bo.shared == 2 and ana_bo.exact == 0.5
    assert found.kappa("bo", "ana") == pytest.approx(cohen_kappa([3, 0], [3, 1]))
    assert math.isnan(found.kappa("ana", "cy"))  # one shared pair
    matrix = found.matrix()
    assert list(matrix.index) == ["ana", "bo", "cy"] and matrix.loc["ana", "ana"] == 1.0
    assert matrix.loc["ana", "bo"] == matrix.loc["bo", "ana"]
    with pytest.raises(KeyError, match="not both among"):
        found.kappa("ana", "dee")


@pytest.mark.parametrize("rule, grades, merged", [
    ("max", [0, 2, 1], 2), ("min", [0, 2, 1], 0), ("mean", [1, 2], 2), ("mean", [0, 1, 1], 1),
    ("mean", [0, 3], 2), ("mean", [3], 3),
])
def test_merge_rules(rule, grades, merged):
    assert merge_grades(grades, rule) == merged


def test_merged_qrels_keys_pairs_by_normalized_query_and_refuses_an_unknown_rule():
    labels = [label("Love", "a", 3, "ana"), label("love", "a", 0, "bo"), label("love", "b", 2, "bo")]
    assert merged_qrels(labels, "min") == {"love": {"a": 0, "b": 2}}
    assert merged_qrels(labels, "mean") == {"love": {"a": 2, "b": 2}}
    with pytest.raises(ValueError, match="choose mean, min, max"):
        merged_qrels(labels, "median")

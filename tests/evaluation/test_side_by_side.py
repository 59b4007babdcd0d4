"""The side-by-side value on hand-built lists: movement markers from A to B, nDCG@10 equal to ranx's
own, agreement figures, and grades matched to the typed query by normalized text."""

from __future__ import annotations

import pytest
from ranx import Qrels, Run, evaluate

from ltrr_core.base.records import Label
from ltrr_core.evaluation.configurations import parse_configuration
from ltrr_core.evaluation.overlap import rbo
from ltrr_core.evaluation.side_by_side import Comparison, Ranked, movement, query_grades


def ranked(spec: str, ids: str) -> Ranked:
    names = tuple(ids.split())
    return Ranked(parse_configuration(spec), names, tuple(("lexical",) for _ in names), {"lexical": len(names)})


A = ranked("lexical@10/rrf", "d1 d2 d3 d4 d5")
B = ranked("all@10/rrf", "d3 d2 d9 d1 d4")  # d3 up 2, d2 same, d9 new, d1 down 3, d4 down 1, d5 dropped


def test_each_shown_result_says_how_it_moved_from_a_to_b():
    comparison = Comparison("q", A, B, grades={}, k=5)
    assert [(r.id, r.movement, r.other_rank) for r in comparison.rows("b")] == [
        ("d3", "up 2", 3), ("d2", "same", 2), ("d9", "new", None), ("d1", "down 3", 1), ("d4", "down 1", 4)]
    assert [(r.id, r.movement) for r in comparison.rows("a")] == [
        ("d1", "down 3"), ("d2", "same"), ("d3", "up 2"), ("d4", "down 1"), ("d5", "dropped")]


def test_movement_counts_only_the_shown_top_k():
    rows = Comparison("q", A, B, grades={}, k=3).rows("b")
    assert [r.movement for r in rows] == ["up 2", "same", "new"]  # d1 is in A's top 3 but B shows only 3
    assert [r.movement for r in Comparison("q", A, B, grades={}, k=3).rows("a")] == ["dropped", "same", "up 2"]


def test_movement_of_a_result_on_neither_side_is_refused():
    assert (movement(4, 1), movement(1, 4), movement(2, 2)) == ("up 3", "down 3", "same")
    with pytest.raises(ValueError, match="neither side"):
        movement(None, None)


def test_ndcg_at_10_of_each_side_equals_ranx_on_the_judged_query():
    grades = {"d1": 3, "d9": 2, "d5": 1, "d7": 3}  # d7: judged relevant, found by neither
    comparison = Comparison("love songs", A, B, grades=grades)
    for side, ids in (("a", A.ids), ("b", B.ids)):
        run = Run({"q": {d: float(10 - r) for r, d in enumerate(ids)}})
        expected = evaluate(Qrels({"q": grades}), run, "ndcg@10")
        assert comparison.ndcg(side) == pytest.approx(expected)
    assert comparison.ndcg("a") != pytest.approx(comparison.ndcg("b"))
    assert [r.grade for r in comparison.rows("b")] == [None, None, 2, 3, None]


def test_an_unjudged_query_has_no_ndcg_and_the_lists_agreement_is_rbo():
    comparison = Comparison("q", A, B, grades={})
    assert not comparison.judged and comparison.ndcg("a") is None and comparison.ndcg("b") is None
    assert comparison.rbo == pytest.approx(rbo(A.ids, B.ids, 10))
    assert comparison.jaccard == pytest.approx(4 / 6)
    assert Comparison("q", A, A, grades={}).rbo == pytest.approx(1.0)
    with pytest.raises(ValueError, match="choose 'a' or 'b'"):
        comparison.rows("c")


def test_grades_match_the_typed_query_by_normalized_text_with_the_highest_grade_of_several_judges():
    labels = [Label("Beyoncé!", "beyonce", "d1", 1, "ana"), Label("beyonce", "beyonce", "d1", 3, "bo"),
              Label("beyonce", "beyonce", "d2", 0, "ana"), Label("love", "love", "d3", 2, "ana")]
    assert query_grades("  BEYONCÉ ", labels) == {"d1": 3, "d2": 0}
    assert query_grades("rock", labels) == {}

"""Metrics over ranx, checked against values computed by hand here."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from ranx import Run, fuse

from ltrr_core.base.metrics import compare, evaluate_run, per_query, rrf

QRELS = {"q1": {"d1": 3, "d2": 1, "d3": 0}, "q2": {"d4": 1, "d5": 1}, "q3": {"d6": 2}}
RUN = {
    "q1": {"d2": 0.9, "d1": 0.8, "d3": 0.7, "x": 0.6},  # grades 1, 3, 0, -
    "q2": {"x": 0.9, "y": 0.8, "d5": 0.7},  # first relevant at rank 3
    "q9": {"d6": 1.0},  # not in the qrels: ignored
}  # q3 has no results: scores 0

NDCG_Q1 = (1 / math.log2(2) + 3 / math.log2(3)) / (3 / math.log2(2) + 1 / math.log2(3))
NDCG_Q2 = (1 / math.log2(4)) / (1 / math.log2(2) + 1 / math.log2(3))


def test_evaluate_run_matches_hand_computed_means():
    scores = evaluate_run(QRELS, RUN)
    assert list(scores) == ["ndcg@10", "recall@100", "mrr@10"]
    assert scores["ndcg@10"] == pytest.approx((NDCG_Q1 + NDCG_Q2 + 0) / 3)
    assert scores["recall@100"] == pytest.approx((2 / 2 + 1 / 2 + 0) / 3)
    assert scores["mrr@10"] == pytest.approx((1 + 1 / 3 + 0) / 3)


def test_cutoffs_apply():
    scores = evaluate_run(QRELS, RUN, ["ndcg@1", "mrr@2", "recall@1", "ndcg_burges@10"])
    assert scores["ndcg@1"] == pytest.approx((1 / 3 + 0 + 0) / 3)
    assert scores["mrr@2"] == pytest.approx((1 + 0 + 0) / 3)
    assert scores["recall@1"] == pytest.approx((1 / 2 + 0 + 0) / 3)
    burges_q1 = (1 + 7 / math.log2(3)) / (7 + 1 / math.log2(3))
    assert scores["ndcg_burges@10"] == pytest.approx((burges_q1 + NDCG_Q2 + 0) / 3)


def test_per_query_covers_every_qrels_query_and_missing_scores_zero():
    assert per_query(QRELS, RUN, "mrr@10") == pytest.approx({"q1": 1.0, "q2": 1 / 3, "q3": 0.0})
    assert list(per_query(QRELS, RUN, "ndcg@10")) == ["q1", "q2", "q3"]


@pytest.mark.parametrize("run", [{}, {"q1": {}, "q2": {}}, {"other": {"d1": 1.0}}])
def test_runs_without_results_score_zero(run):
    assert evaluate_run(QRELS, run) == {"ndcg@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0}
    assert per_query(QRELS, run, "map") == {"q1": 0.0, "q2": 0.0, "q3": 0.0}


def test_query_with_only_zero_grades_scores_zero_and_empty_judgments_are_skipped():
    qrels = {"a": {"d1": 1}, "b": {"d2": 0}, "c": {}}
    assert per_query(qrels, {"a": {"d1": 1.0}, "b": {"d2": 1.0}}, "ndcg@10") == {"a": 1.0, "b": 0.0}


def test_ties_are_broken_by_doc_id_whatever_the_dict_order():
    qrels = {"q": {"b": 1}}
    assert evaluate_run(qrels, {"q": {"a": 1.0, "b": 1.0}}, "mrr") == {"mrr": 0.5}
    assert evaluate_run(qrels, {"q": {"b": 1.0, "a": 1.0}}, "mrr") == {"mrr": 0.5}


def test_compare_is_one_tidy_row_per_system():
    perfect = {"q1": {"d1": 3.0, "d2": 2.0}, "q2": {"d4": 1.0, "d5": 0.9}, "q3": {"d6": 1.0}}
    table = compare(QRELS, {"mine": RUN, "oracle": perfect}, ["ndcg@10", "mrr@10"])
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == ["system", "ndcg@10", "mrr@10"]
    assert table["system"].tolist() == ["mine", "oracle"]
    assert table.loc[0, "ndcg@10"] == pytest.approx(evaluate_run(QRELS, RUN)["ndcg@10"])
    assert table.loc[1].tolist()[1:] == pytest.approx([1.0, 1.0])


@pytest.mark.slow
def test_rrf_matches_hand_computed_fusion_and_ranx():
    run_a = {"q1": {"a": 3.0, "b": 2.0, "c": 1.0}}
    run_b = {"q1": {"b": 5.0, "c": 4.0, "d": 1.0}, "q2": {"z": 1.0}}
    fused = rrf([run_a, run_b], k=60)
    expected = {"b": 1 / 62 + 1 / 61, "c": 1 / 63 + 1 / 62, "a": 1 / 61, "d": 1 / 63}
    assert list(fused["q1"]) == ["b", "c", "a", "d"]
    assert fused["q1"] == pytest.approx(expected)
    assert fused["q2"] == pytest.approx({"z": 1 / 61})
    via_ranx = fuse([Run(run_a), Run({"q1": run_b["q1"]})], method="rrf", params={"k": 60}).to_dict()
    assert fused["q1"] == pytest.approx(dict(via_ranx["q1"]))


def test_rrf_ties_rank_by_doc_id_and_k_matters():
    fused = rrf([{"q": {"y": 1.0, "x": 1.0}}], k=1)
    assert fused["q"] == pytest.approx({"x": 1 / 2, "y": 1 / 3})


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: evaluate_run(QRELS, RUN, ["ndcg@x"]), "unknown metric 'ndcg@x'"),
        (lambda: evaluate_run(QRELS, RUN, ["precision@0"]), "unknown metric 'precision@0'"),
        (lambda: per_query(QRELS, RUN, "foo"), "unknown metric 'foo'.*ndcg"),
        (lambda: evaluate_run(QRELS, RUN, []), "metrics: empty"),
        (lambda: evaluate_run({}, RUN), "qrels: no judgments"),
        (lambda: evaluate_run({"q": {"d": -1}}, RUN), r"qrels\['q'\]\['d'\]: grade -1"),
        (lambda: evaluate_run({"q": {"d": 1.5}}, RUN), "grade 1.5 must be a whole number"),
        (lambda: evaluate_run({"q": {"d": 1.0}}, RUN), "grade 1.0 must be a whole number"),
        (lambda: compare(QRELS, {}), "runs: empty"),
        (lambda: rrf([]), "runs: empty"),
        (lambda: rrf([RUN], k=0), "k: 0 must be positive"),
    ],
)
def test_bad_inputs_name_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()

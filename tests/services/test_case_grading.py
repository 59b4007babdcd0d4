"""Case grading through the labels face on a tiny catalog: a query's results to grade come from an
unlogged run, each query's nDCG@10 follows the grades, notes are shared, the judges' agreement is
scikit-learn's kappa over the query set, and ``labels:RULE`` judgments reach experiments merged."""

from __future__ import annotations

import math

import pytest
from sklearn.metrics import cohen_kappa_score

from ltrr_core.base.config import Settings
from ltrr_core.catalog.schema import Catalog, Entity
from ltrr_core.engine import Engine

TINY = Catalog([
    Entity("bread", "episode", "Sourdough bread at home", description="baking bread with a starter"),
    Entity("cake", "episode", "Chocolate cake", description="baking a rich dessert"),
    Entity("buns", "episode", "Sweet buns", description="baking soft bread rolls"),
    Entity("jazz", "playlist", "Late night jazz", genres={"jazz": 1.0}, description="slow saxophone"),
    Entity("rock", "playlist", "Rock anthems", genres={"rock": 1.0}, description="loud guitars"),
    Entity("sea", "track", "Song of the sea", creator="Bo", genres={"folk": 1.0}, popularity=0.4),
], source="tiny")


@pytest.fixture()
def engine(tmp_path):
    return Engine.open("tiny", Settings(cache_dir=tmp_path / "cache", db_path=tmp_path / "feedback.db"), catalog=TINY)


@pytest.fixture()
def query_set(engine, tmp_path):
    (tmp_path / "queries.txt").write_text("bread baking\nlate night jazz\n")
    return engine.experiments.query_set(f"file:{tmp_path / 'queries.txt'}")


def ndcg(ranked: list[str], grades: dict[str, int]) -> float:
    """nDCG@10 with gain = grade, written out."""
    dcg = sum(grades.get(d, 0) / math.log2(r + 2) for r, d in enumerate(ranked[:10]))
    idcg = sum(g / math.log2(r + 2) for r, g in enumerate(sorted(grades.values(), reverse=True)[:10]))
    return dcg / idcg if idcg else 0.0


def test_a_case_is_the_engines_ranking_from_a_run_that_logs_nothing(engine):
    case = engine.labelling.case("Bread baking", k=3)
    assert case.normalized_query == "bread baking" and 1 <= len(case.results) <= 3
    assert [r.rank for r in case.results] == list(range(1, len(case.results) + 1))
    assert case.results[0].id == "bread"
    assert [r.id for r in engine.labelling.case("bread baking", k=3).results] == [r.id for r in case.results]
    assert engine.runtime.store.searches().empty and engine.searching.open_searches == []
    with pytest.raises(ValueError, match="nothing to search"):
        engine.labelling.case("   ")


def test_each_querys_ndcg_follows_the_grades_under_the_merge_rule(engine):
    labels = engine.labelling
    cases = [labels.case("bread baking"), labels.case("late night jazz")]
    before = labels.case_scores(cases)
    assert before["graded"].tolist() == [0, 0] and before["ndcg@10"].isna().all()
    ranked = [r.id for r in cases[0].results]
    second = ranked[1]
    labels.label("bread baking", second, 3, judge="ana")
    after = labels.case_scores(cases).set_index("normalized_query")
    assert after.loc["bread baking", "ndcg@10"] == pytest.approx(ndcg(ranked, {second: 3}))
    assert after.loc["bread baking", "graded"] == 1 and math.isnan(after.loc["late night jazz", "ndcg@10"])
    labels.label("bread baking", second, 1, judge="bo")
    labels.label("bread baking", ranked[0], 2, judge="bo")
    by_rule = {rule: labels.case_scores(cases, rule).set_index("normalized_query").loc["bread baking", "ndcg@10"]
               for rule in ("mean", "min", "max")}
    assert by_rule["mean"] == pytest.approx(ndcg(ranked, {second: 2, ranked[0]: 2}))
    assert by_rule["min"] == pytest.approx(ndcg(ranked, {second: 1, ranked[0]: 2}))
    assert by_rule["max"] == pytest.approx(ndcg(ranked, {second: 3, ranked[0]: 2}))
    assert labels.case_scores(cases).set_index("normalized_query").loc["bread baking", "judges"] == 2


def test_a_note_on_a_query_is_shown_with_its_case(engine):
    labels = engine.labelling
    cases = [labels.case("late night jazz")]
    labels.set_note("Late night jazz!", "saxophone first", "ana")
    assert labels.case_scores(cases)["note"].tolist() == ["saxophone first"]
    labels.set_note("late night jazz", "", "bo")
    assert labels.case_scores(cases)["note"].tolist() == [""]


def test_agreement_over_a_query_set_is_scikit_learns_kappa_on_its_pairs(engine, query_set):
    labels = engine.labelling
    ana = {("bread baking", "bread"): 3, ("bread baking", "cake"): 1, ("bread baking", "buns"): 2,
           ("late night jazz", "jazz"): 3, ("late night jazz", "rock"): 0}
    bo = {("bread baking", "bread"): 3, ("bread baking", "cake"): 0, ("bread baking", "buns"): 2,
          ("late night jazz", "jazz"): 2, ("late night jazz", "rock"): 0}
    for judge, grades in (("ana", ana), ("bo", bo)):
        for (query, entity_id), grade in grades.items():
            labels.label(query, entity_id, grade, judge=judge)
    labels.label("songs about the sea", "sea", 3, judge="ana")  # outside the query set
    labels.label("songs about the sea", "sea", 0, judge="bo")
    found = labels.agreement(query_set)
    assert found.table()["shared"].tolist() == [5]
    assert found.kappa("ana", "bo") == pytest.approx(cohen_kappa_score(list(ana.values()), list(bo.values())))
    assert labels.agreement().table()["shared"].tolist() == [6]  # every label
    weighted = labels.agreement(query_set, weights="quadratic").kappa("ana", "bo")
    assert weighted == pytest.approx(cohen_kappa_score(list(ana.values()), list(bo.values()), weights="quadratic"))


@pytest.mark.parametrize("rule, expected", [("max", {"bread": 3, "cake": 2}), ("min", {"bread": 1, "cake": 0}),
                                            ("mean", {"bread": 2, "cake": 1})])
def test_labels_rule_judgments_give_an_experiment_the_merged_grades(engine, query_set, rule, expected):
    labels = engine.labelling
    labels.label("bread baking", "bread", 3, judge="ana")
    labels.label("bread baking", "bread", 1, judge="bo")
    labels.label("bread baking", "cake", 0, judge="ana")
    labels.label("bread baking", "cake", 2, judge="bo")
    experiment = engine.experiments.run_experiment("lex=lexical@5/rrf", query_set, f"labels:{rule}", save=False)
    assert experiment.judgments == f"labels:{rule}"
    assert experiment.qrels == {"bread baking": expected}
    assert engine.experiments.judgments(query_set, "labels:ana").qrels == {"bread baking": {"bread": 3, "cake": 0}}

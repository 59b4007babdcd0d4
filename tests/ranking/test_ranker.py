"""Ranking tier: features, RRF fusion, LightGBM lambdarank, explanations, persistence, retrain policy."""

from __future__ import annotations

import numpy as np
import pytest

from ltrr_core.catalog.schema import Catalog, Entity
from ltrr_core.base.metrics import rrf
from ltrr_core.ranking.features import COLUMN, FEATURE_NAMES, FEATURES, CatalogFeatures
from ltrr_core.ranking.ltr import LTRParams, LTRRanker, TrainingGroup
from ltrr_core.ranking.pool import CandidatePool
from ltrr_core.ranking.rankers import FusionRanker, InterleaveRanker
from ltrr_core.ranking.retraining import RankerManager, RetrainPolicy, evaluate_ndcg, tied_share
from ltrr_core.feedback.training import labels_from_feedback
from ltrr_core.retrieval.candidates import Candidates
from ltrr_core.retrieval.indexes.bm25 import build_okapi
from ltrr_core.understanding.text import analyze

SIGNAL = COLUMN["dense_sim"]
FAST = LTRParams(num_boost_round=60, early_stopping_rounds=15, min_data_in_leaf=5)


def synthetic_groups(n_groups: int, seed: int, rows: int = 30, invert=lambda gid: False) -> list[TrainingGroup]:
    """Random features; the grade is a step function of the ``dense_sim`` column (inverted on request)."""
    rng = np.random.default_rng(seed)
    groups = []
    for g in range(n_groups):
        gid = f"s{seed}-{g}"
        x = rng.normal(size=(rows, len(FEATURE_NAMES))).astype(np.float32)
        signal = -x[:, SIGNAL] if invert(gid) else x[:, SIGNAL]
        labels = np.digitize(signal, [0.0, 0.8, 1.5])
        groups.append(TrainingGroup(x, labels, gid))
    return groups


@pytest.fixture(scope="module")
def trained() -> tuple[LTRRanker, list[TrainingGroup]]:
    ranker = LTRRanker(FAST)
    ranker.train(synthetic_groups(120, seed=1), seed=3)
    return ranker, synthetic_groups(40, seed=2)


def test_every_feature_is_described_once():
    assert len(set(FEATURE_NAMES)) == len(FEATURES)
    assert all(f.description.strip() for f in FEATURES)


def test_field_bm25_matches_rank_bm25_and_counts_matched_terms():
    catalog = Catalog([
        Entity("a", "track", "Loving songs for rainy days", creator="Ana"),
        Entity("b", "track", "Song of the sea", creator="Bo"),
        Entity("c", "track", "Dry desert", creator="Cy"),
    ])
    features = CatalogFeatures(catalog)
    terms = analyze("love songs day")
    scores, matched = features.field_scores("title", terms, np.array([2, 0, 1]))
    okapi = build_okapi([analyze(e.title) for e in catalog])
    np.testing.assert_allclose(scores, okapi.get_scores(terms)[[2, 0, 1]])
    np.testing.assert_allclose(matched, [0.0, 1.0, 1 / 3])


def test_lambdarank_learns_a_synthetic_signal(trained):
    ranker, held_out = trained
    learned = evaluate_ndcg(ranker, held_out)
    chance = evaluate_ndcg(_RandomScores(np.random.default_rng(0)), held_out)
    assert learned > 0.95
    assert learned > chance + 0.3


def test_groups_with_a_single_label_value_are_dropped():
    groups = synthetic_groups(30, seed=4)
    flat = [TrainingGroup(g.features, np.full(len(g.labels), 1), f"flat-{i}") for i, g in enumerate(groups[:5])]
    report = LTRRanker(FAST).train(groups + flat, seed=0)
    assert report.groups_dropped == 5 and report.groups_used == 30
    used = set(report.train_group_ids) | set(report.valid_group_ids)
    assert not used & {g.group_id for g in flat}
    assert len(report.valid_group_ids) == 6


def test_training_without_any_informative_group_names_the_problem():
    x = np.zeros((3, len(FEATURE_NAMES)), np.float32)
    with pytest.raises(ValueError, match="two different labels"):
        LTRRanker(FAST).train([TrainingGroup(x, [0, 0, 0], "q")])


def test_save_load_round_trip_gives_identical_predictions(trained, tmp_path):
    ranker, held_out = trained
    path = tmp_path / "ranker.json"
    ranker.save(path)
    loaded = LTRRanker.load(path)
    x = np.vstack([g.features for g in held_out])
    np.testing.assert_array_equal(loaded.score(x), ranker.score(x))
    assert loaded.feature_names == FEATURE_NAMES
    assert loaded.report == ranker.report


def test_loading_a_broken_file_names_it(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="bad.json"):
        LTRRanker.load(path)


def test_explain_contributions_sum_to_the_raw_prediction(trained):
    ranker, held_out = trained
    shown = held_out[0].features[:10]
    explanation = ranker.explain(shown)
    assert explanation.contributions.shape == (10, len(FEATURE_NAMES))
    np.testing.assert_allclose(explanation.contributions.sum(axis=1) + explanation.bias, ranker.score(shown), rtol=1e-6, atol=1e-9)
    strongest = np.abs(explanation.contributions).mean(axis=0).argmax()
    assert explanation.feature_names[strongest] == "dense_sim"
    table = explanation.frame([f"row{i}" for i in range(10)])
    np.testing.assert_allclose(table["score"], ranker.score(shown), rtol=1e-6, atol=1e-9)


def _pool() -> CandidatePool:
    lexical = Candidates("lexical", ("a", "b", "c"), np.array([0, 1, 2]), np.array([9.0, 5.0, 1.0]))
    semantic = Candidates("semantic", ("c", "a", "d"), np.array([2, 0, 3]), np.array([0.9, 0.8, 0.7]))
    return CandidatePool.union([lexical, semantic])


def _rank_features(pool: CandidatePool) -> np.ndarray:
    x = np.full((len(pool), len(FEATURE_NAMES)), np.nan, np.float32)
    for name, ranks in pool.ranks.items():
        x[:, COLUMN[f"rank_{name}"]] = ranks
    return x


def test_fusion_ranker_equals_hand_computed_rrf():
    pool, fusion = _pool(), FusionRanker(k=60)
    ranked = fusion.rank(pool, _rank_features(pool))
    expected = {"a": 1 / 61 + 1 / 62, "b": 1 / 62, "c": 1 / 63 + 1 / 61, "d": 1 / 63}
    np.testing.assert_allclose(ranked.scores, [expected[i] for i in pool.ids])
    assert [pool.ids[i] for i in ranked.order] == ["a", "c", "b", "d"]
    np.testing.assert_allclose(fusion.score(_rank_features(pool)), ranked.scores)
    explanation = fusion.explain(_rank_features(pool))
    np.testing.assert_allclose(explanation.contributions.sum(axis=1) + explanation.bias, ranked.scores)


def test_interleave_ranker_blends_the_lists_round_robin():
    lexical = Candidates("lexical", ("a", "b", "c", "e"), np.arange(4), np.array([9.0, 5.0, 4.0, 1.0]))
    semantic = Candidates("semantic", ("x", "c", "y"), np.array([10, 2, 11]), np.array([0.9, 0.8, 0.7]))
    pool = CandidatePool.union([lexical, semantic])
    interleave = InterleaveRanker()
    ranked = interleave.rank(pool, _rank_features(pool))
    # rank 1 of both lists first, then rank 2 of both ('c' is also lexical's 3rd: found twice)
    assert [pool.ids[i] for i in ranked.order] == ["a", "x", "c", "b", "y", "e"]
    assert FusionRanker().rank(pool, _rank_features(pool)).order[1] != ranked.order[1]  # RRF buries 'x'
    np.testing.assert_allclose(interleave.score(_rank_features(pool)), ranked.scores)
    explanation = interleave.explain(_rank_features(pool))
    np.testing.assert_allclose(explanation.contributions.sum(axis=1) + explanation.bias, ranked.scores)


def test_fusion_ranker_equals_metrics_rrf():
    pool = _pool()
    runs = [
        {"q": {i: float(s) for i, s in zip(pool.ids, scores) if not np.isnan(s)}} for scores in pool.scores.values()
    ]
    fused = rrf(runs, k=60)["q"]
    ranked = FusionRanker(60).rank(pool, _rank_features(pool))
    assert [pool.ids[i] for i in ranked.order] == list(fused)
    np.testing.assert_allclose(ranked.scores, [fused[i] for i in pool.ids])


def test_labels_from_feedback_prefers_the_strongest_evidence():
    grades = labels_from_feedback(
        ["a", "b", "c", "d", "e", "f"], clicks=["a", "b", "e"], thumbs_up=["b", "c"], thumbs_down=["e"], graded={"a": 1, "f": 3}
    )
    assert grades.tolist() == [1, 3, 3, 0, 0, 3]
    with pytest.raises(ValueError, match="graded"):
        labels_from_feedback(["a"], graded={"a": 4})


def test_retrain_policy_keeps_the_previous_model_when_the_new_one_is_worse():
    policy = RetrainPolicy(every=1000, holdout_fraction=0.3, min_groups=5, seed=0)
    manager = RankerManager(policy, FAST)
    first = manager.train(synthetic_groups(80, seed=5))
    assert first.accepted and manager.current.name == "ltr" and first.previous_ranker == "interleave"
    good = manager.current
    # the same searches relabelled: training searches now teach the opposite, held-out ones keep the truth
    second = manager.train(synthetic_groups(80, seed=5, invert=lambda gid: not policy.held_out(gid)))
    assert not second.accepted
    assert manager.current is good
    assert second.candidate_ndcg10 < second.previous_ndcg10
    assert second.previous_ndcg10 == pytest.approx(first.candidate_ndcg10)


def test_the_manager_owns_the_one_retrain_trigger():
    """One threshold, the policy's: the services ask :meth:`RankerManager.due` with their count."""
    manager = RankerManager(RetrainPolicy(every=10, min_groups=3), FAST)
    assert [n for n in range(25) if manager.due(n)] == list(range(10, 25))
    assert RankerManager().policy.every == 50  # the engine's trigger before there was one


def logged_order_groups(n_queries: int, per_query: int, seed: int, rows: int = 12) -> list[TrainingGroup]:
    """Groups like imported click pages: rows in the order they were shown, clicks mostly on top,
    several pages per query; the grade also follows the ``dense_sim`` feature (learnable)."""
    rng = np.random.default_rng(seed)
    groups = []
    for q in range(n_queries):
        for p in range(per_query):
            x = rng.normal(size=(rows, len(FEATURE_NAMES))).astype(np.float32)
            x = x[np.argsort(-x[:, SIGNAL])]  # the logging ranker showed the best first
            labels = (x[:, SIGNAL] > 0.9).astype(int)
            labels[0] = 1 if labels.max() == 0 else labels[0]
            labels[-1] = 0
            groups.append(TrainingGroup(x, labels, f"page:{q}-{p}", query=f"query {q}"))
    return groups


def test_a_constant_model_is_refused_with_its_reason():
    """Issue 23 item 4: LightGBM that cannot split (too few rows per leaf) scores every row of a
    query alike; in pool order (the logged order, clicks on top) that looked like nDCG@10 ~ 1."""
    groups = logged_order_groups(30, 3, seed=8)
    flat_params = LTRParams(num_boost_round=20, early_stopping_rounds=5, min_data_in_leaf=100_000)
    manager = RankerManager(RetrainPolicy(min_groups=3), flat_params)
    decision = manager.train(groups)
    assert not decision.accepted and manager.current.name == "interleave"
    assert decision.candidate_tied_share == 1.0
    assert decision.reason.startswith("refused a degenerate model: it scores 100% of the pairs in the top 10")
    held_out = [g for g in groups if g.group_id in decision.holdout_group_ids]
    constant = LTRRanker(flat_params)
    constant.train([g for g in groups if g.group_id not in decision.holdout_group_ids])
    assert np.ptp(constant.score(held_out[0].features)) == 0.0  # real LightGBM, really constant
    # ties count against it: the relevant rows come last, far below the logged order's figure
    assert decision.candidate_ndcg10 < 0.5 < evaluate_ndcg(_Fixed(np.arange(12.0)[::-1]), held_out)


def test_a_genuinely_better_model_is_accepted_and_judged_on_queries_it_never_saw():
    groups = [TrainingGroup(g.features, g.labels, g.group_id, query=f"query {i // 3}")  # three searches a query
              for i, g in enumerate(synthetic_groups(120, seed=9))]
    manager = RankerManager(RetrainPolicy(min_groups=3, holdout_fraction=0.3), FAST)
    decision = manager.train(groups)
    assert decision.accepted and manager.current.name == "ltr", decision.reason
    assert decision.candidate_ndcg10 > decision.previous_ndcg10 and decision.candidate_tied_share < 0.5
    trained = set(decision.report.train_group_ids) | set(decision.report.valid_group_ids)
    held_out = set(decision.holdout_group_ids)
    assert held_out and not trained & held_out
    query = {g.group_id: g.query for g in groups}
    assert not {query[i] for i in trained} & {query[i] for i in held_out}  # no query on both sides
    assert len(trained) + len(held_out) == len(groups)


def test_human_labelled_searches_judge_first():
    groups = synthetic_groups(60, seed=10)
    judged = {g.group_id for g in groups[::3]}
    groups = [TrainingGroup(g.features, g.labels, g.group_id, judged=g.group_id in judged) for g in groups]
    policy = RetrainPolicy(min_groups=3, holdout_fraction=0.3)
    train, holdout = policy.split(groups)
    assert holdout and {g.group_id for g in holdout} <= judged
    assert {g.group_id for g in holdout} == {g for g in judged if policy.held_out(g)}
    assert not {g.group_id for g in train} & {g.group_id for g in groups if policy.held_out(g.group_id)}
    decision = RankerManager(policy, FAST).train(groups)
    assert decision.holdout_judged and "human-labelled held-out searches" in decision.reason


def test_a_one_split_model_that_lifts_only_the_clicked_row_is_refused():
    """The example log's case: a feature that holds the held-out pages' own clicks (the memory index
    learnt them) lets one split lift the clicked row; the other nine stay tied, and live searches,
    where nothing is clicked yet, get one constant score."""
    groups = logged_order_groups(30, 3, seed=11)
    leak = COLUMN["score_memory"]
    for g in groups:
        g.features[:, leak] = (g.labels > 0) * 0.9
    manager = RankerManager(RetrainPolicy(min_groups=3), FAST)
    decision = manager.train(groups)
    assert decision.candidate_ndcg10 > 0.95  # on held-out pages the leak ranks perfectly
    assert not decision.accepted and manager.current.name == "interleave"
    assert decision.candidate_tied_share > 0.5 and decision.reason.startswith("refused a degenerate model")


def test_tied_share_counts_pairs_scored_alike():
    x = np.zeros((4, len(FEATURE_NAMES)), np.float32)
    groups = [TrainingGroup(x, [0, 1, 0, 1], "g")]
    assert tied_share(_Fixed(np.array([5.0, 5.0 + 1e-9, 5.0, 5.0])), groups, 1e-6) == 1.0
    assert tied_share(_Fixed(np.array([5.0, 5.1, 5.0, 5.0])), groups, 1e-6) == pytest.approx(0.5)  # 3 of 6 pairs
    assert tied_share(_Fixed(np.array([4.0, 5.1, 5.0, 4.5])), groups, 1e-6) == 0.0
    assert tied_share(_Fixed(np.array([1.0, 1.0, 5.0, 4.5])), groups, 1e-6, k=2) == 0.0  # a tie in the tail


class _RandomScores:
    """A ranker that scores rows at random: the chance level of nDCG."""

    name = "random"

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def score(self, features: np.ndarray) -> np.ndarray:
        return self.rng.random(len(features))


def test_evaluate_ndcg_skips_groups_without_relevant_rows():
    x = np.zeros((2, len(FEATURE_NAMES)), np.float32)
    assert np.isnan(evaluate_ndcg(FusionRanker(), [TrainingGroup(x, [0, 0], "none")]))


def test_evaluate_ndcg_is_rankx_ndcg_with_linear_gains_and_ties_against_the_ranker():
    """The retrain gate reads the same nDCG@10 as every reported figure (ranx, gain = grade); a tie
    puts its less relevant row first, whatever the pool order."""
    x = np.zeros((3, len(FEATURE_NAMES)), np.float32)
    group = TrainingGroup(x, [0, 3, 1], "g")
    scored = _Fixed(np.array([0.9, 0.5, 0.5]))  # ranks rows 0, 2, 1 (the tie: grade 1 before grade 3)
    dcg = 1 / np.log2(3) + 3 / np.log2(4)
    ideal = 3 / np.log2(2) + 1 / np.log2(3)
    assert evaluate_ndcg(scored, [group]) == pytest.approx(dcg / ideal)


class _Fixed:
    name = "fixed"

    def __init__(self, scores: np.ndarray) -> None:
        self.scores = scores

    def score(self, features: np.ndarray) -> np.ndarray:
        return self.scores


def test_manager_train_replaces_groups_and_reset_returns_to_interleave():
    manager = RankerManager(RetrainPolicy(every=1000, min_groups=3), FAST)
    decision = manager.train(synthetic_groups(40, seed=7))
    assert decision.accepted and manager.current.name == "ltr" and len(manager.groups) == 40
    assert decision.to_json()["report"]["groups_used"] == decision.train_groups
    manager.reset()
    assert manager.current.name == "interleave" and not manager.groups and not manager.history

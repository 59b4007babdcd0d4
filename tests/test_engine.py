"""The composition root and its faces on the default catalog: trace, logging, feedback, labels by
judge, policy tuning, bad input; the faces share one runtime, and the studio hands out faces only."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ltrr_core.catalog.hard_cases import HARD_CASES
from ltrr_core.base.config import Settings
from ltrr_core.engine import FACES, Engine
from ltrr_core.selection.bandit import PolicyConfig, split_arm
from ltrr_core.selection.context import Context
from ltrr_core.services.learning import policy_names
from ltrr_core.services.simulation_runs import COMPARE_POLICIES
from ltrr_core.studio import Studio


@pytest.fixture()
def engine(default_catalog, app_cache_dir, tmp_path):
    return Engine.open("default", Settings(cache_dir=app_cache_dir, db_path=tmp_path / "feedback.db"),
                       catalog=default_catalog)


@pytest.fixture()
def studio(engine):
    return Studio.of(engine)


def test_the_studio_holds_faces_over_one_shared_runtime(engine, studio):
    assert not hasattr(studio, "store") and not hasattr(studio, "runtime")
    for face in (studio.search, studio.learning, studio.labels, studio.experiments, studio.logs):
        assert face._rt is engine.runtime
    studio.learning.set_policy(PolicyConfig(name="all"))
    result = studio.search.search("love", Context(), user_id="ana")
    assert result.selection.policy == "all" and result.search_id in studio.search.open_searches
    studio.labels.label("love", result.items[0].id, 3, judge="ana")
    judged = studio.experiments.judgments(studio.experiments.query_set("log:top:5"), "labels:ana")
    assert judged.qrels  # what one face stored, another reads


def test_the_engine_exposes_only_its_runtime_its_faces_open_and_sandbox(engine, studio):
    public = {name for name in dir(engine) if not name.startswith("_")}
    assert public == {"runtime", *FACES, "open", "sandbox"}
    assert engine.labelling.label == studio.labels.label  # the studio's faces are the engine's
    for name in ("search", "store", "pipeline", "state", "label", "feedback", "set_policy"):  # no lookup by name
        assert not hasattr(engine, name), name
    with pytest.raises(AttributeError):
        engine.store = None  # nothing can be hung on the root either


def test_one_judges_grade_never_replaces_anothers(studio):
    entity = next(iter(studio.catalog)).id
    studio.labels.label("Love!", entity, 3, judge="analyst")
    stored = studio.labels.label("love", entity, 1, judge="alice")
    assert stored.judge == "alice" and stored.grade == 1
    grades = {(label.judge, label.grade) for label in studio.labels.labels() if label.entity_id == entity}
    assert grades == {("analyst", 3), ("alice", 1)}


def test_tuning_the_policy_keeps_every_field_it_does_not_name(studio):
    studio.learning.set_policy(PolicyConfig(name="linucb", l2_lambda=2.5, cut=0.1, depth_cost=0.002,
                                            depths=(10, 50), seed=11))
    tuned = studio.learning.tune_policy(name="lints", alpha=0.9)
    assert studio.learning.policy == tuned
    assert (tuned.name, tuned.alpha, tuned.l2_lambda, tuned.cut, tuned.depth_cost, tuned.depths, tuned.seed) == (
        "lints", 0.9, 2.5, 0.1, 0.002, (10, 50), 11)
    with pytest.raises(ValueError, match="policy name"):
        studio.learning.tune_policy(name="nonsense")
    assert studio.learning.policy == tuned  # a refused change changes nothing


def test_one_list_of_policies(studio):
    names = studio.learning.policy_names()
    assert names == list(COMPARE_POLICIES) + [f"fixed:{s}" for s in studio.strategies]
    assert policy_names(["lexical"], fixed=False) == list(COMPARE_POLICIES)
    for name in names:
        PolicyConfig(name=name)  # every offered name is a valid policy


def test_semantic_status_is_a_typed_record_before_any_build(studio):
    status = studio.search.semantic_status()
    assert status.phase in ("not started", "ready") and status.fraction == float(status.phase == "ready")
    assert status.error is None


def test_search_returns_the_full_trace_and_logs_it(engine):
    result = engine.searching.search("love", Context(), k=10)
    sel = result.selection
    assert len(sel.arms) == len(engine.runtime.state.bandit.arms) == 12
    assert 1 <= len(sel.chosen) <= engine.learning.policy.max_arms
    assert set(result.candidates) == {split_arm(a)[0] for a in sel.chosen}
    assert len(result.items) == 10
    for item in result.items:
        assert item.found_by and set(item.found_by) <= set(result.candidates)
    assert {"understand", "featurize", "select", "union", "rank", "total"} <= set(result.timings)
    stored = engine.runtime.store.search(result.search_id)
    assert stored.chosen_arms == sel.chosen
    assert stored.propensity == pytest.approx(sel.propensity)
    assert [r.entity_id for r in engine.runtime.store.impressions(result.search_id)] == [i.id for i in result.items]
    payload = result.to_json()
    assert payload["results"][0]["found_by"] and payload["trace"]["strategies"][0]["n_candidates"] > 0


def test_typo_artist_query_finds_the_artists_tracks(engine, default_catalog):
    artist_id, name, typo = HARD_CASES["typo_artists"][0]
    engine.learning.set_policy(PolicyConfig(name="all"))
    result = engine.searching.search(typo, Context(), k=20)
    creators = {i.creator for i in result.items}
    assert name in creators or artist_id in {i.id for i in result.items}


@pytest.mark.parametrize("query", [
    "", "   \t ", "x" * 10_000, "love\x00\x07\x1b[31m", "🎸🔥 love", "사랑 노래", "ラブソング", "Любовь",
    "'; DROP TABLE searches; --", "(.*)+[a-z]{2,}\\", "%_%", "NULL",
])
def test_bad_input_never_raises(engine, query):
    result = engine.searching.search(query, Context())
    assert result.understanding.is_empty or query.strip()  # a blank query is never understood as something
    if result.understanding.is_empty:  # nothing searchable (blank, or only punctuation): a message, no log
        assert result.search_id is None and result.message and result.items == ()
    else:
        assert result.search_id is not None and 0 < len(result.items) <= 10
    assert engine.runtime.store.integrity_check() == "ok"


def test_long_query_is_cut_with_a_message(engine):
    result = engine.searching.search("love " * 3000, Context())
    assert "cut" in result.message


def test_label_for_unknown_entity_is_refused(engine):
    with pytest.raises(KeyError, match="not in the catalog"):
        engine.labelling.label("jazz", "no-such-id", 2, judge="analyst")


def test_labelling_queue_puts_disagreements_first_and_drops_labelled_pairs(engine):
    engine.learning.set_policy(PolicyConfig(name="all"))
    engine.searching.search("love", Context())
    queue = engine.labelling.labelling_queue(judge="analyst")
    assert len(queue) == 10 and list(queue["score"]) == sorted(queue["score"], reverse=True)
    assert queue.iloc[0]["why"] in ("disagreement", "uncertainty", "top10")
    first = queue.iloc[0]
    engine.labelling.label(first["query"], first["entity_id"], 2, judge="analyst")
    assert first["entity_id"] not in set(engine.labelling.labelling_queue(judge="analyst")["entity_id"])


@pytest.mark.slow
def test_evaluate_labels_scores_every_strategy_on_stored_grades(engine, default_catalog):
    from ltrr_core.catalog.hard_cases import HARD_CASES
    for entity_id, paraphrase in HARD_CASES["description_only"][:3]:
        engine.labelling.label(paraphrase, entity_id, 3, judge="analyst")
    table = engine.labelling.evaluate_labels().set_index("system")
    assert set(engine.runtime.strategy_names) <= set(table.index)
    assert table.loc["semantic", "ndcg@10"] > table.loc["lexical", "ndcg@10"]
    assert ((table >= 0) & (table <= 1)).all().all()


@pytest.mark.slow
def test_ranker_retrains_on_simulated_feedback_in_a_sandbox_and_after_n_labelled_searches(engine):
    from ltrr_core.services.simulation_runs import SimulationConfig, SimulationRun

    sandbox = SimulationRun(engine, SimulationConfig(rounds=120, seed=4)).run().engine
    decision = Studio.of(sandbox).labels.retrain(source="simulated")
    assert decision.train_groups >= 20 and decision.holdout_groups >= 1
    live = "ltr" if decision.accepted else "interleave"  # the gate decides; an accepted model goes live and to disk
    assert sandbox.runtime.rankers.current.name == live and sandbox.runtime.ranker_path.exists() == decision.accepted
    assert sandbox.searching.search("jazz", Context()).ranker == live
    assert engine.runtime.rankers.current.name == "interleave"  # the live ranker never saw the simulated feedback
    engine.runtime.rankers.policy = replace(engine.runtime.rankers.policy, every=2)
    before = len(engine.runtime.rankers.history)
    for query in ("rock", "sad songs"):
        result = engine.searching.search(query, Context())
        engine.searching.feedback(result.search_id, result.items[0].id, "thumbs_up")
    assert len(engine.runtime.rankers.history) == before + 1  # the second labelled search triggered a retrain


def test_an_unreadable_ranker_file_is_set_aside_not_fatal(engine, default_catalog, app_cache_dir, tmp_path):
    engine.runtime.state_dir.mkdir(parents=True, exist_ok=True)
    engine.runtime.ranker_path.write_text("{broken json")
    again = Engine.open("default", Settings(cache_dir=app_cache_dir, db_path=tmp_path / "feedback.db"),
                        catalog=default_catalog)
    assert again.runtime.rankers.current.name == "interleave"
    assert engine.runtime.ranker_path.with_suffix(".unreadable").exists()


def test_run_configuration_runs_fixed_depths_and_the_bandits_greedy_pick(engine):
    from ltrr_core.evaluation.configurations import ConfigurationError, parse_configuration

    fixed = engine.runtime.run_configuration(parse_configuration("lexical:10+popular:5/rrf"), "tayler love")
    assert {s: len(c) for s, c in fixed.candidates.items()} == {"lexical": 10, "popular": 5}
    assert fixed.pool.ids == engine.runtime.pipeline.replay("tayler love", {"lexical": 10, "popular": 5}).pool.ids
    bandit = engine.runtime.run_configuration(parse_configuration("bandit/interleave"), "tayler love")
    u = engine.runtime.understand("tayler love")
    x, _ = engine.runtime.context_vector(u, Context())
    greedy = engine.runtime.state.bandit.greedy_subset(engine.runtime.state.bandit.score(x))[0]
    assert set(bandit.candidates) == {split_arm(a)[0] for a in greedy}
    assert engine.searching.open_searches == [] and engine.runtime.store.searches().empty  # nothing logged
    with pytest.raises(ConfigurationError, match="no trained model"):
        engine.runtime.run_configuration(parse_configuration("all/ltr"), "tayler love")


def test_interleaving_experiments_are_typed_records_newest_first(studio):
    experiments = studio.experiments
    assert experiments.interleaving_experiments() == []
    configs = experiments.configurations("lex=lexical/rrf,pop=popular/rrf")
    name = experiments.start_interleaving(configs)
    page = experiments.search_interleaved("love", name, k=6, rng=np.random.default_rng(3))
    assert page.experiment == name == "lex vs pop" and {i.team for i in page.items} <= {"lex", "pop"}
    (registered,) = experiments.interleaving_experiments()
    assert (registered.id, registered.configurations, registered.searches) == (
        name, tuple(c.spec for c in configs), 1)
    assert page.search_id not in studio.search.open_searches  # an interleaved page teaches no bandit


def test_each_face_is_small_and_no_two_faces_share_a_method_name():
    import typing

    from ltrr_core.studio import Studio

    faces = tuple(t for t in typing.get_type_hints(Studio).values() if t.__module__.startswith("ltrr_core.services."))
    assert len(faces) == 8, faces  # search, learning, labels, experiments, logs, simulation, analytics, reports
    names = {face: {n for n in vars(face) if not n.startswith("_")} for face in faces}
    assert all(1 <= len(public) <= 15 for public in names.values()), {f.__name__: len(n) for f, n in names.items()}
    for i, face in enumerate(faces):
        for other in faces[i + 1:]:
            assert not names[face] & names[other], (face.__name__, other.__name__, names[face] & names[other])

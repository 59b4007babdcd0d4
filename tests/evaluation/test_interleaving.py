"""Team-draft interleaving and multileaving: fair credits, detection of a better ranking, the sequential
test's false-positive rate, and interleaved searches kept out of the bandit's learning."""

from __future__ import annotations

import numpy as np
import pytest

from ltrr_core.base.config import Settings
from ltrr_core.engine import Engine
from ltrr_core.evaluation.configurations import ConfigurationError
from ltrr_core.evaluation.configurations import parse_configurations
from ltrr_core.evaluation.interleaving import InterleavingTally, credit, team_draft
from ltrr_core.evaluation.sequential import MixtureSPRT
from ltrr_core.selection.context import Context
from ltrr_core.simulation.clicks import ClickModel
from ltrr_core.simulation.intents import Intent
from ltrr_core.services.interleaving_runs import InterleavingConfig, InterleavingRun
from ltrr_core.services.simulation_runs import answer

MODEL = ClickModel(eta=1.0)  # steep position bias: a draft that favoured a team's position would show


def intent(relevant: set[str]) -> Intent:
    return Intent("broad", "q", sorted(relevant)[0], frozenset(relevant), Context())


def ranking(prefix: str, relevant_at: set[int], n: int = 20) -> tuple[list[str], set[str]]:
    """``n`` ids named ``prefix<rank>``, relevant at the given 1-based ranks."""
    ids = [f"{prefix}{r}" for r in range(1, n + 1)]
    return ids, {ids[r - 1] for r in relevant_at}


def win_rate(lists: list[list[str]], relevant: set[str], impressions: int, seed: int) -> tuple[int, int]:
    """(wins of list 0, losses) over ``impressions`` simulated team-draft pages."""
    rng = np.random.default_rng(seed)
    user = intent(relevant)
    wins = losses = 0
    for _ in range(impressions):
        page = team_draft(lists, 10, rng)
        a, b = credit(page.teams, [r for _, r in MODEL.respond(page.ids, user, rng).clicks], 2)
        wins, losses = wins + (a > b), losses + (b > a)
    return wins, losses


def test_team_draft_gives_each_team_its_best_unused_items_in_turn():
    a, b = ["x", "y", "z", "w"], ["y", "v", "x", "u"]
    for seed in range(20):
        page = team_draft([a, b], 4, np.random.default_rng(seed))
        assert len(set(page.ids)) == 4 and sorted(np.bincount(page.teams).tolist()) == [2, 2]
        for item, team in zip(page.ids, page.teams):
            ranking_ = (a, b)[team]
            before = ranking_[: ranking_.index(item)]
            assert set(before) <= set(page.ids[: page.ids.index(item)])  # the team's better items were taken


def test_equal_configurations_win_half_the_time_within_the_interval():
    """Two different rankings of equal quality (relevant at the same ranks, disjoint items) and two
    identical rankings: over many seeds team draft credits both sides equally."""
    left, rel_left = ranking("a", {1, 4, 7})
    right, rel_right = ranking("b", {1, 4, 7})
    same, rel_same = ranking("s", {2, 3, 9})
    for lists, relevant in (([left, right], rel_left | rel_right), ([same, list(same)], rel_same)):
        wins = losses = 0
        for seed in range(40):
            w, l = win_rate(lists, relevant, 100, seed)
            wins, losses = wins + w, losses + l
        low, high = MixtureSPRT(0.05).interval(wins, losses)
        assert low < 0.5 < high, (wins, losses, low, high)
        assert abs(wins / (wins + losses) - 0.5) < 0.05


def test_a_known_better_ranking_is_detected():
    better, rel_better = ranking("a", {1, 2, 5})
    worse, rel_worse = ranking("b", {4, 8, 12})
    wins, losses = win_rate([better, worse], rel_better | rel_worse, 300, seed=3)
    assert wins > 2 * losses
    assert MixtureSPRT(0.05).significant(wins, losses)
    tally = InterleavingTally(("better", "worse"))
    rng = np.random.default_rng(4)
    user = intent(rel_better | rel_worse)
    for _ in range(300):
        page = team_draft([better, worse], 10, rng)
        tally.add(credit(page.teams, [r for _, r in MODEL.respond(page.ids, user, rng).clicks], 2))
    report = tally.report()
    assert tally.winner == report.winner == "better" and report.pairs[0].better == "better"
    assert report.pairs[0].decided_at <= 300 and report.pairs[0].interval[0] > 0.5


def test_multileaving_credits_every_team_and_ranks_three_by_quality():
    """Three rankings of decreasing quality: each team places items, gets credited clicks, and the
    pairwise outcomes order them best, middle, worst."""
    lists, relevant = [], set()
    for prefix, ranks in (("a", {1, 2, 3}), ("b", {2, 6}), ("c", {9})):
        ids, rel = ranking(prefix, ranks)
        lists.append(ids)
        relevant |= rel
    rng = np.random.default_rng(5)
    user = intent(relevant)
    tally = InterleavingTally(("best", "middle", "worst"))
    clicked = np.zeros(3)
    for _ in range(1500):
        page = team_draft(lists, 12, rng)
        assert sorted(np.bincount(page.teams, minlength=3).tolist()) == [4, 4, 4]
        credits = credit(page.teams, [r for _, r in MODEL.respond(page.ids, user, rng).clicks], 3)
        clicked += credits
        tally.add(credits)
    assert (clicked > 0).all()
    assert tally.wins[0, 1] > tally.wins[1, 0] and tally.wins[1, 2] > tally.wins[2, 1]
    assert tally.winner == "best"
    assert {(p.a, p.b) for p in tally.report().pairs} == {
        ("best", "middle"), ("best", "worst"), ("middle", "worst")}


def test_sequential_test_false_positive_rate_stays_below_alpha():
    """Equal configurations (fair coin per non-tied impression, a third of impressions tied), checked
    after every one of 3,000 impressions: the share of experiments ever rejecting stays below alpha."""
    alpha, experiments = 0.05, 2000
    test = MixtureSPRT(alpha)
    rng = np.random.default_rng(11)
    outcomes = rng.choice([-1, 0, 1], p=[1 / 3, 1 / 3, 1 / 3], size=(experiments, 3000))
    rejected = sum(test.first_crossing(row) is not None for row in outcomes)
    assert rejected / experiments < alpha
    # and the same check run as a fixed-horizon z-test at every step would reject far more often
    wins, losses = np.cumsum(outcomes > 0, axis=1), np.cumsum(outcomes < 0, axis=1)
    z = (wins - losses) / np.sqrt(np.maximum(wins + losses, 1))
    assert (np.abs(z) > 1.96).any(axis=1).mean() > 2 * alpha


def test_team_draft_sequential_false_positives_under_equal_rankings():
    """End to end on team-draft pages of two equally good rankings: few experiments ever reject."""
    left, rel_left = ranking("a", {1, 3, 6})
    right, rel_right = ranking("b", {1, 3, 6})
    user = intent(rel_left | rel_right)
    test, rejected = MixtureSPRT(0.1), 0
    for seed in range(60):
        rng = np.random.default_rng(1000 + seed)
        outcomes = []
        for _ in range(400):
            page = team_draft([left, right], 10, rng)
            a, b = credit(page.teams, [r for _, r in MODEL.respond(page.ids, user, rng).clicks], 2)
            outcomes.append(int(np.sign(a - b)))
        rejected += test.first_crossing(np.array(outcomes)) is not None
    assert rejected / 60 < 0.1


def test_bad_draft_and_tally_input_is_refused():
    with pytest.raises(ValueError, match="at least two rankings"):
        team_draft([["a"]], 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="one count per configuration"):
        InterleavingTally(("a", "b")).add([1, 2, 3])
    with pytest.raises(ValueError, match="alpha"):
        MixtureSPRT(alpha=1.5)


# -- through the engine -----------------------------------------------------------------
@pytest.fixture()
def engine(default_catalog, app_cache_dir, tmp_path):
    return Engine.open("default", Settings(cache_dir=app_cache_dir, db_path=tmp_path / "feedback.db"),
                       catalog=default_catalog)


CONFIGS = "lexical:50/rrf,structured:50+popular:50/rrf"


def test_interleaved_searches_are_logged_with_teams_and_never_teach_the_bandit(engine, tmp_path):
    configs = parse_configurations(CONFIGS, engine.runtime.strategy_names)
    experiment = engine.experiments.start_interleaving(configs, name="lex-vs-struct")
    before = {name: array.copy() for name, array in engine.runtime.state.bandit.arrays().items()}
    rng = np.random.default_rng(0)
    shown = []
    for query in ("love", "jazz piano", "rock", "sad songs"):
        result = engine.experiments.search_interleaved(query, experiment, k=10, rng=rng)
        assert {i.team for i in result.items} == {c.name for c in configs}
        assert engine.runtime.store.interleaved_teams(result.search_id) == [i.team for i in result.items]
        assert result.to_json()["results"][0]["team"] == result.items[0].team
        shown.append(result)
        # an engagement and a thumbs up would close a normal search's window and reward arms
        engine.searching.respond(result.search_id, [(result.items[1].id, "click"), (result.items[1].id, "engage"),
                                                    (result.items[1].id, "thumbs_up")], user_id="analyst")
    assert engine.runtime.store.settled_rounds() == [] and engine.learning.bandit_log() == []
    assert engine.runtime.store.pending() == [] and engine.searching.open_searches == []
    assert engine.learning.learning_history().empty
    assert engine.runtime.state.updates == 0
    assert all(np.array_equal(before[name], array) for name, array in engine.runtime.state.bandit.arrays().items())
    normal = engine.searching.search("love", Context(), k=10, user_id="analyst")  # a normal search still learns
    engine.searching.respond(normal.search_id, [(normal.items[0].id, "engage")], user_id="analyst")
    assert [r.search_id for r in engine.learning.bandit_log()] == [normal.search_id]
    reopened = Engine.open("default", engine.runtime.settings, catalog=engine.runtime.catalog)  # and after a restart
    assert reopened.searching.open_searches == []
    assert [r.search_id for r in reopened.runtime.store.settled_rounds()] == [normal.search_id]
    report = reopened.experiments.interleaving_report(experiment)
    pair = report.tally.pairs[0]
    assert report.experiment == experiment and report.configurations == tuple(c.spec for c in configs)
    assert report.tally.impressions == 4 and pair.wins + pair.losses + pair.ties == 4
    credited = [item.team for item in (r.items[1] for r in shown)]
    assert pair.wins == credited.count(configs[0].name) and pair.losses == credited.count(configs[1].name)
    assert report.to_json()["pairs"][0]["wins"] == pair.wins and report.to_json()["experiment"] == experiment


def test_bad_experiments_are_one_line_messages(engine):
    configs = parse_configurations(CONFIGS, engine.runtime.strategy_names)
    with pytest.raises(ConfigurationError, match="two or more"):
        engine.experiments.start_interleaving(configs[:1])
    with pytest.raises(ValueError, match="does not exist"):
        engine.experiments.search_interleaved("love", "nope")
    engine.experiments.start_interleaving(configs, name="e")
    with pytest.raises(ValueError, match="already compares"):
        engine.experiments.start_interleaving(configs[::-1], name="e")
    assert engine.runtime.store.counts()["searches"] == 0


def test_simulated_experiment_stops_at_a_winner_and_matches_the_log(engine):
    # simulator truth (400 intents): mean nDCG@10 0.446 for "good", 0.375 for "bad"
    configs = parse_configurations("good=lexical:100+structured:100/rrf,bad=lexical:100/rrf",
                                   engine.runtime.strategy_names)
    run = InterleavingRun(engine, configs, InterleavingConfig(rounds=800, seed=2))
    run.run()
    summary = run.summary()
    assert summary.tally.winner == "good" and summary.searches < 800
    assert summary.tally.pairs[0].decided_at == summary.searches
    logged = run.engine.experiments.interleaving_report(run.experiment)
    assert logged.tally.pairs == summary.tally.pairs, (logged.tally.pairs, summary.tally.pairs)
    printed = summary.to_json()  # what `ltrr interleave --json` prints: the run, then the tally's figures
    assert (printed["searches"], printed["winner"], printed["pairs"][0]["a"]) == (summary.searches, "good", "good")
    assert run.engine.learning.bandit_log() == []
    assert engine.runtime.store.counts()["searches"] == 0  # the live engine untouched


def test_answer_of_the_simulator_still_settles_normal_searches(engine):
    """The simulator's answer path is unchanged for normal searches (regression guard for the loop)."""
    result = engine.searching.search("love", Context(), k=10, source="simulated", user_id="u1")
    user = Intent("broad", "love", result.items[0].id, frozenset({result.items[0].id}), Context())
    _, settlement = answer(engine, result, user, ClickModel(p_click_relevant=1.0).noiseless(), np.random.default_rng(0))
    assert settlement is not None and engine.learning.bandit_log()[0].search_id == result.search_id

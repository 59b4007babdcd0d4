"""Each arm's reason, set where the bandit decides: on real selections, one case per rule."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ltrr_core.selection.bandit import REASONS, Bandit, PolicyConfig

STRATEGIES = ["lexical", "popular", "structured", "semantic", "memory", "explore"]
X = np.array([1.0, 1.0, 0.0, 0.5])


def by_arm(selection) -> dict:
    return {a.arm: a for a in selection.arms}


def assert_well_formed(selection) -> None:
    """Every arm has a known reason, and its words say picked / left out as it was."""
    for arm in selection.arms:
        assert arm.reason in REASONS, arm
        assert arm.why.startswith("picked" if arm.picked else "left out"), arm
        assert arm.picked == (arm.arm in selection.chosen)


def test_a_cold_start_picks_by_net_score_and_strategy_order_and_says_so():
    selection = Bandit(STRATEGIES, 4, PolicyConfig(max_arms=2)).select(X)
    arms = by_arm(selection)
    assert_well_formed(selection)
    assert selection.chosen == ("lexical@25", "popular@25")
    assert all(a.pulls == 0 and a.expected == 0.0 for a in selection.arms)
    assert arms["lexical@25"].reason == "top" and arms["lexical@25"].why.startswith("picked: the best net score")
    assert arms["popular@25"].reason == "cleared_cut" and "clears the cut 0.05" in arms["popular@25"].why
    structured = arms["structured@25"]
    assert structured.reason == "max_arms" and structured.why.startswith("left out: max_arms 2 reached")
    assert "lexical and popular held the wanted item alone as often" in structured.why
    assert "ties going to the strategy listed first" in structured.why
    assert "no search with others shows yet what only it finds" in structured.why
    deeper = arms["semantic@100"]
    assert deeper.reason == "other_depth"
    assert deeper.why == (f"left out: semantic@25 is the better depth of semantic "
                          f"(net {arms['semantic@25'].net:.3f} against {deeper.net:.3f})")


def test_linucb_reports_its_bonus_as_the_interval_it_explores_with():
    selection = Bandit(STRATEGIES, 4, PolicyConfig(alpha=0.5)).select(X)
    for arm in selection.arms:
        assert arm.uncertainty == pytest.approx(arm.bonus)  # alpha x the posterior sd, the prior's at a cold start
        assert arm.uncertainty == pytest.approx(0.5 * np.linalg.norm(X))
        assert arm.bonus_why.startswith("upper-confidence bonus: alpha 0.5")


def test_the_arm_max_arms_leaves_out_is_told_which_kept_strategy_covers_it():
    bandit = Bandit(["lexical", "popular", "explore"], 2, PolicyConfig(name="egreedy", epsilon=0.0, max_arms=2,
                                                                        depths=(100,), cut=0.05))
    rng = np.random.default_rng(1)
    x = np.array([1.0, 0.0])
    for _ in range(300):
        shared = rng.random() < 0.6  # lexical and popular find it together; explore alone, sometimes
        alone = not shared and rng.random() < 0.5
        bandit.update(x, {"lexical@100": float(shared), "popular@100": float(shared), "explore@100": float(alone)})
    selection = bandit.select(x)
    popular = by_arm(selection)["popular@100"]
    assert_well_formed(selection)
    assert popular.reason == "max_arms" and popular.net >= 0.05
    assert popular.why.startswith("left out: max_arms 2 reached") and "the others cover it" in popular.why
    assert "explore held the wanted item alone more often" in popular.why
    assert "it alone held the wanted item in 0.0% of its searches with others" in popular.why
    assert by_arm(selection)["explore@100"].reason == "cleared_cut"
    assert by_arm(selection)["explore@100"].bonus_why == "none: policy 'egreedy' does not explore"


def test_a_lower_depth_of_a_picked_strategy_names_the_depth_that_scores_higher():
    bandit = Bandit(["lexical", "semantic"], 2, PolicyConfig(name="egreedy", epsilon=0.0, depths=(25, 100)))
    x = np.array([1.0, 0.0])
    for _ in range(20):  # semantic finds the item only with 100 candidates
        bandit.update(x, {"semantic@100": 1.0, "lexical@25": 0.0})
        bandit.update(x, {"semantic@25": 0.0, "lexical@100": 0.0})
    selection = bandit.select(x)
    arms = by_arm(selection)
    assert "semantic@100" in selection.chosen and arms["semantic@100"].reason == "top"
    shallow = arms["semantic@25"]
    assert shallow.reason == "other_depth" and not shallow.picked
    assert shallow.why == (f"left out: semantic@100 is the better depth of semantic "
                           f"(net {arms['semantic@100'].net:.3f} against {shallow.net:.3f})")
    assert arms["semantic@100"].net > shallow.net
    assert arms["semantic@100"].why == f"picked: the best net score of all, {arms['semantic@100'].net:.3f}"
    assert {arms["lexical@25"].reason, arms["lexical@100"].reason} == {"below_cut", "other_depth"}
    below = next(a for a in (arms["lexical@25"], arms["lexical@100"]) if a.reason == "below_cut")
    assert below.why == f"left out: net {below.net:.3f} is below the cut 0.05" and below.net < 0.05


def test_the_best_strategy_is_kept_below_the_cut_and_says_why():
    selection = Bandit(STRATEGIES, 4, PolicyConfig(name="egreedy", epsilon=0.0, cut=0.5)).select(X)
    arms = by_arm(selection)
    assert selection.chosen == ("lexical@25",)
    assert arms["lexical@25"].why.endswith("(kept below the cut 0.5: a search needs one strategy)")
    assert all(arms[f"{s}@25"].reason == "below_cut" for s in STRATEGIES[1:])


def test_a_warming_strategy_is_left_out_as_warming_even_in_an_explored_search():
    bandit = Bandit(STRATEGIES, 4, PolicyConfig(epsilon=1.0, max_arms=2))
    selection = bandit.select(X, frozenset({"semantic"}))
    assert selection.explored and selection.warming == ("semantic",)
    assert_well_formed(selection)
    for arm in selection.arms:
        if arm.strategy == "semantic":
            assert arm.reason == "warming" and not arm.picked
            assert arm.why == "left out: warming up, its index is still being built (not counted as a miss)"
        else:
            assert arm.reason == "explored"


def test_an_explored_subset_says_it_was_drawn_and_what_greedy_would_have_done():
    bandit = Bandit(STRATEGIES, 4, PolicyConfig(epsilon=0.5, max_arms=2))
    selection = next(s for s in (bandit.select(X) for _ in range(50)) if s.explored and set(s.chosen) != set(s.greedy))
    assert_well_formed(selection)
    assert selection.propensity == pytest.approx(0.5 / len(bandit.subsets)) and selection.exploration_rate == 0.5
    for arm in selection.arms:
        assert arm.reason == "explored"
        verdict = "picked" if arm.picked else "left out"
        would = ("picked it" if arm.arm in selection.greedy else "left it out") + (
            " too" if arm.picked == (arm.arm in selection.greedy) else "")
        assert arm.why.startswith(f"{verdict} by the exploration draw (a random subset); "
                                  f"the greedy choice would have {would}: ")
    greedy_top = by_arm(selection)[selection.greedy[0]]
    assert greedy_top.why.endswith(f"the best net score of all, {greedy_top.net:.3f}")


def test_a_random_policy_says_every_subset_is_drawn():
    selection = Bandit(STRATEGIES, 4, PolicyConfig(name="random")).select(X)
    assert_well_formed(selection)
    assert {a.why.split(": ", 1)[1] for a in selection.arms} == {"policy 'random' draws every search's subset at random"}
    assert selection.exploration_rate == 1.0


@pytest.mark.parametrize("name,left_out,words", [
    ("all", "semantic@25", ("picked: policy 'all' takes every strategy at full depth 100",
                            "left out: policy 'all' takes every strategy at full depth 100")),
    ("fixed:semantic@25", "semantic@100", ("picked: policy 'fixed:semantic@25' names it",
                                           "left out: policy 'fixed:semantic@25' takes semantic@25")),
])
def test_policies_that_name_their_arms_say_so(name, left_out, words):
    selection = Bandit(STRATEGIES, 4, PolicyConfig(name=name)).select(X)
    arms = by_arm(selection)
    assert_well_formed(selection)
    assert {a.reason for a in selection.arms} == {"policy"} and selection.exploration_rate == 0.0
    assert (arms[selection.chosen[-1]].why, arms[left_out].why) == words
    assert arms["lexical@100"].bonus_why == f"none: policy '{name}' does not explore"


def test_lints_reasons_follow_its_drawn_scores():
    bandit = Bandit(STRATEGIES, 4, PolicyConfig(name="lints", epsilon=0.0, max_arms=3))
    selection = bandit.select(X)
    assert_well_formed(selection)
    picked = [a for a in selection.arms if a.picked]
    assert {a.reason for a in picked} <= {"top", "cleared_cut"}
    top = next(a for a in picked if a.reason == "top")
    assert top.net == max(a.net for a in selection.arms)
    assert all(a.bonus_why.startswith("this search's draw from the arm's posterior") for a in selection.arms)


def test_the_trace_carries_the_reasons_and_the_exploration_rate():
    selection = Bandit(STRATEGIES, 4, PolicyConfig(epsilon=0.03)).select(X)
    trace = json.loads(json.dumps(selection.to_trace()))
    assert trace["exploration_rate"] == 0.03 and trace["propensity"] == selection.propensity
    assert [(a["arm"], a["reason"], a["why"]) for a in trace["arms"]] == [(a.arm, a.reason, a.why) for a in selection.arms]

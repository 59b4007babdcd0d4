"""The Strategies picked tab in words: the arm table and the propensity sentence, from real selections."""

from __future__ import annotations

import numpy as np
import pytest

from ltrr_core.selection.bandit import Bandit, PolicyConfig
from ui.widgets import arm_frame, percent, propensity_sentence

STRATEGIES = ["lexical", "popular", "structured", "semantic", "memory", "explore"]
X = np.array([1.0, 1.0, 0.0, 0.5])


def test_the_sentence_gives_the_subsets_chance_and_the_exploration_rate():
    bandit = Bandit(STRATEGIES, 4, PolicyConfig(epsilon=0.03))
    selection = bandit.select(X)
    assert not selection.explored and selection.propensity == pytest.approx(0.97 + 0.03 / len(bandit.subsets))
    assert propensity_sentence(selection) == ("This subset had a 97% chance of being chosen; "
                                              "3% of searches explore a random subset.")


def test_the_sentence_says_when_this_search_explored():
    bandit = Bandit(STRATEGIES, 4, PolicyConfig(epsilon=0.5, max_arms=2))
    selection = next(s for s in (bandit.select(X) for _ in range(50)) if s.explored and set(s.chosen) != set(s.greedy))
    assert propensity_sentence(selection) == (f"This subset had a {percent(0.5 / len(bandit.subsets))} chance of being "
                                              "chosen; 50% of searches explore a random subset, and this search was one of them.")


@pytest.mark.parametrize("name,ending", [("all", "this policy never explores a random subset."),
                                         ("random", "every search draws a random subset.")])
def test_the_sentence_for_policies_that_never_or_always_explore(name, ending):
    selection = Bandit(STRATEGIES, 4, PolicyConfig(name=name, max_arms=1, depths=(100,))).select(X)
    chance = "100%" if name == "all" else "17%"  # one of 6 single strategies
    assert propensity_sentence(selection) == f"This subset had a {chance} chance of being chosen; {ending}"


@pytest.mark.parametrize("p,text", [(0.97, "97%"), (0.9996, "99.96%"), (0.995, "99.5%"), (1.0, "100%"),
                                    (0.03, "3%"), (0.0004, "0.04%"), (0.00123, "0.12%")])
def test_percentages_never_round_to_a_wrong_certainty(p, text):
    assert percent(p) == text


def test_a_cold_start_arm_says_its_expected_reward_is_the_prior():
    selection = Bandit(STRATEGIES, 4, PolicyConfig(alpha=0.5, max_arms=2)).select(X)
    table = arm_frame(selection.arms).set_index("arm")
    spread = 0.5 * np.linalg.norm(X)
    assert set(table["expected reward (± uncertainty)"]) == {
        f"no pulls yet: expected reward is the prior, 0.000 ± {spread:.3f}"}
    assert table.loc["semantic@100", "exploration bonus"].startswith(f"+{spread:.3f} (upper-confidence bonus: alpha 0.5")
    assert table.loc["semantic@100", "net score after the depth cost"] == (
        f"score {spread:.3f} - depth cost 0.050 (100 candidates) = {spread - 0.05:.3f}")
    assert list(table.index[:2]) == list(selection.chosen) and list(table["picked"][:2]) == ["yes", "yes"]


def test_the_table_shows_the_bandits_reasons_and_pulls_as_it_recorded_them():
    bandit = Bandit(STRATEGIES, 4, PolicyConfig(name="egreedy", epsilon=0.0, max_arms=2))
    for _ in range(3):
        bandit.update(X, {"semantic@25": 1.0, "lexical@25": 0.0})
    selection = bandit.select(X)
    table = arm_frame(selection.arms).set_index("arm")
    assert table["why"].to_dict() == {a.arm: a.why for a in selection.arms}
    semantic = next(a for a in selection.arms if a.arm == "semantic@25")
    assert table.loc["semantic@25", "expected reward (± uncertainty)"] == (
        f"{semantic.expected:.3f} ± {semantic.uncertainty:.3f} after 3 pulls (mean reward 1.00)")
    assert table.loc["semantic@25", "exploration bonus"] == "+0.000 (none: policy 'egreedy' does not explore)"


def test_the_tabs_pieces_render_in_streamlit():
    from streamlit.testing.v1 import AppTest

    def tab() -> None:
        import numpy as np
        import streamlit as st

        from ltrr_core.selection.bandit import Bandit, PolicyConfig
        from ui import charts
        from ui.widgets import arm_frame, propensity_sentence

        selection = Bandit(["lexical", "semantic", "popular"], 2, PolicyConfig()).select(np.ones(2), frozenset({"popular"}))
        arms = arm_frame(selection.arms)
        st.caption(propensity_sentence(selection))
        st.table(arms)
        st.plotly_chart(charts.arm_scores(arms.assign(picked=arms["picked"].eq("yes"))))

    at = AppTest.from_function(tab).run(timeout=60)
    assert not at.exception, at.exception
    assert at.caption[0].value.startswith("This subset had a ") and "of searches explore a random subset" in at.caption[0].value
    table = at.table[0].value
    assert set(table["why"][table["arm"].str.startswith("popular")]) == {
        "left out: warming up, its index is still being built (not counted as a miss)"}

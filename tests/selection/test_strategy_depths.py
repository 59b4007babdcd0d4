"""The one strategy+depth grammar: arms, strategy lists (``@`` written, ``:`` read) and base names."""

from __future__ import annotations

import re

import pytest

from ltrr_core.base.strategy_depths import (
    StrategyDepthError,
    arm_name,
    base_strategy,
    format_strategy_depths,
    parse_strategy_depths,
    split_arm,
)
from ltrr_core.selection import bandit

STRATEGIES = ("lexical", "semantic", "popular")


def test_arms_are_written_with_at_and_read_with_either_separator():
    assert arm_name("semantic", 25) == "semantic@25"
    assert split_arm("semantic@25") == split_arm("semantic:25") == split_arm(" semantic @ 25 ") == ("semantic", 25)
    assert (bandit.arm_name, bandit.split_arm) == (arm_name, split_arm)  # the bandit's names are these
    assert bandit.arm_depths(("lexical@25", "semantic:100")) == {"lexical": 25, "semantic": 100}


@pytest.mark.parametrize("arm, problem", [
    ("semantic", "an arm needs a depth, e.g. semantic@100"), ("semantic@0", "depth '0' of 'semantic'"),
    ("lexical@25+semantic@100", "'lexical@25+semantic@100' is not strategy[@depth]"), ("@25", "'@25' is not"),
])
def test_a_bad_arm_is_refused_naming_it(arm, problem):
    with pytest.raises(StrategyDepthError, match=f"^strategies {re.escape(repr(arm))}: ") as raised:
        split_arm(arm)
    assert raised.value.problem.startswith(problem) and raised.value.spec == arm


def test_a_list_keeps_its_order_and_the_depths_it_gives():
    spec = "semantic@25+ lexical +popular:10"
    assert list(parse_strategy_depths(spec, STRATEGIES).items()) == [("semantic", 25), ("lexical", None),
                                                                      ("popular", 10)]
    assert format_strategy_depths(parse_strategy_depths(spec)) == "semantic@25+lexical+popular@10"  # @ written
    assert parse_strategy_depths("anything@7") == {"anything": 7}  # without strategies, any name


@pytest.mark.parametrize("spec, problem", [
    ("lexical+lexcal", "unknown strategy 'lexcal'; choose from ['lexical', 'semantic', 'popular']"),
    ("lexical@25+lexical@100", "strategy 'lexical' is named twice"),
    ("lexical:25+lexical", "strategy 'lexical' is named twice"),
    ("lexical@0", "depth '0' of 'lexical' must be a positive whole number"),
    ("lexical@-5", "depth '-5' of 'lexical'"), ("lexical@2.5", "depth '2.5' of 'lexical'"),
    ("lexical@", "depth '' of 'lexical'"), ("lexical@²", "depth '²' of 'lexical'"),
    ("lexical@25@50", "'lexical@25@50' is not strategy[@depth]"), ("lexical++semantic", "a strategy is missing"),
    ("", "a strategy is missing"), ("fixed:lexical", "depth 'lexical' of 'fixed'"),
])
def test_a_bad_list_is_refused_naming_the_spec_and_the_problem(spec, problem):
    with pytest.raises(StrategyDepthError) as raised:
        parse_strategy_depths(spec, STRATEGIES)
    assert isinstance(raised.value, ValueError) and raised.value.problem.startswith(problem)
    assert str(raised.value) == f"strategies {spec!r}: {raised.value.problem}"


@pytest.mark.parametrize("name, base", [
    ("semantic@100", "semantic"), ("semantic:25", "semantic"), ("semantic", "semantic"),
    ("fixed:lexical", "lexical"), ("fixed:lexical@25", "lexical"), ("linucb", "linucb"),
    ("lexical+semantic", "lexical+semantic"), ("fixed:lexical+semantic", "fixed:lexical+semantic"),
    ("lexical@100/rrf", "lexical@100/rrf"), ("bandit/ltr", "bandit/ltr"), ("", ""),
])
def test_base_strategy_of_a_name(name, base):
    assert base_strategy(name) == base

"""Configuration specs parse to values and back, and name what is wrong with a bad one."""

import re

import pytest

from ltrr_core.evaluation.configurations import ConfigurationError, parse_configuration, parse_configurations
from ltrr_core.retrieval.registry import STRATEGY_ORDER


def test_fixed_subset_with_depths_and_ranker():
    c = parse_configuration("lexical@25+semantic/rrf")
    assert list(c.depths.items()) == [("lexical", 25), ("semantic", 100)]
    assert c.ranker == "rrf" and c.name == "lexical@25+semantic@100/rrf"


def test_the_old_colon_separator_still_parses_and_is_written_with_at():
    old = parse_configuration("lexical:25+semantic/rrf")
    assert old == parse_configuration("lexical@25+semantic/rrf") and old.retrieval == "lexical@25+semantic@100"
    assert parse_configuration("all:50/rrf").depths == parse_configuration("all@50/rrf").depths
    stored = parse_configuration("ls=lexical:100+semantic:50/rrf")  # a snapshot written before @
    assert stored.spec == "ls=lexical@100+semantic@50/rrf" and parse_configuration(stored.spec) == stored


def test_bandit_all_and_named_specs_round_trip():
    bandit, full, default, named = parse_configurations("bandit,all@50/interleave,all,base=popular@10/ltr")
    assert bandit.depths is None and bandit.ranker == "ltr" and bandit.name == "bandit/ltr"
    assert dict(full.depths) == dict.fromkeys(STRATEGY_ORDER, 50)
    assert dict(default.depths) == dict.fromkeys(STRATEGY_ORDER, 100)
    assert named.name == "base" and parse_configuration(named.spec) == named
    assert [parse_configuration(c.spec) for c in (bandit, full, default)] == [bandit, full, default]


@pytest.mark.parametrize("spec, named", [
    ("lexcal@10/rrf", "unknown strategy 'lexcal'; choose from"), ("lexical/bm42", "'bm42'"),
    ("lexical@0", "depth '0' of 'lexical'"), ("lexical:x", "depth 'x' of 'lexical'"),
    ("lexical+lexical", "'lexical' is named twice"), ("lexical@25+lexical:100", "'lexical' is named twice"),
    ("", "empty spec"), ("lexical++semantic/rrf", "a strategy is missing"),
    ("all+lexical/rrf", "write 'all' alone"), ("bandit@100", "write 'bandit' alone"),
    ("lexical+bandit", "write 'bandit' alone"),
])
def test_bad_specs_name_the_spec_and_the_bad_part(spec, named):
    with pytest.raises(ConfigurationError) as raised:
        parse_configuration(spec)
    assert re.fullmatch(f"configuration {re.escape(repr(spec))}: .*{re.escape(named)}.*" if spec else f".*{named}.*",
                        str(raised.value))


def test_duplicate_names_and_empty_lists_are_refused():
    with pytest.raises(ConfigurationError, match="used twice"):
        parse_configurations("a=bandit,a=all")
    with pytest.raises(ConfigurationError, match="none given"):
        parse_configurations(" , ")

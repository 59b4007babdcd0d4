"""Configuration specs parse to values and back, and name what is wrong with a bad one."""

import pytest

from ltrr_core.evaluation.configurations import ConfigurationError, parse_configuration, parse_configurations
from ltrr_core.retrieval.registry import STRATEGY_ORDER


def test_fixed_subset_with_depths_and_ranker():
    c = parse_configuration("lexical:25+semantic/rrf")
    assert dict(c.depths) == {"lexical": 25, "semantic": 100}
    assert c.ranker == "rrf" and c.name == "lexical:25+semantic:100/rrf"


def test_bandit_all_and_named_specs_round_trip():
    bandit, full, named = parse_configurations("bandit,all:50/interleave,base=popular:10/ltr")
    assert bandit.depths is None and bandit.ranker == "ltr"
    assert dict(full.depths) == {s: 50 for s in STRATEGY_ORDER}
    assert named.name == "base" and parse_configuration(named.spec) == named


@pytest.mark.parametrize("spec, named", [
    ("lexcal:10/rrf", "'lexcal'"), ("lexical/bm42", "'bm42'"), ("lexical:0", "'0'"),
    ("lexical+lexical", "'lexical' is named twice"), ("", "empty spec"),
])
def test_bad_specs_name_the_bad_part(spec, named):
    with pytest.raises(ConfigurationError, match=named):
        parse_configuration(spec)


def test_duplicate_names_and_empty_lists_are_refused():
    with pytest.raises(ConfigurationError, match="used twice"):
        parse_configurations("a=bandit,a=all")
    with pytest.raises(ConfigurationError, match="none given"):
        parse_configurations(" , ")

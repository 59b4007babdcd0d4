"""The experiments face's side-by-side of a typed query on the default catalog: the same rankings
``run_configuration`` gives, offline (nothing logged, no reward window), the stored grades of the
query with their nDCG@10, and one clear message for a bad configuration."""

from __future__ import annotations

import pytest

from ltrr_core.base.config import Settings
from ltrr_core.base.metrics import per_query
from ltrr_core.engine import Engine
from ltrr_core.evaluation.configurations import ConfigurationError, parse_configuration
from ltrr_core.studio import Studio

QUERY = "smooth jazz for a rainy evening"
A, B = "lexical@100+semantic@25/rrf", "all@100/rrf"


@pytest.fixture()
def engine(default_catalog, app_cache_dir, tmp_path):
    return Engine.open("default", Settings(cache_dir=app_cache_dir, db_path=tmp_path / "feedback.db"),
                       catalog=default_catalog)


def ranked_ids(engine: Engine, spec: str, k: int) -> tuple[str, ...]:
    run = engine.runtime.run_configuration(parse_configuration(spec), QUERY)
    return tuple(run.pool.ids[i] for i in run.ranked.order[:k])


def test_compare_shows_both_configurations_rankings_and_logs_nothing(engine):
    store, before = engine.runtime.store, engine.runtime.store.counts()
    comparison = Studio.of(engine).experiments.side_by_side(QUERY, A, "bandit/rrf", k=8)
    assert comparison.a.ids[:8] == ranked_ids(engine, A, 8) and comparison.k == 8
    assert comparison.b.configuration.depths is None and len(comparison.rows("b")) == 8
    assert set(comparison.a.strategies) == {"lexical", "semantic"}
    assert store.counts() == before and engine.searching.open_searches == []  # offline: no search, no window
    assert not comparison.judged and comparison.ndcg("a") is None


def test_two_configurations_that_differ_mark_moved_and_new_results(engine):
    rows = Studio.of(engine).experiments.side_by_side(QUERY, A, B).rows("b")
    movements = [r.movement for r in rows]
    assert "new" in movements and any(m.startswith(("up", "down")) for m in movements), movements


def test_the_typed_querys_stored_grades_give_each_side_its_ndcg(engine):
    faces = Studio.of(engine)
    top = ranked_ids(engine, B, 3)
    faces.labels.label("Smooth jazz, for a rainy evening!", top[2], 3, judge="ana")
    faces.labels.label(QUERY, top[0], 1, judge="bo")
    comparison = faces.experiments.side_by_side(QUERY.upper(), A, B)
    assert comparison.grades == {top[2]: 3, top[0]: 1}
    assert [r.grade for r in comparison.rows("b")][:3] == [1, None, 3]
    for side in ("a", "b"):
        ids = comparison.side(side).ids
        run = {comparison.query: {d: float(len(ids) - r) for r, d in enumerate(ids)}}
        assert comparison.ndcg(side) == pytest.approx(
            per_query({comparison.query: comparison.grades}, run, "ndcg@10")[comparison.query])
    assert comparison.ndcg("b") > 0


def test_a_bad_configuration_or_query_is_one_clear_message(engine):
    experiments = Studio.of(engine).experiments
    with pytest.raises(ConfigurationError, match="unknown strategy 'lexcal'"):
        experiments.side_by_side(QUERY, "lexcal/rrf", B)
    with pytest.raises(ConfigurationError, match="no trained model"):
        experiments.side_by_side(QUERY, A, "bandit/ltr")
    with pytest.raises(ValueError, match="type a query"):
        experiments.side_by_side("   ", A, B)
    assert engine.runtime.store.counts()["searches"] == 0

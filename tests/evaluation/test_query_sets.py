"""Query sets from the simulator, the log and files; their specs, and what a bad one says."""

from __future__ import annotations

import pytest

from ltrr_core.base.records import SearchRecord
from ltrr_core.feedback.store.feedback_store import FeedbackStore
from ltrr_core.evaluation.query_sets import QuerySetError, file_queries, logged_queries, parse_query_set
from ltrr_core.understanding.text import normalize


def test_simulated_queries_are_distinct_with_the_simulators_truth(default_catalog):
    queries = parse_query_set("sim:120:3", default_catalog)
    ids = [q.id for q in queries.queries]
    assert len(ids) == len(set(ids)) == 120
    assert all(ids) and set(queries.truth) == set(ids)
    assert all(e in default_catalog and g == 1 for grades in queries.truth.values() for e, g in grades.items())
    assert parse_query_set("sim:120:3", default_catalog).queries == queries.queries  # seeded
    assert {q.category for q in queries.queries} <= {"spearfish", "broad", "semantic", "fresh"}


def test_log_top_and_stratified_sample_from_the_store(tmp_path, default_catalog):
    store = FeedbackStore(tmp_path / "f.db")
    logged = [("Love", "artist")] * 3 + [("jazz", "genre")] * 2 + [("rock", "genre"), ("sad songs", "mood"),
                                                                      ("Bread podcast", "text")]
    for text, category in logged:
        store.log_search_bundle(SearchRecord(query=text, normalized_query=normalize(text), user_id="u", features=(0.0,),
                                             policy="linucb", arms_scored=(), chosen_arms=("lexical:100",),
                                             propensity=1.0, ranker="rrf", category=category), ())
    counts = store.query_counts()
    assert [(n, c, k) for n, _, c, k in counts][:2] == [("love", "artist", 3), ("jazz", "genre", 2)]
    top = parse_query_set("log:top:2", default_catalog, store.query_counts)
    assert [q.id for q in top.queries] == ["love", "jazz"] and top.queries[0].text == "Love"
    sample = logged_queries(counts, 4, "sample", seed=1)
    assert len(sample) == 4
    assert {q.category for q in sample.queries} == {"artist", "genre", "mood", "text"}  # every stratum kept


def test_files_one_query_a_line_or_trec_topics(tmp_path):
    lines = tmp_path / "q.txt"
    lines.write_text("Sad songs\n\nsad songs!\n  jazz for work \n")
    assert [(q.id, q.text) for q in file_queries(lines).queries] == [("sad songs", "Sad songs"),
                                                                     ("jazz for work", "jazz for work")]
    topics = tmp_path / "topics.txt"
    topics.write_text("<top>\n<num> Number: 301\n<title> International Organized Crime\n<desc> Description:\n"
                      "x\n</top>\n<top>\n<num> Number: 302\n<title> Poliomyelitis and Post-Polio\n</top>\n")
    assert [(q.id, q.text) for q in file_queries(topics).queries] == [
        ("301", "International Organized Crime"), ("302", "Poliomyelitis and Post-Polio")]


@pytest.mark.parametrize("spec, message", [
    ("sim:0", "must be a whole number"), ("sim:ten", "'ten'"), ("sim:10:x", "seed 'x'"),
    ("log:best:5", "write log:top:N"), ("log:top:5", "no searches yet"), ("web:5", "write sim:N"),
    ("file:/no/such/file.txt", "cannot read"),
])
def test_bad_query_set_specs_name_the_part(spec, message, default_catalog):
    with pytest.raises(QuerySetError, match=message):
        parse_query_set(spec, default_catalog, lambda: [])


def test_a_query_file_line_over_the_limits_is_refused(tmp_path):
    from ltrr_core.base.text_files import MAX_LINE_CHARS

    path = tmp_path / "queries.txt"
    path.write_text("love songs\n" + "q" * 3000 + "\n")
    with pytest.raises(QuerySetError, match=r"line 2: the query has 3,000 characters, over the limit of 2,048"):
        file_queries(path)
    path.write_text("love songs\n" + "q" * (MAX_LINE_CHARS + 10) + "\n")
    with pytest.raises(QuerySetError, match=rf"line 2: longer than the limit of {MAX_LINE_CHARS:,} characters"):
        file_queries(path)


def test_a_trec_topic_number_over_the_id_limit_is_refused(tmp_path):
    path = tmp_path / "topics.txt"
    path.write_text(f"<top>\n<num> Number: 301\n<title> jazz\n</top>\n<top>\n<num> Number: {'9' * 2000}\n<title> rock\n</top>\n")
    with pytest.raises(QuerySetError, match=r"TREC topic #2: the number has 2,000 characters, over the limit of 1,024"):
        file_queries(path)


def test_a_truncated_gz_query_file_is_one_query_set_error(tmp_path):
    import gzip

    whole = gzip.compress("".join(f"query number {i}\n" for i in range(5000)).encode())
    path = tmp_path / "queries.txt.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(QuerySetError, match=r"queries\.txt\.gz: cannot read it .*truncated or corrupt"):
        file_queries(path)


def test_log_pps_draws_queries_in_proportion_to_their_searches():
    from scipy.stats import chisquare

    counts = [(f"q{i}", f"q{i}", "text", i) for i in range(30, 0, -1)]  # q30 searched 30 times ... q1 once
    n, draws = 5, 2000
    included = dict.fromkeys((row[0] for row in counts), 0)
    for seed in range(draws):
        drawn = logged_queries(counts, n, "pps", seed=seed)
        assert len({q.id for q in drawn.queries}) == n  # distinct, most searched first
        for query in drawn.queries:
            included[query.id] += 1
    total = sum(row[3] for row in counts)
    expected = [draws * n * row[3] / total for row in counts]  # inclusion probability n x share of searches
    assert chisquare([included[row[0]] for row in counts], expected).pvalue > 0.01
    assert logged_queries(counts, n, "pps", seed=3) == logged_queries(counts, n, "pps", seed=3)  # seeded


def test_log_pps_takes_queries_above_certainty_and_reads_the_spec(tmp_path, default_catalog):
    counts = [("love", "Love", "artist", 1000), ("jazz", "jazz", "genre", 3), ("rock", "rock", "genre", 2),
              ("pop", "pop", "genre", 1)]
    for seed in range(20):
        drawn = [q.id for q in logged_queries(counts, 2, "pps", seed=seed).queries]
        assert drawn[0] == "love" and len(drawn) == 2
    store = FeedbackStore(tmp_path / "f.db")
    for text in ["Love"] * 3 + ["jazz"]:
        store.log_search_bundle(SearchRecord(query=text, normalized_query=normalize(text), user_id="u", features=(0.0,),
                                             policy="linucb", arms_scored=(), chosen_arms=("lexical:100",),
                                             propensity=1.0, ranker="rrf"), ())
    pps = parse_query_set("log:pps:1:4", default_catalog, store.query_counts)
    assert pps.spec == "log:pps:1:4" and len(pps) == 1
    assert len(parse_query_set("log:pps:5", default_catalog, store.query_counts)) == 2  # fewer logged: all of them

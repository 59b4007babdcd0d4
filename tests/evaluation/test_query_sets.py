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

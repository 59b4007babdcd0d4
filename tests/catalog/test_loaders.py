"""Loaders for user data: jsonl, csv with a mapping, spotify, BEIR, and their error messages."""

from __future__ import annotations

import gzip
import json

import pytest

from ltrr_core.catalog.beir import load_beir
from ltrr_core.catalog.loaders import (
    iso_date,
    load_csv,
    load_jsonl,
    load_spotify,
    moods_from_audio,
    stable_id,
)
from ltrr_core.catalog.schema import CatalogError, Entity
from ltrr_core.catalog.sources import load_catalog

CSV = "song_id,name,singer,tags,score,year\ns1,Blue Night,Ana Ruiz,jazz;soul,87,1999\ns2,Red Sky,Bo Lind,rock,12,2004-05\n"
MAPPING = {"id": "song_id", "title": "name", "type": {"const": "track"}, "creator": "singer",
           "genres": "tags", "popularity": "score", "popularity_scale": 100, "release_date": "year"}


@pytest.fixture
def songs_csv(tmp_path):
    path = tmp_path / "songs.csv"
    path.write_text(CSV)
    return path


def write_mapping(tmp_path, mapping) -> str:
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps(mapping))
    return str(path)


# ---------------------------------------------------------------- csv
def test_csv_with_mapping_function_and_source_agree(songs_csv, tmp_path):
    catalog = load_csv(songs_csv, MAPPING)
    blue = catalog.get("s1")
    assert (blue.type, blue.title, blue.creator) == ("track", "Blue Night", "Ana Ruiz")
    assert blue.genres == {"jazz": 1.0, "soul": 1.0} and blue.popularity == pytest.approx(0.87)
    assert blue.release_date == "1999-01-01" and catalog.get("s2").release_date == "2004-05-01"
    via_source = load_catalog(f"csv:{songs_csv}#{write_mapping(tmp_path, MAPPING)}")
    assert via_source.entities == catalog.entities


def test_csv_without_mapping_uses_entity_named_columns(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("id,type,title,popularity\nx1,album,Greatest,0.4\n")
    assert load_catalog(f"csv:{path}").get("x1") == Entity(id="x1", type="album", title="Greatest", popularity=0.4)


@pytest.mark.parametrize(
    ("mapping_change", "csv_text", "expected"),
    [
        ({"title": "nome"}, CSV, ["songs.csv", "line 1", "'title'", "'nome'", "available columns"]),
        ({}, CSV.replace(",87,", ",eighty,"), ["songs.csv", "line 2", "'popularity'", "'score'", "eighty"]),
        ({"popularity_scale": 1}, CSV, ["songs.csv", "line 2", "'popularity'", "popularity_scale"]),
        ({}, CSV.replace("s2,", "s1,"), ["songs.csv", "line 3", "'id'", "duplicate", "line 2"]),
        ({}, CSV.replace("2004-05", "May 2004"), ["songs.csv", "line 3", "'release_date'", "YYYY"]),
        ({"colour": "name"}, CSV, ["mapping", "'colour'", "not an entity field"]),
        ({"type": None}, CSV, ["mapping", "'type'"]),
        ({}, CSV.replace("s2,Red", ",Red"), ["songs.csv", "line 3", "'id'", "empty"]),
    ],
)
def test_csv_errors_name_file_line_and_field(tmp_path, mapping_change, csv_text, expected):
    path = tmp_path / "songs.csv"
    path.write_text(csv_text)
    mapping = {k: v for k, v in {**MAPPING, **mapping_change}.items() if v is not None}
    with pytest.raises(CatalogError) as caught:
        load_csv(path, mapping)
    for fragment in expected:
        assert fragment in str(caught.value)


def test_csv_missing_files_and_malformed_mapping(songs_csv, tmp_path):
    with pytest.raises(CatalogError, match=r"nope\.csv: file not found"):
        load_csv(tmp_path / "nope.csv", MAPPING)
    with pytest.raises(CatalogError, match=r"missing\.json: mapping file not found"):
        load_catalog(f"csv:{songs_csv}#{tmp_path / 'missing.json'}")
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "id": "song_id",\n  "title": \n}')
    with pytest.raises(CatalogError, match=r"broken\.json, line 4: malformed JSON"):
        load_catalog(f"csv:{songs_csv}#{broken}")


# ---------------------------------------------------------------- jsonl
def test_jsonl_plain_and_gzip_round_trip(tmp_path):
    entities = [Entity(id="a", type="track", title="One", genres={"pop": 0.7, "rock": 0.3}, moods=("happy",),
                       related={"artist": ("b",)}, popularity=0.5),
                Entity(id="b", type="artist", title="Two")]
    text = "".join(json.dumps(e.to_json()) + "\n" for e in entities)
    plain, packed = tmp_path / "c.jsonl", tmp_path / "c.jsonl.gz"
    plain.write_text(text + "\n")
    packed.write_bytes(gzip.compress(text.encode()))
    assert load_jsonl(plain).entities == entities
    assert load_catalog(f"jsonl:{packed}").entities == entities


@pytest.mark.parametrize(
    ("second_line", "expected"),
    [
        ('{"id": "b", "type": "track", "title": "X"', ["c.jsonl", "line 2", "malformed JSON"]),
        ('{"id": "a", "type": "track", "title": "X"}', ["c.jsonl", "line 2", "'id'", "duplicate", "line 1"]),
        ('{"id": "b", "type": "track"}', ["c.jsonl", "line 2", "'title'", "missing"]),
        ('{"id": "b", "type": "track", "title": "X", "popularity": 7}', ["c.jsonl", "line 2", "'popularity'", "[0, 1]"]),
        ('{"id": "b", "type": "track", "title": "X", "popularity": "lots"}', ["c.jsonl", "line 2", "popularity"]),
        ('{"id": "b", "type": "track", "title": "X", "colour": "red"}', ["c.jsonl", "line 2", "colour"]),
    ],
)
def test_jsonl_errors_name_file_line_and_field(tmp_path, second_line, expected):
    path = tmp_path / "c.jsonl"
    path.write_text('{"id": "a", "type": "track", "title": "A"}\n' + second_line + "\n")
    with pytest.raises(CatalogError) as caught:
        load_jsonl(path)
    for fragment in expected:
        assert fragment in str(caught.value)


def test_unknown_source_lists_the_choices():
    with pytest.raises(CatalogError, match="spotify:PATH"):
        load_catalog("parquet:/x")


# ---------------------------------------------------------------- helpers
def test_iso_date_and_moods_and_stable_ids():
    assert (iso_date("1999"), iso_date("2004-05"), iso_date("2004-05-06"), iso_date("")) == ("1999-01-01", "2004-05-01", "2004-05-06", "")
    with pytest.raises(ValueError):
        iso_date("05/06/2004")
    assert moods_from_audio(0.9, 0.9, 0.1) == ("happy", "energetic")
    assert moods_from_audio(0.1, 0.2, 0.1) == ("sad", "chill")
    assert moods_from_audio(0.2, 0.9, 0.0) == ("melancholic", "energetic", "dark")
    assert stable_id("artist", "Ed Sheeran") == stable_id("artist", "Ed Sheeran") != stable_id("artist", "Ed Sheeran ")


# ---------------------------------------------------------------- spotify
@pytest.fixture(scope="module")
def spotify(spotify_path):
    return load_catalog(f"spotify:{spotify_path}")


@pytest.mark.shared
@pytest.mark.slow
def test_spotify_counts_and_links(spotify):
    by_type = spotify.by_type()
    assert by_type["track"] == 28_356 and by_type["playlist"] == 471 and by_type["album"] == 22_545
    assert by_type["artist"] == 10_692  # distinct names; the 5 rows whose artist is "NA" (missing) get no artist
    assert "artist" not in spotify.get("69gRFGOWY9OMpFJgFol1u0").related
    for entity in spotify:
        for ids in entity.related.values():
            assert all(i in spotify for i in ids)
    track = spotify.get("6f807x0ima9a1j3VPbc7VN")
    assert track.popularity == pytest.approx(0.66) and track.release_date == "2019-06-14"
    assert spotify.get(track.related["artist"][0]).title == "Ed Sheeran"
    assert track.related["artist"][0] == stable_id("artist", "Ed Sheeran")
    assert abs(max(track.genres.values()) - 0.5) < 1e-9 and "pop" in track.genres
    assert all(len(e.release_date) == 10 for e in spotify if e.type == "track")


@pytest.mark.shared
def test_spotify_rejects_other_layouts(songs_csv):
    with pytest.raises(CatalogError, match=r"songs\.csv, line 1, field 'track_id'"):
        load_spotify(songs_csv)


# ---------------------------------------------------------------- beir
@pytest.mark.shared
def test_beir_scifact(scifact_dir):
    data = load_beir(scifact_dir)
    assert len(data.catalog) == 5_183 and data.catalog.by_type() == {"document": 5_183}
    assert len(data.qrels["test"]) == 300 and len(data.queries) == 1_109
    doc = data.catalog.get("31715818")
    assert doc.title.startswith("New opportunities") and "stem cells" in doc.description
    assert data.qrels["test"]["1"] == {"31715818": 1}
    assert load_catalog(f"beir:{scifact_dir}").entities == data.catalog.entities


def test_beir_errors(tmp_path):
    with pytest.raises(CatalogError, match="folder not found"):
        load_beir(tmp_path / "none")
    with pytest.raises(CatalogError, match="no corpus.jsonl"):
        load_beir(tmp_path)
    (tmp_path / "corpus.jsonl").write_text('{"_id": "d1", "title": "T", "text": "x"}\n{"title": "no id"}\n')
    with pytest.raises(CatalogError, match=r"corpus\.jsonl, line 2, field '_id'"):
        load_beir(tmp_path)
    (tmp_path / "corpus.jsonl").write_text('{"_id": "d1", "title": "T", "text": "x"}\n')
    (tmp_path / "queries.jsonl").write_text('{"_id": "q1", "text": "what"}\n')
    (tmp_path / "qrels").mkdir()
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\thigh\n")
    with pytest.raises(CatalogError, match=r"test\.tsv: line 2: non-integer grade 'high'"):
        load_beir(tmp_path)
    # the one BEIR qrels reader (also used for label imports): header required, no duplicates
    (tmp_path / "qrels" / "test.tsv").write_text("q1\td1\t2\n")
    with pytest.raises(CatalogError, match=r"test\.tsv: line 1: missing header"):
        load_beir(tmp_path)
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t2\nq1\td1\t1\n")
    with pytest.raises(CatalogError, match=r"line 3: duplicate judgment"):
        load_beir(tmp_path)
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\tnope\t2\n")
    with pytest.raises(CatalogError, match=r"corpus-id'.*'nope' is not in the corpus"):
        load_beir(tmp_path)
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t2\n")
    assert load_beir(tmp_path).qrels == {"test": {"q1": {"d1": 2}}}

"""Settings: saved choices beside the database, the environment over them, bad files named."""

from __future__ import annotations

import pytest

from ltrr_core.base.config import Settings


def test_saved_settings_are_read_back_and_the_environment_wins(tmp_path, monkeypatch):
    for name in ("LTRR_MODEL", "LTRR_BACKEND", "LTRR_DENSE_INDEX", "LTRR_DB_PATH"):
        monkeypatch.delenv(name, raising=False)
    db = tmp_path / "feedback.db"
    Settings.from_env(db_path=db).save(backend="onnx-int8", dense_index="hnsw")  # not the defaults
    restarted = Settings.from_env(db_path=db)
    assert (restarted.backend, restarted.dense_index) == ("onnx-int8", "hnsw")
    monkeypatch.setenv("LTRR_BACKEND", "torch")
    assert Settings.from_env(db_path=db).backend == "torch"
    assert Settings.from_env(db_path=tmp_path / "other.db").backend == "torch"  # one file per database


def test_bad_saved_files_and_values_are_one_line_messages(tmp_path):
    db = tmp_path / "feedback.db"
    with pytest.raises(ValueError, match="backend: 'cuda' is not one of"):
        Settings(db_path=db).save(backend="cuda")
    with pytest.raises(ValueError, match="cannot be saved"):
        Settings(db_path=db).save(cache_dir="elsewhere")
    assert not (tmp_path / "feedback.db.settings.json").exists()
    (tmp_path / "feedback.db.settings.json").write_text('{"dense_index": "annoy"}', encoding="utf-8")
    with pytest.raises(ValueError, match=r"settings file .*feedback.db.settings.json: dense_index: 'annoy'.*delete it"):
        Settings.from_env(db_path=db)


def test_retrieval_threads_is_a_whole_number_of_at_least_one(monkeypatch):
    monkeypatch.setenv("LTRR_RETRIEVAL_THREADS", "3")
    assert Settings.from_env().retrieval_threads == 3
    with pytest.raises(ValueError, match="retrieval_threads: 'many' is not a whole number of threads"):
        Settings(retrieval_threads="many")
    with pytest.raises(ValueError, match="retrieval_threads: 0 must be at least 1"):
        Settings(retrieval_threads=0)


def test_the_catalog_choice_is_kept_beside_the_settings_and_ltrr_source_wins(tmp_path, monkeypatch):
    from ltrr_core.base.config import active_source, save_source
    from ltrr_core.cli import build_parser

    monkeypatch.delenv("LTRR_SOURCE", raising=False)
    db = tmp_path / "feedback.db"
    assert active_source(db) == "default"
    save_source(db, "beir:/data/scifact")
    Settings(db_path=db).save(backend="onnx-int8")  # saving the other settings keeps the catalog choice
    assert active_source(db) == "beir:/data/scifact"
    assert Settings.from_env(db_path=db).backend == "onnx-int8"
    assert active_source(tmp_path / "other.db") == "default"  # one choice per database
    monkeypatch.setenv("LTRR_SOURCE", "default:1000")
    assert active_source(db) == "default:1000"
    assert build_parser().parse_args(["catalog"]).source == "default:1000"  # the CLI's --source default
    with pytest.raises(ValueError, match="empty catalog source"):
        save_source(db, " ")

"""Query notes in the store: one per normalized query, replaced and removed, shared by every
process opening the database, and refused with a message when they cannot be stored."""

from __future__ import annotations

import sqlite3

import pytest

from ltrr_core.feedback.store import core as store_core
from ltrr_core.feedback.store.feedback_store import FeedbackStore
from ltrr_core.feedback.store.notes import MAX_NOTE_CHARS


def test_a_note_is_keyed_by_normalized_query_and_replaced_by_the_next(tmp_path):
    store = FeedbackStore(tmp_path / "f.db")
    store.set_note("Love songs!", "ambiguous: romance or breakup?", "ana")
    store.set_note("love songs", "  grade breakup songs as related  ", "bo")
    (note,) = store.notes().values()
    assert (note.normalized_query, note.note, note.judge) == ("love songs", "grade breakup songs as related", "bo")
    assert set(store.notes(["LOVE songs", "rain"])) == {"love songs"} and store.notes(["rain"]) == {}


def test_an_empty_note_removes_it(tmp_path):
    store = FeedbackStore(tmp_path / "f.db")
    store.set_note("rain", "check the podcasts", "ana")
    assert store.set_note("rain", "   ", "ana") is None
    assert store.notes() == {}


def test_another_process_opening_the_database_reads_the_note(tmp_path):
    FeedbackStore(tmp_path / "f.db").set_note("jazz", "late night only", "ana")
    assert FeedbackStore(tmp_path / "f.db").notes()["jazz"].note == "late night only"


@pytest.mark.parametrize("query, note, judge, message", [
    ("  ", "x", "ana", "is empty"),
    ("jazz", "x", " ", "name the judge"),
    ("jazz", "x" * (MAX_NOTE_CHARS + 1), "ana", "over the limit"),
])
def test_bad_notes_are_refused_with_a_message_and_store_nothing(tmp_path, query, note, judge, message):
    store = FeedbackStore(tmp_path / "f.db")
    with pytest.raises(ValueError, match=message):
        store.set_note(query, note, judge)
    assert store.notes() == {}


def test_a_database_of_the_previous_schema_gains_the_notes_table(tmp_path):
    path = tmp_path / "old.db"
    FeedbackStore(path).close()
    with sqlite3.connect(path) as conn:  # back to the schema before the notes: as an older release left it
        conn.execute("DROP TABLE query_notes")
        conn.execute(f"PRAGMA user_version = {len(store_core.MIGRATIONS) - 1}")
    store = FeedbackStore(path)
    assert store.schema_version == len(store_core.MIGRATIONS)
    store.set_note("jazz", "late night only", "ana")
    assert list(store.notes()) == ["jazz"]

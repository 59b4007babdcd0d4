"""Notes on queries: one shared note per normalized query (what the judges should know when grading
it), with who wrote it last and when."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterable

from ltrr_core.base.text_files import too_long
from ltrr_core.feedback.store.core import StoreCore
from ltrr_core.understanding.text import normalize

MAX_NOTE_CHARS = 4_000
NOTE_COLUMNS = ("normalized_query", "query", "note", "judge", "updated_at")


@dataclass(frozen=True)
class QueryNote:
    """The note on ``query`` (keyed by its normalized text), last written by ``judge``."""

    query: str
    normalized_query: str
    note: str
    judge: str
    updated_at: float = field(default_factory=time.time)


class NoteRepository(StoreCore):
    """Query notes, one per normalized query; an empty note removes it."""

    def set_note(self, query: str, note: str, judge: str) -> QueryNote | None:
        """Store ``judge``'s ``note`` on ``query`` (replacing the earlier one); an empty note removes
        it (None). ValueError names an empty query or judge, or a note over :data:`MAX_NOTE_CHARS`."""
        key, text, judge = normalize(query), note.strip(), judge.strip()
        if not key:
            raise ValueError(f"note: the query {query!r} is empty; name the query the note is on")
        if not judge:
            raise ValueError("note: name the judge who writes it")
        excess = too_long(text, MAX_NOTE_CHARS)
        if excess:
            raise ValueError(f"note on {query!r}: it has {excess}; shorten it")
        record = QueryNote(query.strip(), key, text, judge)
        with self._write() as db:
            if not text:
                db.execute("DELETE FROM query_notes WHERE normalized_query = ?", [key])
                return None
            db["query_notes"].upsert({name: getattr(record, name) for name in NOTE_COLUMNS}, pk="normalized_query")
        return record

    def notes(self, queries: Iterable[str] | None = None) -> dict[str, QueryNote]:
        """``{normalized query: note}`` of ``queries`` (any text: normalized here), or of every query."""
        sql = f"SELECT {', '.join(NOTE_COLUMNS)} FROM query_notes"
        with self._read() as db:
            rows = db.execute(sql).fetchall()
        wanted = None if queries is None else {normalize(q) for q in queries}
        found = (QueryNote(query, key, note, judge, updated_at) for key, query, note, judge, updated_at in rows)
        return {n.normalized_query: n for n in found if wanted is None or n.normalized_query in wanted}

"""An exported interaction log is spreadsheet-safe: no cell a spreadsheet would run as a formula, no
NUL; importing it gives the values back."""

from __future__ import annotations

import csv
import io

from ltrr_core.feedback.log_import import import_log, write_log
from ltrr_core.feedback.store.feedback_store import FeedbackStore

HOSTILE = ['=HYPERLINK("http://evil.example","click me")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"]


def test_an_exported_log_neutralises_formulas_and_nul_and_imports_back(default_catalog, tmp_path):
    ids = [e.id for e in default_catalog.entities[:2]]
    rows = [(1_700_000_000.0 + i, text, text, ids[i % 2], "impression", 1, 0.5, text) for i, text in enumerate(HOSTILE)]
    rows.append((1_700_000_100.0, "ses\x00sion", "\tnul\x00 query", ids[0], "impression", 1, None, None))
    out = io.StringIO()
    assert write_log(rows, out) == len(rows)
    text = out.getvalue()
    assert "\x00" not in text
    cells = list(csv.reader(io.StringIO(text)))[1:]
    for row in cells:
        assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in row), row
    assert cells[0][1] == cells[0][2] == "'" + HOSTILE[0] and cells[-1][1:3] == ["session", "'\tnul query"]

    store = FeedbackStore(tmp_path / "f.db")
    report = import_log(store, default_catalog, "export.csv", io.BytesIO(text.encode()))
    assert report.events == len(rows)
    pages = store.logged_pages()
    assert [(p.session, p.query) for p in pages] == [(t, t) for t in HOSTILE] + [("session", "\tnul query")]

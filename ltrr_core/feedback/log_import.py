"""Interaction logs from another system: parse, validate and group them into result pages, streaming.

A log is CSV (with a header) or JSON lines, one event a row:

============  ===========================================================================
column        meaning
============  ===========================================================================
timestamp     seconds since the epoch, or ISO 8601 (``2026-01-31T12:00:00Z``; no zone: UTC)
session       who searched: a session or user id (``user`` / ``user_id`` are accepted too)
query         the query text as typed
entity_id     the catalog id of the result (``entity`` / ``doc_id`` accepted)
event         ``impression``, ``click``, ``engage``, ``thumbs_up`` or ``thumbs_down``
position      1-based rank of the result; required for impressions, optional otherwise
propensity    optional: the logging policy's probability of what it showed, in (0, 1]
policy        optional: the logging policy's name
============  ===========================================================================

A CSV cell written spreadsheet-safe (a leading ``'`` before ``=``, ``+``, ``-``, ``@`` ..., as
:func:`write_log` writes it) is read without that quote.

Memory grows with the number of sessions (each keeps its current page), never with the events.
Impressions group into *pages*: a session's impression starts a new page when the session's
current page is of another query or already holds that position; other events attach to the
session's current page when they are of its query and on an entity it showed (otherwise they
are kept with no page: they still count for the memory index, but no page is replayed for them).

Every problem raises :class:`LogFileError` naming the file, the 1-based line and the field: among
them text that is not UTF-8 (or a JSON string with a lone surrogate), a query over
``MAX_STORED_QUERY_CHARS`` (the engine's limit) or another field over ``MAX_ID_CHARS``, a position over
``MAX_POSITION``, a JSON line over ``MAX_LINE_BYTES``, a CSV field over the csv module's limit.
Ids the catalog lacks are counted; the import is refused unless ``skip_unknown`` (then they are
skipped). Rows are parsed and validated as they stream from the file, outside any lock, and the store
writes them in short transactions that stay invisible until the whole file is in: a bad row anywhere
stores nothing.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Iterable, Iterator

from ltrr_core.catalog.schema import Catalog
from ltrr_core.base.records import FEEDBACK_KINDS
from ltrr_core.base.progress import Progress
from ltrr_core.feedback.store.feedback_store import FeedbackStore
from ltrr_core.base.text_files import MAX_ID_CHARS, MAX_STORED_QUERY_CHARS, from_spreadsheet_cell, spreadsheet_cell
from ltrr_core.understanding.text import normalize

LOG_EVENTS = ("impression", *FEEDBACK_KINDS)
LOG_FORMATS = ("csv", "jsonl")
LOG_COLUMNS = ("timestamp", "session", "query", "entity_id", "event", "position", "propensity", "policy")
REQUIRED = ("timestamp", "session", "query", "entity_id", "event")
ALIASES = {"user": "session", "user_id": "session", "session_id": "session", "entity": "entity_id",
           "doc_id": "entity_id", "time": "timestamp", "rank": "position", "logging_policy": "policy"}
PROGRESS_EVERY = 20_000  # rows between progress reports
MAX_POSITION = 1_000_000
MAX_TIMESTAMP = 253_402_300_799.0  # 9999-12-31T23:59:59Z
MAX_LINE_BYTES = 1 << 20  # one JSON line
_QUOTED_FIELD = re.compile(r'"[^"]*(?:""[^"]*)*"')  # fields of the default CSV dialect
_PLAIN_FIELD = re.compile(r"[^,\r\n]*")
UNKNOWN_EXAMPLES = 5


class LogFileError(ValueError):
    """A problem in an interaction log: the message names the file, the line, the field and the fix."""


@dataclass(frozen=True)
class LogEvent:
    """One validated row of a log (``line`` is its 1-based line in the file)."""

    line: int
    timestamp: float
    session: str
    query: str
    entity_id: str
    event: str
    position: int | None = None
    propensity: float | None = None
    policy: str | None = None


@dataclass
class LogImport:
    """What an import stored: events, pages, per-kind counts, and the unknown ids skipped."""

    file: str
    format: str
    events: int = 0
    skipped: int = 0
    unknown_ids: int = 0
    unknown_examples: list[str] = field(default_factory=list)
    pages: int = 0
    by_event: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def to_json(self) -> dict:
        return {"file": self.file, "format": self.format, "events": self.events, "pages": self.pages,
                "skipped": self.skipped, "unknown_ids": self.unknown_ids, "unknown_examples": self.unknown_examples,
                "by_event": self.by_event, "seconds": round(self.seconds, 3), "events_per_s": round(self.events_per_s)}

    def message(self) -> str:
        text = f"Imported {self.events:,} events ({self.pages:,} result pages) from {self.file}."
        if self.skipped:
            text += (f" Skipped {self.skipped:,} events on {self.unknown_ids:,} ids the catalog lacks "
                     f"(e.g. {', '.join(self.unknown_examples)}).")
        return text


def _fail(file: str, line: int, name: str, problem: str, fix: str) -> LogFileError:
    return LogFileError(f"{file}: line {line}: field '{name}': {problem}; {fix}")


def _timestamp(file: str, line: int, text: object) -> float:
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        text = str(text or "").strip()
        try:
            value = float(text)
        except ValueError:
            try:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise _fail(file, line, "timestamp", f"{text!r} is neither epoch seconds nor ISO 8601",
                            "write e.g. 1767225600 or 2026-01-01T00:00:00Z") from None
            value = (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp()
    if not math.isfinite(value) or not 0 <= value <= MAX_TIMESTAMP:
        raise _fail(file, line, "timestamp", f"{value!r} is not a time",
                    "write seconds since 1970 (>= 0, before the year 10000)")
    return value


def _optional(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _position(file: str, line: int, value: object, event: str) -> int | None:
    text = _optional(value)
    if text is None:
        if event == "impression":
            raise _fail(file, line, "position", "missing on an impression", "give the 1-based rank it was shown at")
        return None
    try:
        position = int(text)
    except ValueError:
        raise _fail(file, line, "position", f"{text!r} is not a whole number", "give a 1-based rank") from None
    if not 1 <= position <= MAX_POSITION:
        raise _fail(file, line, "position", f"{position} is not in 1..{MAX_POSITION:,}", "give the 1-based rank shown")
    return position


def _propensity(file: str, line: int, value: object) -> float | None:
    text = _optional(value)
    if text is None:
        return None
    try:
        p = float(text)
    except ValueError:
        raise _fail(file, line, "propensity", f"{text!r} is not a number", "give a probability in (0, 1]") from None
    if not 0.0 < p <= 1.0:
        raise _fail(file, line, "propensity", f"{p} is not in (0, 1]", "give a probability in (0, 1] or leave it empty")
    return p


LIMITS = {name: MAX_STORED_QUERY_CHARS if name == "query" else MAX_ID_CHARS for name in LOG_COLUMNS}


def _check_field(file: str, line: int, name: str, value: object) -> None:
    """Refuse a field over its limit (:data:`LIMITS`), a JSON object or array, and text that is not
    Unicode (a byte that is not UTF-8, or a lone surrogate from a JSON escape)."""
    if isinstance(value, (dict, list)):
        raise _fail(file, line, name, f"a JSON {'object' if isinstance(value, dict) else 'array'}, not a value",
                    "give a string or a number")
    text = str(value)
    if len(text) > LIMITS[name]:
        raise _fail(file, line, name, f"{len(text):,} characters, over the limit of {LIMITS[name]:,}",
                    f"keep {name} to {LIMITS[name]:,} characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(text[exc.start])  # bytes that are not UTF-8 were read as U+DC80..U+DCFF
        what = (f"byte 0x{code - 0xDC00:02x} is not UTF-8 (or a lone surrogate)" if 0xDC80 <= code <= 0xDCFF
                else f"{text[exc.start]!r} is a lone surrogate, not a character")
        raise _fail(file, line, name, f"character {exc.start + 1}: {what}", "save the log as UTF-8") from None


def parse_row(file: str, line: int, row: dict) -> LogEvent:
    """One raw row (column -> value, aliases resolved) as a validated :class:`LogEvent`."""
    for name in LOG_COLUMNS:
        value = row.get(name)
        if value is not None and not (type(value) is str and len(value) <= LIMITS[name] and value.isascii()):
            _check_field(file, line, name, value)  # the common case (short ASCII text) skips the call
    for name in REQUIRED:
        if _optional(row.get(name)) is None:
            raise _fail(file, line, name, "empty or missing", f"every row needs a {name}")
    event = str(row["event"]).strip()
    if event not in LOG_EVENTS:
        raise _fail(file, line, "event", f"{event!r} is not one of {', '.join(LOG_EVENTS)}", "use one of those kinds")
    return LogEvent(line, _timestamp(file, line, row["timestamp"]), str(row["session"]).strip(), str(row["query"]),
                    str(row["entity_id"]).strip(), event, _position(file, line, row.get("position"), event),
                    _propensity(file, line, row.get("propensity")), _optional(row.get("policy")))


def _columns(names: list[str]) -> list[str]:
    return [ALIASES.get(n.strip().lower(), n.strip().lower()) for n in names]


def _overlong_column(record: str, names: list[str], limit: int) -> str:
    """The column of the first field in ``record`` (one row's text) over ``limit`` characters, or
    with no closing quote (the csv module read on until its limit)."""
    position, index = 0, 0
    while True:
        column = names[index] if index < len(names) else f"column {index + 1}"
        if record.startswith('"', position):
            field = _QUOTED_FIELD.match(record, position)
            if field is None:
                return column
        else:
            field = _PLAIN_FIELD.match(record, position)
        if field.end() - position > limit or field.end() >= len(record):
            return column
        position, index = field.end() + 1, index + 1


def _csv_rows(file: str, binary: IO[bytes]) -> Iterator[tuple[int, dict]]:
    # Bytes that are not UTF-8 become lone surrogates here, refused by parse_row naming line and field.
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")
    record: list[str] = []  # the lines of the row being read, for an error's message

    def lines() -> Iterator[str]:
        for raw in text:
            record.append(raw)
            yield raw

    reader = csv.reader(lines())
    names: list[str] = []

    def next_values() -> list[str] | None:
        record.clear()
        try:
            return next(reader)
        except StopIteration:
            return None
        except csv.Error as exc:
            if "field larger than field limit" not in str(exc):
                raise LogFileError(f"{file}: line {reader.line_num}: not valid CSV ({exc}); "
                                   "save the log as comma-separated text with a header row") from None
            limit = csv.field_size_limit()
            raise _fail(file, reader.line_num, _overlong_column("".join(record), names, limit),
                        f"over {limit:,} characters (the CSV reader's limit)",
                        f"queries are at most {MAX_STORED_QUERY_CHARS:,} characters, other fields {MAX_ID_CHARS:,}; "
                        "look for a quote left open") from None

    header = next_values()
    if header is None:
        raise LogFileError(f"{file}: line 1: the file is empty; give a header row ({','.join(LOG_COLUMNS)}) "
                           "and one event a row")
    names = _columns(header)
    missing = [n for n in REQUIRED if n not in names]
    if missing:
        raise LogFileError(f"{file}: line 1: the header lacks {', '.join(missing)}; the columns are "
                           f"{','.join(LOG_COLUMNS)} (propensity and policy optional)")
    while (values := next_values()) is not None:
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(names):
            raise LogFileError(f"{file}: line {reader.line_num}: {len(values)} fields, the header has {len(names)}; "
                               "quote values that contain commas")
        yield reader.line_num, dict(zip(names, map(from_spreadsheet_cell, values)))  # as write_log wrote them


def _jsonl_rows(file: str, binary: IO[bytes]) -> Iterator[tuple[int, dict]]:
    line = 0
    while raw := binary.readline(MAX_LINE_BYTES + 1):
        line += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            raise LogFileError(f"{file}: line {line}: longer than {MAX_LINE_BYTES:,} bytes; "
                               "write one event object a line")
        try:
            text = raw.decode("utf-8-sig" if line == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise LogFileError(f"{file}: line {line}: byte {exc.start + 1} (0x{raw[exc.start]:02x}) is not UTF-8 "
                               f"({exc.reason}); save the log as UTF-8") from None
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except (ValueError, RecursionError) as exc:  # ValueError: bad JSON, or an integer too long to read
            reason = (exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
                      if isinstance(exc, RecursionError) else "a number with too many digits")
            raise LogFileError(f"{file}: line {line}: not a JSON object ({reason}); "
                               "write one event object a line") from None
        if not isinstance(row, dict):
            raise LogFileError(f"{file}: line {line}: expected a JSON object, got {type(row).__name__}")
        yield line, {ALIASES.get(k.lower(), k.lower()): v for k, v in row.items()}


def detect_format(name: str, head: bytes) -> str:
    suffix = Path(name).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    return "jsonl" if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") else "csv"


def read_events(file: str, binary: IO[bytes], fmt: str, size: int | None = None,
                progress: Progress | None = None) -> Iterator[LogEvent]:
    """Validated events of an open binary stream, one at a time (the file is never held whole)."""
    if fmt not in LOG_FORMATS:
        raise LogFileError(f"{file}: format {fmt!r} is not one of {', '.join(LOG_FORMATS)}")
    rows = _csv_rows(file, binary) if fmt == "csv" else _jsonl_rows(file, binary)
    count = 0
    for line, row in rows:
        yield parse_row(file, line, row)
        count += 1
        if progress and count % PROGRESS_EVERY == 0:
            progress(f"{count:,} rows read", min(binary.tell() / size, 1.0) if size else 0.0)
    if progress:
        progress(f"{count:,} rows read", 1.0)


class _Pager:
    """Numbers result pages as events stream by (see the module docstring); one state per session."""

    def __init__(self, first_page: int) -> None:
        self.first_page = self.next_page = first_page
        self.current: dict[str, tuple[int, str, set[int], set[str]]] = {}  # session -> page, query, positions, ids

    @property
    def pages(self) -> int:
        return self.next_page - self.first_page

    def page(self, event: LogEvent, normalized: str) -> int | None:
        state = self.current.get(event.session)
        if event.event == "impression":
            if state is None or state[1] != normalized or event.position in state[2]:
                state = self.current[event.session] = (self.next_page, normalized, set(), set())
                self.next_page += 1
            state[2].add(event.position)
            state[3].add(event.entity_id)
            return state[0]
        if state is not None and state[1] == normalized and event.entity_id in state[3]:
            return state[0]
        return None


def import_log(store: FeedbackStore, catalog: Catalog, file: str, binary: IO[bytes], fmt: str | None = None,
               skip_unknown: bool = False, size: int | None = None, progress: Progress | None = None) -> LogImport:
    """Stream a log into ``store``, all or nothing, in short write transactions (other writers wait
    a chunk at most). Ids the catalog lacks refuse the whole file (the error counts them) unless
    ``skip_unknown``; a bad row refuses it too, naming the line."""
    started = time.perf_counter()
    if fmt is None:
        head = binary.read(64)
        binary.seek(0)
        fmt = detect_format(file, head)
    report = LogImport(file, fmt)
    unknown: dict[str, int] = {}
    pagers: list[_Pager] = []

    def rows(first_page: int) -> Iterator[tuple]:
        pager = _Pager(first_page)
        pagers.append(pager)
        for event in read_events(file, binary, fmt, size, progress):
            if event.entity_id not in catalog.position:
                unknown[event.entity_id] = unknown.get(event.entity_id, 0) + 1
                report.skipped += 1
                continue
            if unknown and not skip_unknown:
                continue  # the import will be refused: keep validating and counting, store nothing more
            normalized = normalize(event.query)
            page = pager.page(event, normalized)
            report.by_event[event.event] = report.by_event.get(event.event, 0) + 1
            yield (event.line, event.timestamp, event.session, event.query, normalized, event.entity_id, event.event,
                   event.position, event.propensity, event.policy, page)
        if report.by_event == {} and not unknown:
            raise LogFileError(f"{file}: no events; give a header row and one event a row")
        if unknown and not skip_unknown:
            examples = ", ".join(sorted(unknown)[:UNKNOWN_EXAMPLES])
            raise LogFileError(f"{file}: {len(unknown):,} entity ids the catalog {catalog.source!r} lacks "
                               f"({sum(unknown.values()):,} events; e.g. {examples}); nothing was imported: "
                               "pass --skip-unknown (or tick 'skip unknown ids') to import the rest")

    _, report.events = store.import_log_events(file, fmt, rows, lambda: report.skipped)
    report.unknown_ids = len(unknown)
    report.unknown_examples = sorted(unknown)[:UNKNOWN_EXAMPLES]
    report.pages = pagers[0].pages
    report.seconds = time.perf_counter() - started
    return report


def write_log(rows: Iterable[tuple], fh: IO[str]) -> int:
    """Write ``(timestamp, session, query, entity_id, event, position, propensity, policy)`` rows as a
    CSV log with its header; returns how many rows. Text cells are spreadsheet-safe
    (:func:`~ltrr_core.base.text_files.spreadsheet_cell`: a formula gets a leading ``'``, NUL is
    dropped); importing the file gives the values back."""
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(LOG_COLUMNS)
    count = 0
    for timestamp, session, query, entity_id, event, position, propensity, policy in rows:
        texts = [spreadsheet_cell(value or "") for value in (session, query, entity_id, event)]
        writer.writerow([f"{timestamp:.3f}", *texts, "" if position is None else position,
                         "" if propensity is None else f"{propensity:.6g}", spreadsheet_cell(policy or "")])
        count += 1
    return count

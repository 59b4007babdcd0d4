"""Graded relevance labels: the :class:`Judgment` record and its file formats.

Formats are registered by name in :data:`FORMATS` (``trec``, ``beir``, ``csv``):

* ``trec`` — TREC qrels, ``qid 0 docid grade`` separated by whitespace, no header;
* ``beir`` — BEIR qrels TSV with the header ``query-id<TAB>corpus-id<TAB>score``;
* ``csv`` — Quepid-style ``query,docid,rating`` with a header; ``query`` holds the query
  TEXT, which is also used as the query id (CSV files carry no separate id).

``trec`` and ``beir`` carry no query text (``Judgment.query`` reads back as ``""``); attach
texts with :func:`with_queries` before writing ``csv``, or from a topics file read by
:func:`parse_topics` (TREC ``<top>`` topics, BEIR ``queries.jsonl``, or ``id<TAB>text`` lines).

Grades are whole numbers. ``csv`` ratings must lie in 0..3 (the studio's scale); ``trec`` and
``beir`` come from external collections and accept any grade >= 0 (nothing is clipped).
Files are UTF-8 (a leading byte-order mark is accepted), plain or gzip, read a line at a time
(:func:`~ltrr_core.base.text_files.numbered_lines`); ids may hold up to 1,024 characters and
query texts 2,048 (:mod:`~ltrr_core.base.text_files` states the limits). Every problem, a
corrupt or truncated gzip stream included, raises :class:`LabelFileError` naming the file, the
1-based line and the fix. ``csv`` cells a spreadsheet would run as formulas are written with a
leading ``'`` (read back without it).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, Sequence

from ltrr_core.base.grades import MAX_GRADE
from ltrr_core.base.text_files import (
    MAX_ID_CHARS,
    MAX_STORED_QUERY_CHARS,
    from_spreadsheet_cell,
    numbered_lines,
    spreadsheet_cell,
    too_long,
)

BEIR_HEADER = ("query-id", "corpus-id", "score")
CSV_HEADER = ("query", "docid", "rating")
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


class LabelFileError(ValueError):
    """A problem in a label file: the message names the file, the line and what to do."""


@dataclass(frozen=True)
class Judgment:
    """One graded label: how relevant ``doc_id`` is for ``query_id`` (0 = not relevant)."""

    query_id: str
    doc_id: str
    grade: int
    query: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.query_id, str) or not self.query_id:
            raise ValueError(f"Judgment field 'query_id': {self.query_id!r} must be a non-empty string")
        if not isinstance(self.doc_id, str) or not self.doc_id:
            raise ValueError(f"Judgment field 'doc_id': {self.doc_id!r} must be a non-empty string")
        if isinstance(self.grade, bool) or not isinstance(self.grade, int) or self.grade < 0:
            raise ValueError(f"Judgment field 'grade': {self.grade!r} must be a whole number >= 0")
        if not isinstance(self.query, str):
            raise ValueError(f"Judgment field 'query': {self.query!r} must be a string")


Lines = Iterator[tuple[int, str]]  # (1-based number, text with its line end) of every line


@dataclass(frozen=True)
class LabelFormat:
    """How one file format reads (lines -> judgments), writes (judgments -> text) and is recognised."""

    suffixes: tuple[str, ...]
    read: Callable[[Path, Lines, int | None], list[Judgment]]
    write: Callable[[Sequence[Judgment], Path], str]
    sniff: Callable[[str], bool]


def _fail(path: Path, line: int, problem: str, fix: str) -> LabelFileError:
    return LabelFileError(f"{path}: line {line}: {problem}; {fix}")


def _grade(path: Path, line: int, text: str, max_grade: int | None) -> int:
    text = text.strip()
    scale = f"0..{max_grade}" if max_grade is not None else ">= 0"
    if not text:
        raise _fail(path, line, "empty grade", f"give a whole-number grade {scale}")
    if not _WHOLE_NUMBER.fullmatch(text):
        raise _fail(path, line, f"non-integer grade {text!r}", f"grades are whole numbers {scale}")
    grade = int(text)
    if grade < 0 or (max_grade is not None and grade > max_grade):
        raise _fail(path, line, f"grade {grade} is outside {scale}", f"use a grade {scale}")
    return grade


def _judgment(path: Path, line: int, query_id: str, doc_id: str, grade: str, max_grade: int | None, query: str = "",
              names: tuple[str, str] = ("query id", "doc id")) -> Judgment:
    for name, value in zip(names, (query_id, doc_id)):
        if not value.strip():
            raise _fail(path, line, f"empty {name}", f"every line needs a non-empty {name}")
        excess = too_long(value, MAX_STORED_QUERY_CHARS if name == "query" else MAX_ID_CHARS)
        if excess:
            raise _fail(path, line, f"the {name} has {excess}", f"shorten the {name}")
    return Judgment(query_id, doc_id, _grade(path, line, grade, max_grade), query)


def _unique(path: Path, numbered: Iterable[tuple[int, Judgment]], where: str = "line") -> list[Judgment]:
    first_seen: dict[tuple[str, str], int] = {}
    judgments = []
    for line, judgment in numbered:
        key = (judgment.query_id, judgment.doc_id)
        if key in first_seen:
            raise LabelFileError(
                f"{path}: {where} {line}: duplicate judgment for query {key[0]!r}, doc {key[1]!r} "
                f"(first at {where} {first_seen[key]}); keep one judgment per query/doc pair"
            )
        first_seen[key] = line
        judgments.append(judgment)
    return judgments


def _content(lines: Lines) -> Lines:
    """The non-blank lines without their line ends (``\\n``, and a ``\\r`` before it)."""
    for number, line in lines:
        line = line.removesuffix("\n").removesuffix("\r")
        if line.strip():
            yield number, line


def _check_ids(path: Path, judgments: Sequence[Judgment], bad: Callable[[str], bool], why: str) -> None:
    for index, judgment in enumerate(judgments):
        for name in ("query_id", "doc_id"):
            value = getattr(judgment, name)
            if bad(value):
                raise LabelFileError(
                    f"{path}: judgment #{index + 1} field {name!r} = {value!r} {why}, which this format "
                    "cannot hold; choose another format or rename the id"
                )


# --- trec ------------------------------------------------------------------------------------


def _read_trec(path: Path, lines: Lines, max_grade: int | None) -> list[Judgment]:
    def parse() -> Iterator[tuple[int, Judgment]]:
        for line, content in _content(lines):
            columns = content.split()
            if len(columns) != 4:
                raise _fail(path, line, f"expected 4 columns 'qid 0 docid grade', found {len(columns)}",
                            "separate the four fields by spaces or tabs")
            yield line, _judgment(path, line, columns[0], columns[2], columns[3], max_grade)

    return _unique(path, parse())


def _write_trec(judgments: Sequence[Judgment], path: Path) -> str:
    _check_ids(path, judgments, lambda value: any(ch.isspace() for ch in value), "contains whitespace")
    return "".join(f"{j.query_id} 0 {j.doc_id} {j.grade}\n" for j in judgments)


def _sniff_trec(first_line: str) -> bool:
    columns = first_line.split()
    return len(columns) == 4 and bool(_WHOLE_NUMBER.fullmatch(columns[3]))


# --- beir ------------------------------------------------------------------------------------


def _read_beir(path: Path, lines: Lines, max_grade: int | None) -> list[Judgment]:
    lines = _content(lines)
    header = next(lines, None)
    expected = "\t".join(BEIR_HEADER)
    if header is None or tuple(c.strip() for c in header[1].split("\t")) != BEIR_HEADER:
        line, found = header or (1, "")
        raise _fail(path, line, f"missing header: expected {expected!r}, found {found[:80]!r}",
                    "add the header line 'query-id<TAB>corpus-id<TAB>score' at the top")

    def parse() -> Iterator[tuple[int, Judgment]]:
        for line, content in lines:
            columns = content.split("\t")
            if len(columns) != 3:
                raise _fail(path, line, f"expected 3 tab-separated columns, found {len(columns)}",
                            "write 'query-id<TAB>corpus-id<TAB>score' on every line")
            yield line, _judgment(path, line, columns[0].strip(), columns[1].strip(), columns[2], max_grade)

    return _unique(path, parse())


def _write_beir(judgments: Sequence[Judgment], path: Path) -> str:
    _check_ids(
        path, judgments, lambda value: "\t" in value or "\n" in value or value != value.strip(),
        "contains a tab or line break or surrounding spaces",
    )
    rows = (f"{j.query_id}\t{j.doc_id}\t{j.grade}\n" for j in judgments)
    return "\t".join(BEIR_HEADER) + "\n" + "".join(rows)


def _sniff_beir(first_line: str) -> bool:
    return tuple(c.strip() for c in first_line.split("\t")) == BEIR_HEADER


# --- csv (Quepid) ----------------------------------------------------------------------------


def _read_csv(path: Path, lines: Lines, max_grade: int | None) -> list[Judgment]:
    reader = csv.reader((text for _, text in lines), strict=True)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error as err:
        raise _fail(path, start, f"malformed CSV ({err})", 'quote fields containing commas or quotes: "a ""b"", c"') from err
    if not rows or tuple(c.strip().lower() for c in rows[0][1]) != CSV_HEADER:
        line, found = rows[0] if rows else (1, [])
        raise _fail(path, line, f"missing header: expected 'query,docid,rating', found {','.join(found)[:80]!r}",
                    "add the header line 'query,docid,rating' at the top")

    def parse() -> Iterator[tuple[int, Judgment]]:
        for line, row in rows[1:]:
            if len(row) != 3:
                raise _fail(path, line, f"expected 3 columns 'query,docid,rating', found {len(row)}",
                            "quote a query that contains commas")
            query, doc_id, rating = (from_spreadsheet_cell(cell) for cell in row)
            yield line, _judgment(path, line, query, doc_id.strip(), rating, MAX_GRADE, query, ("query", "docid"))

    return _unique(path, parse())


def _write_csv(judgments: Sequence[Judgment], path: Path) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for index, j in enumerate(judgments):
        if not j.query:
            raise LabelFileError(
                f"{path}: judgment #{index + 1} (query id {j.query_id!r}) has no query text, which the csv "
                "format needs; attach texts with with_queries(judgments, {query_id: text}) first"
            )
        if j.grade > MAX_GRADE:
            raise LabelFileError(
                f"{path}: judgment #{index + 1} grade {j.grade} is outside 0..{MAX_GRADE}, the csv rating scale; "
                "rescale the grades or write trec/beir"
            )
        if j.doc_id != j.doc_id.strip():
            raise LabelFileError(f"{path}: judgment #{index + 1} doc id {j.doc_id!r} has surrounding spaces; strip it")
        writer.writerow((spreadsheet_cell(j.query), spreadsheet_cell(j.doc_id), j.grade))
    return out.getvalue()


def _sniff_csv(first_line: str) -> bool:
    row = next(csv.reader([first_line]), [])
    return tuple(c.strip().lower() for c in row) == CSV_HEADER


FORMATS: dict[str, LabelFormat] = {
    "trec": LabelFormat((".qrels", ".trec", ".txt"), _read_trec, _write_trec, _sniff_trec),
    "beir": LabelFormat((".tsv",), _read_beir, _write_beir, _sniff_beir),
    "csv": LabelFormat((".csv",), _read_csv, _write_csv, _sniff_csv),
}


# --- public API ------------------------------------------------------------------------------


def _format(fmt: str) -> LabelFormat:
    if fmt not in FORMATS:
        raise LabelFileError(f"unknown label format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return FORMATS[fmt]


def _lines_of(source: Path | bytes, path: Path) -> Lines:
    return numbered_lines(source, str(path), LabelFileError)


def _detect(path: Path, first_line: str) -> str:
    for name, fmt in FORMATS.items():
        if fmt.sniff(first_line):
            return name
    for name, fmt in FORMATS.items():
        if path.suffix.lower() in fmt.suffixes:
            return name
    raise LabelFileError(
        f"{path}: line 1: cannot tell the label format from {first_line[:80]!r}; "
        f"pass fmt= one of {', '.join(FORMATS)} or add the format's header"
    )


def _formatted(path: Path, lines: Lines, fmt: str | None) -> tuple[LabelFormat, Lines]:
    """The format (``fmt``, else detected from the first non-blank line) and all the lines."""
    if fmt is not None:
        return _format(fmt), lines
    head = []
    for number, line in lines:
        head.append((number, line))
        if line.strip():
            break
    first = next(_content(iter(head)), (1, ""))[1]
    return _format(_detect(path, first)), itertools.chain(head, lines)


def detect_format(path: str | Path) -> str:
    """The format name of a label file: by its first non-blank line, else by its suffix."""
    path = Path(path)
    lines = _lines_of(path, path)
    first = next(_content(lines), (1, ""))[1]
    lines.close()
    return _detect(path, first)


def read_labels(path: str | Path, fmt: str | None = None, max_grade: int | None = None) -> list[Judgment]:
    """Judgments from ``path`` in format ``fmt`` (detected when ``None``), in file order.

    ``max_grade`` caps trec and beir grades (csv ratings are always 0..MAX_GRADE): a grade
    above it is an error naming its line."""
    path = Path(path)
    label_format, lines = _formatted(path, _lines_of(path, path), fmt)
    return label_format.read(path, lines, max_grade)


def parse_labels(data: bytes, name: str, fmt: str | None = None, max_grade: int | None = None) -> list[Judgment]:
    """:func:`read_labels` for a file held in memory (an upload); ``name`` is only shown in messages."""
    path = Path(Path(name).name or "upload")
    label_format, lines = _formatted(path, _lines_of(data, path), fmt)
    return label_format.read(path, lines, max_grade)


def format_labels(judgments: Iterable[Judgment], fmt: str, name: str = "labels") -> str:
    """The text of a label file in format ``fmt``; ``name`` is only shown in messages."""
    judgments = list(judgments)
    path = Path(name)
    _unique(path, enumerate(judgments, start=1), where="judgment")
    return _format(fmt).write(judgments, path)


def write_labels(judgments: Iterable[Judgment], path: str | Path, fmt: str) -> Path:
    """Write ``judgments`` to ``path`` in format ``fmt`` (UTF-8, ``\n`` line ends); returns the path."""
    path = Path(path)
    path.write_text(format_labels(judgments, fmt, str(path)), encoding="utf-8", newline="")
    return path


def to_qrels(judgments: Iterable[Judgment]) -> dict[str, dict[str, int]]:
    """``{query_id: {doc_id: grade}}``, the shape :mod:`ltrr_core.base.metrics` takes."""
    qrels: dict[str, dict[str, int]] = {}
    for judgment in judgments:
        qrels.setdefault(judgment.query_id, {})[judgment.doc_id] = judgment.grade
    return qrels


def with_queries(judgments: Iterable[Judgment], texts: Mapping[str, str]) -> list[Judgment]:
    """The judgments with ``query`` filled from ``texts[query_id]`` (e.g. BEIR queries.jsonl)."""
    judgments = list(judgments)
    missing = sorted({j.query_id for j in judgments} - set(texts))
    if missing:
        raise ValueError(f"texts: no query text for query id(s) {missing[:5]}; give a text for every query id")
    return [replace(j, query=texts[j.query_id]) for j in judgments]


_TOPIC = re.compile(r"<top>(.*?)</top>", re.S | re.I)
_TOPIC_NUM = re.compile(r"<num>\s*(?:Number:)?\s*(\S+)", re.I)
_TOPIC_TITLE = re.compile(r"<title>\s*(?:Topic:)?\s*(.*?)\s*(?=<|$)", re.S | re.I)


def parse_topics(data: bytes, name: str) -> dict[str, str]:
    """``{query id: query text}`` from a topics file held in memory: TREC topics (``<top>``, ``<num>``,
    ``<title>``), BEIR ``queries.jsonl`` (``_id``, ``text``) or ``id<TAB>text`` lines; LabelFileError
    naming the file and line when a line is none of these."""
    path = Path(Path(name).name or "topics")
    text = "".join(line for _, line in _lines_of(data, path))
    if _TOPIC.search(text):
        topics = {}
        for block in _TOPIC.findall(text):
            num, title = _TOPIC_NUM.search(block), _TOPIC_TITLE.search(block)
            if num and title and title.group(1).strip():
                topics[num.group(1)] = " ".join(title.group(1).split())
        return topics
    topics = {}
    for line, content in _content(iter(enumerate(text.splitlines(), start=1))):
        if content.lstrip().startswith("{"):
            try:
                row = json.loads(content)
                topics[str(row["_id"])] = str(row["text"])
            except (ValueError, KeyError, TypeError) as exc:
                raise _fail(path, line, f"not a BEIR query ({exc})", 'write {"_id": ..., "text": ...}') from exc
        elif "\t" in content:
            query_id, query = content.split("\t", 1)
            topics[query_id.strip()] = query.strip()
        else:
            raise _fail(path, line, "neither a TREC topic, a BEIR query nor 'id<TAB>text'",
                        "give TREC topics, BEIR queries.jsonl or one 'id<TAB>text' per line")
    return topics

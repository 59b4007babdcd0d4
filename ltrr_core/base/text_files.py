"""Reading imported text files safely, and writing spreadsheet-safe CSV cells.

Every import (label files, query sets, catalogs) reads its file through :func:`numbered_lines`:
plain or gzip (told by the magic bytes), UTF-8 (a leading byte-order mark is dropped), one line
at a time and never more than :data:`MAX_LINE_CHARS` of it, so a 200 MB line is refused after
reading ~1 MB of it, not held whole. A corrupt or truncated gzip stream, a line that is not UTF-8
or too long raises the caller's error class naming the file and the line.

The stated size limits (one per kind of value; a longer value is refused, naming the limit): ids
1,024 characters, query texts 2,048, any other field 131,072, a line 1,048,576.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from pathlib import Path
from typing import BinaryIO, Iterator

MAX_ID_CHARS = 1_024  # an entity, document or query id
MAX_QUERY_CHARS = 512  # the most of a query that is understood and searched (the rest is cut, with a message)
MAX_STORED_QUERY_CHARS = 4 * MAX_QUERY_CHARS  # the most of a query's text the log keeps or a file may carry
MAX_FIELD_CHARS = 131_072  # any other text field (a title, a description), as the csv module's field limit
MAX_LINE_CHARS = 1_048_576  # one line of an imported file

GZIP_MAGIC = b"\x1f\x8b"
_FORMULA = re.compile(r"'*[=+\-@\t\r]")  # what a spreadsheet may read as a formula (after our quotes)


def too_long(value: str, limit: int) -> str | None:
    """Why ``value`` breaks ``limit`` ("… characters, over the limit of …"), or None when it fits."""
    return f"{len(value):,} characters, over the limit of {limit:,}" if len(value) > limit else None


def open_binary(path: Path) -> BinaryIO:
    """``path`` for reading, decompressed when it starts with the gzip magic bytes (OSError when unreadable)."""
    with path.open("rb") as raw:
        gzipped = raw.read(2) == GZIP_MAGIC
    return gzip.open(path, "rb") if gzipped else path.open("rb")


def numbered_lines(source: Path | bytes, name: str, error: type[Exception],
                   max_chars: int = MAX_LINE_CHARS) -> Iterator[tuple[int, str]]:
    """(1-based number, text) of every line of a file or of its bytes (an upload), line end kept.

    Only ``\\n`` ends a line. ``error(message)`` is raised for a file that cannot be read, a
    corrupt or truncated gzip stream, a line that is not UTF-8 and a line over ``max_chars``;
    the message starts with ``name`` and names the line."""
    def too_long_line(number: int) -> Exception:
        return error(f"{name}: line {number}: longer than the limit of {max_chars:,} characters; "
                     "split it or shorten its fields")

    number = 0
    try:
        if isinstance(source, Path):
            handle: BinaryIO = open_binary(source)
        else:
            handle = io.BytesIO(source)
            if source[:2] == GZIP_MAGIC:
                handle = gzip.GzipFile(fileobj=handle, mode="rb")
        with handle:
            limit = 4 * max_chars + 1  # UTF-8 spends at most 4 bytes a character
            while True:
                data = handle.readline(limit)
                if not data:
                    return
                number += 1
                if number == 1:
                    data = data.removeprefix(b"\xef\xbb\xbf")
                if len(data) == limit and not data.endswith(b"\n"):
                    raise too_long_line(number)
                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise error(f"{name}: line {number}: not UTF-8 text; re-save the file as UTF-8 "
                                f"(the first bad byte is byte {exc.start + 1} of the line)") from None
                if len(text) > max_chars:
                    raise too_long_line(number)
                yield number, text
    except (OSError, EOFError, zlib.error) as exc:
        where = f"line {number + 1}" if number else "the start"
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise error(f"{name}: cannot read it at {where} ({reason}); the file is missing, truncated or corrupt "
                    "(a .gz must be a whole gzip file) — check the path or export it again") from None


def spreadsheet_cell(value: str) -> str:
    """``value`` safe for a CSV a spreadsheet opens: NUL dropped, and a leading ``'`` before a cell a
    spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR; cells already starting
    with quotes before those too, so :func:`from_spreadsheet_cell` gives the value back exactly)."""
    value = value.replace("\x00", "")
    return "'" + value if _FORMULA.match(value) else value


def from_spreadsheet_cell(cell: str) -> str:
    """The value :func:`spreadsheet_cell` wrote (its one added ``'`` removed)."""
    return cell[1:] if cell.startswith("'") and _FORMULA.match(cell) else cell

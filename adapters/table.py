"""Row-by-row CSV tables for the list and licence importers (issue #12 point 4).

Every importer built on this works over an *iterator of decoded lines*, never on the
whole file: ``decode_lines`` turns bytes (or chunks of bytes) into lines lazily (UTF-8,
BOM allowed, CRLF, LF or CR; a line over ``MAX_ROW_BYTES`` refused), ``csv_records``
splits them into CSV records (one record at most ``MAX_ROW_BYTES``), ``Table.rows``
reads the header, then yields one ``(line, cells)`` per data row, where ``line`` is the
physical line the row starts on (header = line 1) and ``cells`` maps column keys to
stripped values.

Headers are matched after NFKC normalisation with whitespace removed (full-width
brackets equal ASCII ones), against each column's name and its variants (``Column``).
Unknown columns are ignored with one warning each; a duplicate column or a missing
required one is a ``CsvHeaderError`` naming them.

Shared cell parsers (``need``, ``iso_date``, ``org_code``, ``person_subject``) raise
``RecordError`` / ``IdentifierError`` / ``DateFormatError`` whose message names the
column and never contains a raw personal identifier.

This module reads no file and signs nothing.
"""

from __future__ import annotations

import codecs
import csv
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from credex.adapters.base import (
    MAX_ROW_BYTES,
    AdapterContext,
    AdapterResult,
    HeaderWarning,
    ParsedRow,
    RowError,
    RowUnit,
    Source,
    chunks_of,
    row_too_large,
)
from credex.ledger.dates import parse_date
from credex.ledger.errors import CredexError, CsvHeaderError, FormatError, RecordError
from credex.ledger.identifiers import normalise_resident_id, validate_uscc
from credex.ledger.record import Subject
from credex.ledger.subject import SubjectKey, person_subject_id

__all__ = [
    "MAX_CELL_CHARS",
    "Column",
    "CsvAdapter",
    "Table",
    "csv_records",
    "decode_lines",
    "iso_date",
    "need",
    "normalise_header",
    "org_code",
    "person_subject",
    "scrub",
]

#: a cell longer than this is refused (a record body is at most 48 KiB in all)
MAX_CELL_CHARS: Final = 4000
_CHUNK: Final = 64 * 1024


def normalise_header(name: str) -> str:
    """A header cell as matched: NFKC (full-width brackets -> ASCII), no whitespace/BOM."""
    s = unicodedata.normalize("NFKC", name.replace("\ufeff", ""))
    return "".join(s.split())


_LINE_END: Final = re.compile(r"\r\n|\r|\n")


def decode_lines(data: Source, what: str) -> Iterator[str]:
    """Decoded physical lines (ends kept: ``\\n``, ``\\r\\n`` or ``\\r``) of UTF-8 input
    given as bytes or as chunks of bytes, one at a time; a leading BOM is dropped.

    Raises:
        FormatError: not UTF-8 (the message gives the byte offset).
        OversizeError: a line longer than ``MAX_ROW_BYTES`` (held text is bounded).
    """
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    offset, pending, line = 0, "", 1
    for chunk in chunks_of(data):
        for i in range(0, len(chunk), _CHUNK):
            piece = chunk[i : i + _CHUNK]
            try:
                pending += decoder.decode(piece)
            except UnicodeDecodeError as e:
                raise FormatError(
                    f"{what}: not utf-8: invalid byte at offset {offset + e.start} (line "
                    f"{line}): expected utf-8 (with or without BOM)"
                ) from None
            offset += len(piece)
            pos = 0
            for m in _LINE_END.finditer(pending):
                if m.end() == len(pending) and m.group() == "\r":
                    break  # perhaps the first half of a \r\n split between chunks
                yield pending[pos : m.end()]
                pos = m.end()
                line += 1
            pending = pending[pos:]
            if len(pending) > MAX_ROW_BYTES:
                raise row_too_large(what, line, MAX_ROW_BYTES)
    try:
        pending += decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise FormatError(f"{what}: not utf-8: truncated sequence at the end") from None
    if pending:
        yield pending


class _Budget:
    """The lines of one CSV record, counted: ``rows`` resets ``used`` at each record, and
    a record spanning more than ``MAX_ROW_BYTES`` of text is refused while it is read."""

    __slots__ = ("line", "lines", "used", "what")

    def __init__(self, lines: Iterable[str], what: str) -> None:
        self.lines = iter(lines)
        self.what = what
        self.used = 0
        self.line = 1

    def __iter__(self) -> _Budget:
        return self

    def __next__(self) -> str:
        text = next(self.lines)
        self.used += len(text)
        if self.used > MAX_ROW_BYTES:
            raise row_too_large(self.what, self.line, MAX_ROW_BYTES)
        return text


def csv_records(lines: Iterable[str], what: str) -> Iterator[tuple[int, list[str]]]:
    """(physical start line, cells) of each non-blank CSV record, one at a time.

    Raises:
        FormatError: malformed CSV (the line is named).
        OversizeError: a record of more than ``MAX_ROW_BYTES`` of text.
    """
    budget = _Budget(lines, what)
    reader = csv.reader(budget)
    while True:
        start = reader.line_num + 1
        budget.used, budget.line = 0, start
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise FormatError(f"{what}: malformed csv at line {start}: {e}") from None
        if any(c.strip() for c in cells):
            yield start, cells


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its key, the name shown in messages, and the other names files use."""

    key: str
    name: str
    variants: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Table:
    """A CSV layout: columns, the required keys, and names to drop silently."""

    what: str
    columns: tuple[Column, ...]
    required: tuple[str, ...]
    dropped: tuple[str, ...] = ()

    def name(self, key: str) -> str:
        return next(c.name for c in self.columns if c.key == key)

    def _aliases(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for c in self.columns:
            for n in (c.name, *c.variants):
                out[normalise_header(n)] = c.key
        for n in self.dropped:
            out.setdefault(normalise_header(n), None)
        return out

    def header(self, cells: Sequence[str]) -> tuple[dict[str, int], list[HeaderWarning]]:
        """Column key -> position, and a warning per unknown column.

        Raises:
            CsvHeaderError: a duplicate column or a missing required one.
        """
        aliases = self._aliases()
        index: dict[str, int] = {}
        warnings: list[HeaderWarning] = []
        for i, cell in enumerate(cells):
            norm = normalise_header(cell)
            if norm not in aliases:
                shown = cell.strip()[:60] or f"(unnamed column {i + 1})"
                warnings.append(HeaderWarning(f"{self.what}: unknown column ignored: {shown!r}"))
                continue
            key = aliases[norm]
            if key is None:
                continue
            if key in index:
                raise CsvHeaderError(
                    f"{self.what}: duplicate column {self.name(key)}: columns {index[key] + 1} "
                    f"and {i + 1}"
                )
            index[key] = i
        missing = [self.name(k) for k in self.required if k not in index]
        if missing:
            raise CsvHeaderError(f"{self.what}: missing required columns: {', '.join(missing)}")
        return index, warnings

    def rows(self, lines: Iterable[str]) -> Iterator[HeaderWarning | tuple[int, dict[str, str]]]:
        """Header warnings, then ``(line, cells)`` per non-blank data row, one at a time.

        Raises:
            FormatError: malformed CSV (the line is named).
            CsvHeaderError: no header, or see ``header``.
        """
        index: dict[str, int] | None = None
        for start, cells in csv_records(lines, self.what):
            if index is None:
                index, warnings = self.header(cells)
                yield from warnings
                continue
            yield start, {k: cells[i].strip() for k, i in index.items() if i < len(cells)}
        if index is None:
            raise CsvHeaderError(f"{self.what}: empty file: expected a header row")


class CsvAdapter:
    """An adapter over a ``Table``: subclasses set ``name`` and ``table`` and implement
    ``row``; ``parse_lines`` works row by row over decoded lines (``parse`` over bytes
    is the ``Adapter`` seam)."""

    name: str = ""
    table: Table

    def row(self, line: int, cells: dict[str, str], ctx: AdapterContext) -> ParsedRow:
        raise NotImplementedError

    def count_rows(self, data: bytes) -> int:
        """Data rows (non-blank records after the header).

        Raises:
            FormatError / CsvHeaderError: see ``Table.rows``.
        """
        lines = decode_lines(data, self.table.what)
        return sum(1 for item in self.table.rows(lines) if isinstance(item, tuple))

    def split(self, data: Source) -> Iterator[HeaderWarning | RowUnit]:
        """Header warnings, then ``(line, cells)`` per data row (see ``Table.rows``)."""
        return self.table.rows(decode_lines(data, self.table.what))

    def convert(self, unit: RowUnit, ctx: AdapterContext) -> ParsedRow | RowError:
        """One row of ``split``: its record, or the reason it is refused."""
        line, cells = unit
        try:
            return self.row(line, cells, ctx)
        except CredexError as e:
            return RowError(line, str(e))

    def parse(self, data: Source, ctx: AdapterContext) -> Iterator[AdapterResult]:
        """``parse_lines`` over the decoded lines of ``data``."""
        return self.parse_lines(decode_lines(data, self.table.what), ctx)

    def parse_lines(self, lines: Iterable[str], ctx: AdapterContext) -> Iterator[AdapterResult]:
        """Header warnings first, then one ``ParsedRow`` or ``RowError`` per data row.

        Raises:
            FormatError: not UTF-8 or malformed CSV.
            CsvHeaderError: no header, required columns missing, duplicate columns.
            OversizeError: a row over ``MAX_ROW_BYTES``.
        """
        for item in self.table.rows(lines):
            yield item if isinstance(item, HeaderWarning) else self.convert(item, ctx)


def scrub(text: str, secrets: Sequence[tuple[str, str]]) -> str:
    """``text`` with each secret (a raw ID number, a full name) replaced."""
    for secret, replacement in secrets:
        if secret:
            text = text.replace(secret, replacement)
    return text


def need(table: Table, cells: Mapping[str, str], key: str) -> str:
    """The non-empty value of column ``key``.

    Raises:
        RecordError: empty or absent, or longer than ``MAX_CELL_CHARS``.
    """
    value = cells.get(key, "")
    if not value:
        raise RecordError(f"{table.what}: missing required value: {table.name(key)}")
    if len(value) > MAX_CELL_CHARS:
        raise RecordError(
            f"{table.what}: {table.name(key)}: expected at most {MAX_CELL_CHARS} characters, "
            f"got {len(value)}"
        )
    return value


def _in_column(table: Table, e: CredexError, key: str) -> CredexError:
    return type(e)(f"{e} (in {table.name(key)})")


def iso_date(table: Table, cells: Mapping[str, str], key: str) -> date:
    """The date in column ``key`` (any ``parse_date`` shape).

    Raises:
        RecordError: empty. DateFormatError: not a date (the column is named).
    """
    text = need(table, cells, key)
    try:
        return parse_date(text)
    except CredexError as e:
        raise _in_column(table, e, key) from None


def org_code(table: Table, cells: Mapping[str, str], key: str) -> tuple[str, bool]:
    """(canonical USCC, legacy checksum) of column ``key``.

    Raises:
        RecordError: empty. IdentifierError: not a USCC (the column is named).
    """
    try:
        org = validate_uscc(need(table, cells, key))
    except CredexError as e:
        raise _in_column(table, e, key) from None
    return org.id, org.legacy_checksum


def person_subject(table: Table, cells: Mapping[str, str], key: str, skey: SubjectKey) -> Subject:
    """The keyed pseudonym of the resident ID number in column ``key``; a masked number
    (``*``) is refused: it cannot be keyed.

    Raises:
        RecordError: empty or masked. IdentifierError: not a valid resident ID number
            (the message never contains it).
    """
    raw = need(table, cells, key)
    if "*" in raw or "＊" in raw:
        raise RecordError(
            f"{table.what}: {table.name(key)} is masked: a person's record needs the full "
            "resident ID number to be keyed"
        )
    try:
        return Subject("person", person_subject_id(skey, normalise_resident_id(raw)))
    except CredexError as e:
        raise _in_column(table, e, key) from None

"""The adapter seam: regional input files in, validated ``Record`` values out.

An adapter turns the bytes of one regional export (a 双公示 CSV, a court list, ...) into
a stream of results, in file order, reading its input as it goes (bytes, or an iterable
of byte chunks such as a file read block by block: memory does not grow with the file):

- ``HeaderWarning``: something about the file as a whole worth telling a person (an
  unknown column that is ignored); the file is still read;
- ``ParsedRow``: one row became a valid ``Record``, possibly with row warnings;
- ``RowError``: one row was refused; ``reason`` is the error message and never
  contains a raw personal identifier. The other rows are still read.

A file that cannot be read at all (not UTF-8, required columns missing) raises a
``FormatError`` subclass such as ``CsvHeaderError`` from ``parse`` instead (when the
bytes are streamed, the rows before the fault have been yielded). A single row (a CSV
record, an array element) over ``MAX_ROW_BYTES`` raises ``OversizeError``: there is no
limit on the file itself.

Reading is two steps so that the second can run in another process (``split`` yields
picklable ``RowUnit`` values, ``convert`` turns one into a result); ``parse`` is both.

Line numbers are the physical line numbers of the input (header = line 1) so a person
can find the row in a text editor or spreadsheet.

``ADAPTERS`` maps a CLI-facing name to an adapter instance. This module does not read
files, sign or log records.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final, Protocol

from credex.ledger.errors import (
    CsvHeaderError,
    OversizeError,
)
from credex.ledger.record import Record
from credex.ledger.subject import SubjectKey

__all__ = [
    "MAX_ROW_BYTES",
    "Adapter",
    "AdapterContext",
    "AdapterResult",
    "CsvHeaderError",
    "HeaderWarning",
    "ParsedRow",
    "RowError",
    "RowUnit",
    "Source",
    "chunks_of",
    "row_too_large",
]

#: one row of an input file: a CSV record (all its physical lines), a JSON-lines line,
#: an element of a JSON array (characters of decoded text, counted as UTF-8 at most 4
#: bytes each: the bound is on the text held in memory)
MAX_ROW_BYTES: Final = 1024 * 1024

#: an input: the whole file as bytes, or its bytes in chunks (read as they come)
Source = bytes | Iterable[bytes]

#: one row as ``split`` found it: (physical line or position, what ``convert`` reads)
RowUnit = tuple[int, Any]


def chunks_of(data: Source) -> Iterable[bytes]:
    """``data`` as an iterable of chunks."""
    return [data] if isinstance(data, bytes | bytearray) else data


def row_too_large(what: str, line: int, size: int) -> OversizeError:
    """The error for a row over ``MAX_ROW_BYTES`` starting at ``line``."""
    return OversizeError(
        f"{what}: row too large at line {line}: expected <= {MAX_ROW_BYTES} bytes, "
        f"got more than {size}"
    )


@dataclass(frozen=True, slots=True)
class AdapterContext:
    """What an adapter needs besides the bytes: the issuing region and the person key."""

    region: str
    subject_key: SubjectKey


@dataclass(frozen=True, slots=True)
class ParsedRow:
    """A row that became a record. ``line`` is the physical line it starts on."""

    line: int
    record: Record
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RowError:
    """A refused row and why (the error message; never a raw personal id)."""

    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class HeaderWarning:
    """A file-level warning, e.g. an ignored unknown column."""

    message: str


AdapterResult = ParsedRow | RowError | HeaderWarning


class Adapter(Protocol):
    """One regional input format."""

    name: str

    def parse(self, data: Source, ctx: AdapterContext) -> Iterator[AdapterResult]:
        """Results in file order. Raises a ``FormatError`` if the file is unusable."""
        ...

    def split(self, data: Source) -> Iterator[HeaderWarning | RowUnit]:
        """Header warnings and the rows, in file order, not yet validated (cheap: no
        record is built). Raises a ``FormatError`` if the file is unusable."""
        ...

    def convert(self, unit: RowUnit, ctx: AdapterContext) -> ParsedRow | RowError:
        """One row of ``split`` as a record, or why not (pure: may run in a worker)."""
        ...

    def count_rows(self, data: bytes) -> int:
        """How many data rows ``parse`` will look at."""
        ...

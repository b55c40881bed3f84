"""The adapter seam: regional input files in, validated ``Record`` values out.

An adapter turns the bytes of one regional export (a 双公示 CSV, a court list, ...) into
a stream of results, in file order:

- ``HeaderWarning``: something about the file as a whole worth telling a person (an
  unknown column that is ignored); the file is still read;
- ``ParsedRow``: one row became a valid ``Record``, possibly with row warnings;
- ``RowError``: one row was refused; ``reason`` is the error message and never
  contains a raw personal identifier. The other rows are still read.

A file that cannot be read at all (not UTF-8, required columns missing) raises a
``FormatError`` subclass such as ``CsvHeaderError`` from ``parse`` instead; one over
``MAX_INPUT_BYTES`` raises ``OversizeError`` before anything is read (``check_size``).

Line numbers are the physical line numbers of the input (header = line 1) so a person
can find the row in a text editor or spreadsheet.

``ADAPTERS`` maps a CLI-facing name to an adapter instance. This module does not read
files, sign or log records.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, Protocol

from credex.ledger.errors import (
    CsvHeaderError,
    OversizeError,
)
from credex.ledger.record import Record
from credex.ledger.subject import SubjectKey

__all__ = [
    "MAX_INPUT_BYTES",
    "Adapter",
    "AdapterContext",
    "AdapterResult",
    "CsvHeaderError",
    "HeaderWarning",
    "ParsedRow",
    "RowError",
    "check_size",
]

#: one input file (about 200 000 penalty rows); split larger exports
MAX_INPUT_BYTES: Final = 64 * 1024 * 1024


def check_size(data: bytes, what: str) -> None:
    """Raises ``OversizeError`` when ``data`` is over ``MAX_INPUT_BYTES``."""
    if len(data) > MAX_INPUT_BYTES:
        raise OversizeError(
            f"{what}: file too large: expected <= {MAX_INPUT_BYTES} bytes, got {len(data)}: "
            "split it"
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

    def parse(self, data: bytes, ctx: AdapterContext) -> Iterator[AdapterResult]:
        """Results in file order. Raises a ``FormatError`` if the file is unusable."""
        ...

    def count_rows(self, data: bytes) -> int:
        """How many data rows ``parse`` will look at (for a progress bar)."""
        ...

"""Line-oriented input in blocks: the bytes of a file cut at line ends, so that each
block can be decoded and split into lines on its own (in a worker process).

``blocks`` cuts the input (bytes or chunks of bytes) into ``Block`` values of about
``BLOCK_BYTES`` bytes that end at a line end (``\\n``, ``\\r\\n`` or ``\\r``; never
between the two bytes of ``\\r\\n``, never inside a UTF-8 sequence: line ends are
ASCII). Counting line ends with ``bytes.count`` gives each block its first line number
without decoding anything, so the reading side does no work per line.

``block_lines`` is the other half: a block's physical lines, decoded (a BOM dropped at
the start of the input only) and numbered, exactly as ``table.decode_lines`` yields them
for the whole input. A decoding error or an over-long line raises after the lines
before it.

Pure: no file is read here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, Protocol, runtime_checkable

from credex.adapters.base import (
    MAX_ROW_BYTES,
    Adapter,
    AdapterContext,
    ParsedRow,
    RowError,
    Source,
    chunks_of,
    row_too_large,
)
from credex.ledger.errors import FormatError

__all__ = ["BLOCK_BYTES", "Block", "LineAdapter", "block_lines", "blocks"]

#: a block's size before it is cut at the next line end
BLOCK_BYTES: Final = 128 * 1024
#: a line of more than ``MAX_ROW_BYTES`` characters has at most this many bytes (UTF-8:
#: at most 4 a character); a longer run without a line end is refused while reading
_MAX_LINE_BYTES: Final = 4 * MAX_ROW_BYTES
_LINE_END: Final = re.compile(r"\r\n|\r|\n")
_BOM: Final = "\ufeff"


@dataclass(frozen=True, slots=True)
class Block:
    """Whole lines of the input: the number of the first, the byte offset of the first
    byte, whether it is the input's start (where a BOM is allowed), the bytes."""

    line: int
    offset: int
    first: bool
    data: bytes


def _line_ends(data: bytes) -> int:
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def _cut(buf: bytes, start: int, final: bool) -> int:
    """Where the block starting at ``start`` ends: just after the first line end at or
    past ``start + BLOCK_BYTES``; -1 when more input is needed to know."""
    at = start + BLOCK_BYTES - 1
    nl = buf.find(b"\n", at)
    cr = buf.find(b"\r", at)
    if cr != -1 and (nl == -1 or cr < nl):
        if cr + 1 < len(buf):
            return cr + 2 if buf[cr + 1] == 0x0A else cr + 1
        return len(buf) if final else -1  # a \r last: perhaps the first half of \r\n
    return nl + 1 if nl != -1 else -1


def _open_line(buf: bytes) -> int:
    """Where the last line of ``buf``, not yet ended, starts."""
    return max(buf.rfind(b"\n"), buf.rfind(b"\r")) + 1


def blocks(data: Source, what: str) -> Iterator[Block]:
    """The input in ``Block`` values, in order; memory: a block or the longest line
    allowed (``4 * MAX_ROW_BYTES`` bytes), plus one chunk.

    Raises:
        OversizeError: a run of more than ``4 * MAX_ROW_BYTES`` bytes without a line end
            (a line over ``MAX_ROW_BYTES`` characters), after the blocks before it.
    """
    buf, line, offset, first = b"", 1, 0, True
    for chunk in chunks_of(data):
        buf = buf + chunk if buf else bytes(chunk)
        start = 0
        while len(buf) - start >= BLOCK_BYTES:
            end = _cut(buf, start, final=False)
            if end == -1:
                break
            block = buf[start:end]
            yield Block(line, offset, first, block)
            line, offset, first, start = line + _line_ends(block), offset + len(block), False, end
        buf = buf[start:]
        if len(buf) > _MAX_LINE_BYTES and len(buf) - (begin := _open_line(buf)) > _MAX_LINE_BYTES:
            if begin:  # the whole lines before it first
                yield Block(line, offset, first, buf[:begin])
                line += _line_ends(buf[:begin])
            raise row_too_large(what, line, MAX_ROW_BYTES)
    while buf:
        end = _cut(buf, 0, final=True)
        if end == -1 or end > len(buf):
            end = len(buf)
        block, buf = buf[:end], buf[end:]
        yield Block(line, offset, first, block)
        line, offset, first = line + _line_ends(block), offset + len(block), False


def block_lines(block: Block, what: str) -> Iterator[tuple[int, str]]:
    """``(line number, text with its line end)`` of each physical line of ``block``.

    Raises:
        FormatError: not UTF-8 (the byte offset in the input and its line), after the
            lines before the bad byte.
        OversizeError: a line over ``MAX_ROW_BYTES`` characters, after the lines before it.
    """
    data = block.data
    try:
        text = data.decode("utf-8")
        fault: FormatError | None = None
    except UnicodeDecodeError as e:
        good = data[: e.start]
        cut = max(good.rfind(b"\n"), good.rfind(b"\r")) + 1
        if cut and good[cut - 1 : cut] == b"\r" and data[cut : cut + 1] == b"\n":
            cut += 1
        text = data[:cut].decode("utf-8")
        bad_line = block.line + _line_ends(data[:cut])
        if e.reason == "unexpected end of data" and e.end == len(data):
            fault = FormatError(f"{what}: not utf-8: truncated sequence at the end")
        else:
            fault = FormatError(
                f"{what}: not utf-8: invalid byte at offset {block.offset + e.start} (line "
                f"{bad_line}): expected utf-8 (with or without BOM)"
            )
    if block.first and text.startswith(_BOM):
        text = text[1:]
    n, pos = block.line, 0
    for m in _LINE_END.finditer(text):
        if m.start() - pos > MAX_ROW_BYTES:
            raise row_too_large(what, n, MAX_ROW_BYTES)
        yield n, text[pos : m.end()]
        pos, n = m.end(), n + 1
    if pos < len(text):
        if len(text) - pos > MAX_ROW_BYTES:
            raise row_too_large(what, n, MAX_ROW_BYTES)
        yield n, text[pos:]
    if fault is not None:
        raise fault


@runtime_checkable
class LineAdapter(Adapter, Protocol):
    """An adapter whose every row is one line, with no header: the input can be cut at
    line ends into blocks and each block converted on its own, in a worker process,
    with no work a line on the reading side."""

    def blocks(self, data: Source) -> Iterator[Block]:
        """The input cut at line ends. Raises ``OversizeError`` for an over-long line."""
        ...

    def block_rows(self, block: Block, ctx: AdapterContext) -> Iterator[ParsedRow | RowError]:
        """The results of the block's rows, in order; raises ``FormatError`` (not UTF-8,
        an over-long line) after the rows before it."""
        ...

"""The elements of one JSON array, read as a stream: each element's text, one at a time.

``array_items`` scans UTF-8 input (bytes or chunks of bytes, a leading BOM allowed) for
the top-level array's elements without building the array: it tracks strings (with
their escapes) and brackets only, and hands each element's text on, to be parsed on its
own by a strict parser. Memory is one element (at most ``MAX_ROW_BYTES`` of text) plus
one chunk, whatever the file's size.

What it checks: the document is one array (``[`` first, ``]`` last, only whitespace
after), elements are separated by single commas (no leading, doubled or trailing comma),
brackets balance inside each element, strings end. What the element is (valid JSON, the
right shape) is the element parser's business.

This module reads no file and builds no record.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from typing import Final

from credex.adapters.base import MAX_ROW_BYTES, Source, chunks_of, row_too_large
from credex.ledger.errors import FormatError

__all__ = ["array_items"]

_CHUNK: Final = 64 * 1024
#: outside strings: the characters that matter to the scan
_SPECIAL: Final = re.compile(r'[\[\]{}",]')
#: inside a string: its end or an escape
_IN_STRING: Final = re.compile(r'["\\]')
_WS: Final = " \t\r\n"
_FIRST: Final = {"{": "dict", '"': "str", "t": "bool", "f": "bool", "n": "NoneType"}


def _text(data: Source, what: str) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    offset = 0
    for chunk in chunks_of(data):
        for i in range(0, len(chunk), _CHUNK):
            piece = chunk[i : i + _CHUNK]
            try:
                text = decoder.decode(piece)
            except UnicodeDecodeError as e:
                raise FormatError(
                    f"{what}: not utf-8: invalid byte at offset {offset + e.start}: expected "
                    "utf-8 json"
                ) from None
            offset += len(piece)
            if text:
                yield text
    try:
        tail = decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise FormatError(f"{what}: not utf-8: truncated sequence at the end") from None
    if tail:
        yield tail


def array_items(data: Source, what: str) -> Iterator[tuple[int, str]]:
    """``(position from 1, element text)`` of each element of the top-level array.

    Raises:
        FormatError: not UTF-8, not one JSON array, an unbalanced or unterminated element.
        OversizeError: an element over ``MAX_ROW_BYTES`` of text.
    """
    buf = ""
    state = "start"  # start, before (an element or ]), element, after (, or ]), end
    depth = 0
    in_string = False
    start = 0  # where the current element starts in buf
    pos = 0  # scan position in buf
    count = 0

    def bad(message: str) -> FormatError:
        return FormatError(f"{what}: not valid json: {message} (element {count + 1})")

    def element(end: int) -> tuple[int, str]:
        if end - start > MAX_ROW_BYTES:
            raise row_too_large(what, count + 1, MAX_ROW_BYTES)
        return count + 1, buf[start:end]

    for text in _text(data, what):
        buf += text
        while pos < len(buf):
            if state in ("start", "before", "after", "end"):
                c = buf[pos]
                if c in _WS:
                    pos += 1
                    continue
                if state == "start":
                    if c != "[":
                        kind = _FIRST.get(c, "int" if c in "-0123456789" else "?")
                        if kind == "?":
                            raise FormatError(f"{what}: not valid json: expecting value")
                        raise FormatError(f"{what}: expected a json array of reports, got {kind}")
                    state, pos = "before", pos + 1
                elif state == "end":
                    raise FormatError(f"{what}: not valid json: extra data after the array")
                elif c == "]" and (state == "after" or count == 0):
                    state, pos = "end", pos + 1
                elif state == "after":
                    if c != ",":
                        raise bad("expecting ',' delimiter")
                    state, pos = "before", pos + 1
                    buf, pos = buf[pos:], 0
                elif c in ",]":
                    raise bad("expecting value")
                else:
                    state, start, depth, in_string = "element", pos, 0, False
                continue
            # inside an element
            if in_string:
                m = _IN_STRING.search(buf, pos)
                if m is None:
                    pos = len(buf)
                    break
                if m.group() == "\\":
                    if m.end() >= len(buf):
                        pos = m.start()  # the escaped character is in the next chunk
                        break
                    pos = m.end() + 1
                    continue
                in_string, pos = False, m.end()
                continue
            m = _SPECIAL.search(buf, pos)
            if m is None:
                pos = len(buf)
                break
            c = m.group()
            if c == '"':
                in_string, pos = True, m.end()
            elif c in "[{":
                depth, pos = depth + 1, m.end()
            elif c in "]}":
                if depth == 0:  # the array's own ]: the element (a scalar) ends here
                    yield element(m.start())
                    count += 1
                    state, pos = "after", m.start()
                    continue
                depth, pos = depth - 1, m.end()
                if depth == 0:
                    yield element(pos)
                    count += 1
                    state = "after"
            else:  # a comma
                if depth == 0:
                    yield element(m.start())
                    count += 1
                    state, pos = "after", m.start()
                else:
                    pos = m.end()
        if state in ("element",) and pos - start > MAX_ROW_BYTES:
            raise row_too_large(what, count + 1, MAX_ROW_BYTES)
        if state != "element":
            buf, pos = buf[pos:], 0
        elif start > _CHUNK:
            buf, pos, start = buf[start:], pos - start, 0
    if state == "start":
        raise FormatError(f"{what}: not valid json: expecting value at line 1 column 1")
    if state != "end":
        raise bad("unterminated array")

"""``credex.adapters.lines``: the input cut into blocks at line ends and each block read
on its own gives the lines, numbers and errors of reading the input whole
(``table.decode_lines``), whatever the chunking and the block size."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credex.adapters import lines as lines_mod
from credex.adapters.base import MAX_ROW_BYTES
from credex.adapters.lines import Block, block_lines, blocks
from credex.adapters.table import decode_lines
from credex.ledger.errors import FormatError, OversizeError


def _read(data: bytes, chunk: int) -> list[tuple[int, str]]:
    def chunks() -> Iterator[bytes]:
        for i in range(0, len(data), chunk):
            yield data[i : i + chunk]

    return [pair for b in blocks(chunks(), "t") for pair in block_lines(b, "t")]


def _whole(data: bytes) -> list[tuple[int, str]]:
    return list(enumerate(decode_lines(data, "t"), 1))


_PIECES = st.lists(
    st.one_of(
        st.text(
            alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
            max_size=12,
        ),
        st.sampled_from(["\n", "\r\n", "\r", "\r\r\n", "\n\n", "\ufeff", "汉字", "😀"]),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(_PIECES, st.booleans(), st.integers(1, 9), st.integers(1, 40))
def test_blocks_read_as_the_whole_input(
    pieces: list[str], bom: bool, block: int, chunk: int
) -> None:
    data = (("\ufeff" if bom else "") + "".join(pieces)).encode()
    saved = lines_mod.BLOCK_BYTES
    lines_mod.BLOCK_BYTES = block
    try:
        assert _read(data, chunk) == _whole(data)
    finally:
        lines_mod.BLOCK_BYTES = saved


def test_blocks_end_at_line_ends_and_number_their_first_line() -> None:
    data = b"".join(b"line %d\r\n" % i for i in range(1, 50_001))
    got = list(blocks(data, "t"))
    assert len(got) > 2 and b"".join(b.data for b in got) == data
    for b in got[:-1]:
        assert b.data.endswith(b"\r\n")
        assert len(b.data) >= lines_mod.BLOCK_BYTES
    for b in got:
        assert b.data.startswith(b"line %d\r" % b.line)
    assert [b.first for b in got] == [True] + [False] * (len(got) - 1)


def test_an_invalid_byte_ends_the_input_after_the_lines_before_it() -> None:
    good = [b"row %d" % i for i in range(1, 30_001)]
    data = b"\n".join([*good[:20_000], b"bad \xff here", *good[20_000:]])
    seen: list[int] = []
    with pytest.raises(
        FormatError, match=r"t: not utf-8: invalid byte at offset \d+ \(line 20001\)"
    ):
        for b in blocks(data, "t"):
            for n, _ in block_lines(b, "t"):
                seen.append(n)
    assert seen == list(range(1, 20_001))
    offset = data.index(b"\xff")
    with pytest.raises(FormatError, match=f"invalid byte at offset {offset} "):
        _read(data, 4096)


def test_a_truncated_sequence_at_the_end() -> None:
    with pytest.raises(FormatError, match="t: not utf-8: truncated sequence at the end"):
        _read(b"a\nb\xe6\xb1", 3)
    assert [n for n, _ in _lines_until(b"a\nb\xe6\xb1")] == [1]


def _lines_until(data: bytes) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    try:
        for b in blocks(data, "t"):
            out.extend(block_lines(b, "t"))
    except FormatError:
        pass
    return out


def test_an_over_long_line_is_refused_with_its_number() -> None:
    long = b"x" * (MAX_ROW_BYTES + 1)
    with pytest.raises(OversizeError, match="t: row too large at line 3"):
        _read(b"a\nb\n" + long + b"\nc\n", 1 << 20)
    # without any line end: refused while reading, memory bounded
    endless = (b"\xe6\xb1\x89" * 100_000 for _ in range(100))
    with pytest.raises(OversizeError, match="t: row too large at line 2"):
        for b in blocks(_prefixed(b"first\n", endless), "t"):
            list(block_lines(b, "t"))
    # a line of MAX_ROW_BYTES three-byte characters is not too long
    wide = "汉" * MAX_ROW_BYTES
    assert _read(("a\n" + wide + "\n").encode(), 1 << 20)[1] == (2, wide + "\n")


def _prefixed(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def test_a_bom_is_dropped_at_the_start_only() -> None:
    data = "\ufeffa\n\ufeffb\n".encode()
    assert _read(data, 1) == [(1, "a\n"), (2, "\ufeffb\n")]
    assert list(block_lines(Block(7, 100, False, "\ufeffx".encode()), "t")) == [(7, "\ufeffx")]

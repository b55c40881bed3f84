"""A63: a records file (``credex issue --records``) crafted against the block reading
of issue #16 (``adapters/lines.py``): the importer's process cuts the file at line ends
into blocks and numbers them by counting line ends; the workers decode and split each
block on its own. An attacker who controls the file can place a ``\\r\\n`` across a cut,
a bad UTF-8 byte as the first byte of a block, a byte-order mark at a block's start in
the middle of the file, or a run of megabytes with no line end, hoping that a row is
dropped, read twice, numbered wrongly (a rejects file naming the wrong line), that a
mid-file BOM is silently accepted, or that the reading side holds the run in memory.
Every case must read as the whole file read at once does, in worker processes and here.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from credex.adapters import lines as lines_mod
from credex.adapters.base import AdapterContext, ParsedRow, RowError
from credex.ledger.errors import FormatError, OversizeError
from credex.ledger.subject import SubjectKey
from credex.node.bench.bulk import score_lines
from credex.node.services.parsing import parsed_rows
from credex.node.services.records import JsonLinesRecords

CTX = AdapterContext("cn-zj-hangzhou", SubjectKey("0badc0de", b"\x05" * 32))


def _chunks(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def _rows(data: bytes, workers: int, chunk: int = 1000) -> list[tuple[int, str]]:
    """(line, outcome) of every row until the file fails, then ('fault', message)."""
    adapter = JsonLinesRecords(default_from=0)
    out: list[tuple[int, str]] = []
    try:
        with parsed_rows(adapter, _chunks(data, chunk), CTX, size=1 << 40, workers=workers) as rs:
            for r in rs:
                if isinstance(r, ParsedRow):
                    out.append((r.line, r.record.subject.id))
                elif isinstance(r, RowError):
                    out.append((r.line, r.reason))
    except FormatError as e:
        out.append((-1, f"{type(e).__name__}: {e}"))
    return out


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(lines_mod, "BLOCK_BYTES", 4096)
    return 4096


def _lines(n: int) -> list[bytes]:
    return [line.rstrip("\n").encode() for line in score_lines(n)]


def test_crlf_across_every_cut_reads_every_row_once(small_blocks: int) -> None:
    rows = _lines(400)
    data = b"\r\n".join(rows) + b"\r\n"
    # move the cuts: a prefix of 0..199 bytes puts a \r\n across many block cuts
    for pad in (0, 1, 37, 198, 199):
        padded = b" " * pad + data
        got = _rows(padded, workers=1, chunk=997)
        assert got == _rows(padded, workers=0, chunk=997)
        assert [n for n, _ in got] == list(range(1, 401))


def test_a_bad_byte_first_in_a_block_names_its_line(small_blocks: int) -> None:
    rows = _lines(200)
    data = b"\n".join(rows) + b"\n"
    cut = next(b for b in lines_mod.blocks(data, "issue") if not b.first)
    bad = data[: cut.offset] + b"\xff" + data[cut.offset :]
    got = _rows(bad, workers=1)
    assert got == _rows(bad, workers=0)
    assert [n for n, _ in got[:-1]] == list(range(1, cut.line))
    assert got[-1][1].startswith(
        f"FormatError: issue: not utf-8: invalid byte at offset {cut.offset} (line {cut.line})"
    )


def test_a_bom_at_a_block_start_mid_file_is_not_dropped(small_blocks: int) -> None:
    rows = _lines(200)
    data = b"\n".join(rows) + b"\n"
    cut = next(b for b in lines_mod.blocks(data, "issue") if not b.first)
    bommed = data[: cut.offset] + "\ufeff".encode() + data[cut.offset :]
    got = _rows(bommed, workers=1)
    assert got == _rows(bommed, workers=0)
    refused = dict(got)[cut.line]
    assert refused.startswith("issue: not json")  # the row is refused, not read
    assert len(got) == 200


def test_megabytes_without_a_line_end_are_refused_while_read() -> None:
    head = b"\n".join(_lines(10)) + b"\n"

    def endless() -> Iterator[bytes]:
        yield head
        for _ in range(10_000):  # 10 GB if it were all read
            yield b"x" * (1 << 20)

    adapter = JsonLinesRecords(default_from=0)
    seen: list[int] = []
    with (
        pytest.raises(OversizeError, match="issue: row too large at line 11"),
        parsed_rows(adapter, endless(), CTX, size=1 << 40, workers=1) as rs,
    ):
        for r in rs:
            assert isinstance(r, ParsedRow)
            seen.append(r.line)
    assert seen == list(range(1, 11))

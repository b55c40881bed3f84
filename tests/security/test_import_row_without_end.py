"""A27: an import file built to exhaust memory now that files are streamed (issue #16):
a line that never ends, a CSV record of quoted cells that each hold a line end (so
the record never ends; one big cell is refused by the CSV field limit first), a JSON
array element that never closes. Each is refused by name at ``MAX_ROW_BYTES`` of text,
after holding at most that much, however big the file; the rows before it were read."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from credex.adapters.base import MAX_ROW_BYTES, AdapterContext, ParsedRow
from credex.adapters.registry import ADAPTERS
from credex.ledger.errors import OversizeError
from credex.ledger.subject import SubjectKey

CTX = AdapterContext("cn-zj-ningbo", SubjectKey("00000001", b"\x02" * 32))
CHUNK = 64 * 1024


def _endless(head: bytes, unit: bytes, total: int) -> Iterator[bytes]:
    """``head`` then ``unit`` repeated, in chunks, ``total`` bytes in all (never held)."""
    yield head
    block = unit * (CHUNK // len(unit))
    sent = len(head)
    while sent < total:
        yield block
        sent += len(block)


@pytest.mark.parametrize(
    ("adapter", "head", "unit"),
    [
        ("court-list-csv", b"", b"a"),  # one line without an end
        ("penalty-csv", b"", b'"x\n",'),  # quoted cells, each over a line end
        ("hk-report-json", b'[{"agency": "', b"a"),  # an element that never closes
    ],
    ids=["line-without-end", "quoted-cell-over-many-lines", "json-element-never-closes"],
)
def test_a_row_without_end_is_refused_at_the_row_limit(
    adapter: str, head: bytes, unit: bytes
) -> None:
    source = _endless(head, unit, 64 * MAX_ROW_BYTES)  # 64 MiB offered, never all read
    with pytest.raises(OversizeError, match=f"expected <= {MAX_ROW_BYTES} bytes"):
        for item in ADAPTERS[adapter].parse(source, CTX):
            assert not isinstance(item, ParsedRow)


def test_rows_before_the_oversized_one_are_read() -> None:
    from datetime import date

    from credex.adapters.sample import penalty_csv

    good = penalty_csv("cn-zj-ningbo", rows=3, seed=1, reference_date=date(2026, 11, 1))
    source = _endless(good, b'"x\n",', 8 * MAX_ROW_BYTES)
    seen = []
    with pytest.raises(OversizeError):
        for item in ADAPTERS["penalty-csv"].parse(source, CTX):
            seen.append(item)
    assert len([r for r in seen if isinstance(r, ParsedRow)]) == 3

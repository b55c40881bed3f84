"""Parsing an import file in worker processes (``credex.node.services.parsing``): the
same results, in file order, as parsing in this process; an unreadable line is raised
after the rows before it; stopping early stops the reading thread and the workers."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from credex.adapters.base import AdapterContext, ParsedRow, RowError
from credex.ledger.errors import FormatError
from credex.ledger.subject import SubjectKey
from credex.node.bench.bulk import score_lines
from credex.node.services.parsing import parsed_rows
from credex.node.services.records import JsonLinesRecords

CTX = AdapterContext("cn-zj-hangzhou", SubjectKey("0badc0de", b"\x05" * 32))
N = 3000


def _data(bad_every: int = 7) -> bytes:
    return "".join(score_lines(N, bad_every=bad_every)).encode()


def _chunks(data: bytes, size: int = 4096) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def _parse(data: bytes, workers: int) -> list[ParsedRow | RowError]:
    adapter = JsonLinesRecords(default_from=0)
    with parsed_rows(adapter, _chunks(data), CTX, size=1 << 30, workers=workers) as rows:
        return [r for r in rows if isinstance(r, ParsedRow | RowError)]


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name == "credex-parse"}


def test_workers_give_the_rows_of_this_process_in_file_order() -> None:
    data = _data()
    here, pooled = _parse(data, 0), _parse(data, 1)
    assert len(pooled) == N
    assert pooled == here  # same lines, same records, same refusals
    assert [r.line for r in pooled] == list(range(1, N + 1))
    assert sum(isinstance(r, RowError) for r in pooled) == N // 7
    for a, b in zip(here, pooled, strict=True):
        if isinstance(a, ParsedRow) and isinstance(b, ParsedRow):
            assert a.record.to_bytes() == b.record.to_bytes()
            assert a.record.subject == b.record.subject
    assert not _threads()


def _lines_until_fault(data: bytes, workers: int) -> list[int]:
    seen: list[int] = []
    adapter = JsonLinesRecords(default_from=0)
    with (
        pytest.raises(FormatError),
        parsed_rows(adapter, _chunks(data), CTX, size=1 << 30, workers=workers) as rows,
    ):
        for r in rows:
            assert isinstance(r, ParsedRow)
            seen.append(r.line)
    return seen


def test_an_unreadable_line_is_raised_after_the_rows_before_it() -> None:
    lines = _data(bad_every=0).split(b"\n")
    data = b"\n".join([*lines[:2000], b"\xff\xfe not utf-8", *lines[2000:]])
    seen = _lines_until_fault(data, 1)
    # every row before the bad line, in order, as when parsed in this process (the
    # file is cut into blocks at line ends: a block's rows before the bad byte count)
    assert seen == _lines_until_fault(data, 0)
    assert seen == list(range(1, 2001))
    assert not _threads()


def test_stopping_early_stops_the_reading_thread() -> None:
    adapter = JsonLinesRecords(default_from=0)
    with parsed_rows(adapter, _chunks(_data()), CTX, size=1 << 30, workers=1) as rows:
        for i, _ in enumerate(rows):
            if i == 10:
                break
    assert not _threads()


def test_a_row_packed_by_a_worker_is_rebuilt_field_for_field() -> None:
    """``_unpack(_pack(row))`` is the row: every field of the record and its subject
    (a person's salted record with refs and an end date included), the same bytes."""
    from dataclasses import fields

    from credex.ledger.envelope import salted
    from credex.ledger.record import Record, Subject
    from credex.node.services.parsing import _pack, _unpack

    record = salted(
        Record(
            "score.city",
            "cn-zj-hangzhou",
            Subject("person", "hmac:0badc0de:" + "ab" * 32),
            {"scheme": "HANGZHOU_QIANJIANG", "score": 640, "band": "良好", "as_of": "2026-11-01"},
            1_790_000_000,
            1_800_000_000,
            (b"\x07" * 32,),
        ),
        b"\x01" * 32,
    )
    assert record.salt is not None
    row = ParsedRow(12, record, ("a warning",))
    back = _unpack(_pack(row))
    assert isinstance(back, ParsedRow)
    assert back == row and back.record.to_bytes() == record.to_bytes()
    for f in fields(Record):
        assert getattr(back.record, f.name) == getattr(record, f.name), f.name
    assert _unpack(_pack(RowError(3, "why"))) == RowError(3, "why")

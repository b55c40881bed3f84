"""Parsing an input file for the importer: in this process, or in worker processes.

Checking a row (JSON, identifiers, dates, building the record) is Python work that holds
the interpreter lock; signing and committing mostly do not. On a big file
``parsed_rows`` therefore runs the adapter's ``convert`` in worker processes while this
process reads the file (``split``: cheap), signs and commits, so the machine's cores are
used; results come back in file order. A thread of its own reads the file and feeds the
workers while the importer signs and commits. At most ``_WINDOW`` chunks of ``_UNITS``
rows are in the workers and ``_AHEAD`` parsed chunks wait for the importer, so memory
stays flat whatever the file's size. A small file is parsed here.

A ``LineAdapter`` (one row a line, no header: ``credex issue --records``) is fed in
blocks of whole lines instead (``credex.adapters.lines``): this process only counts the
line ends of each 128 KiB block and the worker decodes and splits it, so no text, row
or line number is built or pickled here (splitting and pickling lines held this
process's interpreter lock for ~2.7 µs a row; the import of 3 × 10^5 lines ran 13,161 to
15,135 rows/s before, 14,026 to 18,948 after, alternating runs). An error in a block
(a byte that is not UTF-8, an over-long line) comes back with the rows before it.

A worker sends each checked row back as a flat tuple of its fields (``_pack``), and
this process rebuilds the ``Record`` from them without checking it again (``_unpack``,
through the slots' setters): unpickling three dataclasses per row (``dataclasses.fields``
per object) held this process's interpreter lock for about 8 µs a row, a loop of
``object.__setattr__`` over the field names 4 µs, the setters 1.8 µs, time taken from
signing and committing.
The worker is this program on rows it has just checked, so nothing is taken on trust
that was not checked.

This module does not sign, log or print.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import fields
from typing import Any, Final

from credex.adapters.base import (
    Adapter,
    AdapterContext,
    HeaderWarning,
    ParsedRow,
    RowError,
    RowUnit,
    Source,
)
from credex.adapters.lines import Block, LineAdapter
from credex.ledger.errors import CredexError
from credex.ledger.record import Record, Subject
from credex.node import gcpolicy

__all__ = ["POOL_MIN_BYTES", "WORKERS_ENV", "parsed_rows"]

#: files smaller than this are parsed in this process (a worker costs ~0.3 s to start)
POOL_MIN_BYTES: Final = 8 * 1024 * 1024
_UNITS: Final = 512
_WINDOW: Final = 8
#: parsed chunks held ready for the importer (``_Ahead``)
_AHEAD: Final = 8

Result = HeaderWarning | ParsedRow | RowError

#: set in each worker by ``_init``
_worker: tuple[Adapter, AdapterContext] | None = None


def _init(adapter: Adapter, ctx: AdapterContext) -> None:
    global _worker
    _worker = (adapter, ctx)
    gcpolicy.tune()


#: the slots of a record and of its subject, in declared order (``_bytes`` included):
#: ``_pack`` and ``_unpack`` spell them out (a generic loop over the names cost twice as
#: much a row), so a change to either class must change them too
_RECORD_FIELDS: Final = tuple(f.name for f in fields(Record))
_SUBJECT_FIELDS: Final = tuple(f.name for f in fields(Subject))
if _RECORD_FIELDS != (
    "kind",
    "region",
    "subject",
    "body",
    "valid_from",
    "valid_until",
    "refs",
    "salt",
    "_bytes",
) or _SUBJECT_FIELDS != ("type", "id"):  # pragma: no cover - a loud failure at import
    raise ImportError("parsing: Record or Subject changed: update _pack and _unpack")

#: a row as a worker sends it: ``(line, reason)`` for a ``RowError``, else ``(line,
#: warnings, subject type, subject id, kind, region, body, valid_from, valid_until,
#: refs, salt, record bytes)``
Packed = tuple[Any, ...]


def _pack(result: ParsedRow | RowError) -> Packed:
    if isinstance(result, RowError):
        return (result.line, result.reason)
    r = result.record
    return (
        result.line,
        result.warnings,
        r.subject.type,
        r.subject.id,
        r.kind,
        r.region,
        r.body,
        r.valid_from,
        r.valid_until,
        r.refs,
        r.salt,
        r.to_bytes(),
    )


#: the classes' slot setters (frozen dataclasses refuse ``setattr``; the slots'
#: descriptors set them directly, as ``object.__setattr__`` would, without the lookup)
_NEW: Final = object.__new__
_S_TYPE, _S_ID = (getattr(Subject, f).__set__ for f in _SUBJECT_FIELDS)
(_R_KIND, _R_REGION, _R_SUBJECT, _R_BODY, _R_FROM, _R_UNTIL, _R_REFS, _R_SALT, _R_BYTES) = (
    getattr(Record, f).__set__ for f in _RECORD_FIELDS
)
_P_LINE, _P_RECORD, _P_WARNINGS = (
    getattr(ParsedRow, f).__set__ for f in ("line", "record", "warnings")
)


def _unpack(packed: Packed) -> ParsedRow | RowError:
    """The result ``_pack`` flattened, rebuilt without running the checks again."""
    if len(packed) == 2:
        return RowError(*packed)
    line, warnings, stype, sid, kind, region, body, vfrom, vuntil, refs, salt, data = packed
    subject = _NEW(Subject)
    _S_TYPE(subject, stype)
    _S_ID(subject, sid)
    record = _NEW(Record)
    _R_KIND(record, kind)
    _R_REGION(record, region)
    _R_SUBJECT(record, subject)
    _R_BODY(record, body)
    _R_FROM(record, vfrom)
    _R_UNTIL(record, vuntil)
    _R_REFS(record, refs)
    _R_SALT(record, salt)
    _R_BYTES(record, data)
    row = _NEW(ParsedRow)
    _P_LINE(row, line)
    _P_RECORD(row, record)
    _P_WARNINGS(row, warnings)
    return row


def _convert(units: list[RowUnit]) -> list[Packed]:
    assert _worker is not None
    adapter, ctx = _worker
    return [_pack(adapter.convert(u, ctx)) for u in units]


def _convert_block(block: Block) -> tuple[list[Packed], Exception | None]:
    """A ``LineAdapter``'s block: its rows, and the error that ended it (the rows
    before an unreadable byte or an over-long line come back with it)."""
    assert _worker is not None
    adapter, ctx = _worker
    assert isinstance(adapter, LineAdapter)
    out: list[Packed] = []
    try:
        for result in adapter.block_rows(block, ctx):
            out.append(_pack(result))
    except CredexError as e:
        return out, e
    return out, None


def _blocks(
    pool: ProcessPoolExecutor, adapter: LineAdapter, data: Source
) -> Iterator[list[Result]]:
    """``_pooled`` for a ``LineAdapter``: whole blocks of the file to the workers (this
    process counts line ends and nothing else), at most ``_WINDOW`` in the workers."""
    queue: deque[Future[tuple[list[Packed], Exception | None]]] = deque()

    def take() -> list[Result]:
        packed, error = queue.popleft().result()
        if error is not None:
            raise _Fault(list(map(_unpack, packed)), error)
        return list(map(_unpack, packed))

    fault: Exception | None = None
    try:
        try:
            for block in adapter.blocks(data):
                queue.append(pool.submit(_convert_block, block))
                # finished blocks now; and at most _WINDOW in the workers (bounded)
                while queue and (queue[0].done() or len(queue) >= _WINDOW):
                    yield take()
        except CredexError as e:  # the file fails here: the rows before it come first
            fault = e
        while queue:
            yield take()
    except _Fault as f:  # a block failed: its rows first, nothing after it
        for future in queue:
            future.cancel()
        yield f.rows
        raise f.error from None
    if fault is not None:
        raise fault


class _Fault(Exception):
    """A block's rows and the error that ended them (inside ``_blocks`` only)."""

    def __init__(self, rows: list[Result], error: Exception) -> None:
        super().__init__()
        self.rows, self.error = rows, error


def _here(adapter: Adapter, data: Source, ctx: AdapterContext) -> Iterator[Result]:
    for unit in adapter.split(data):
        yield unit if isinstance(unit, HeaderWarning) else adapter.convert(unit, ctx)


def _pooled(pool: ProcessPoolExecutor, adapter: Adapter, data: Source) -> Iterator[list[Result]]:
    """The results in file order, a chunk at a time, at most ``_WINDOW`` chunks in the
    workers."""
    queue: deque[Future[list[Packed]] | list[Result]] = deque()
    units: list[RowUnit] = []

    def take(head: Future[list[Packed]] | list[Result]) -> list[Result]:
        return head if isinstance(head, list) else list(map(_unpack, head.result()))

    fault: Exception | None = None
    try:
        for unit in adapter.split(data):
            if isinstance(unit, HeaderWarning):
                if units:
                    queue.append(pool.submit(_convert, units))
                    units = []
                queue.append([unit])
                continue
            units.append(unit)
            if len(units) >= _UNITS:
                queue.append(pool.submit(_convert, units))
                units = []
                while queue and (isinstance(queue[0], list) or queue[0].done()):
                    yield take(queue.popleft())
                while len(queue) >= _WINDOW:  # bounded: wait for the oldest chunk
                    yield take(queue.popleft())
    except Exception as e:  # the file fails here: the rows before it come first
        fault = e
    if units:
        queue.append(pool.submit(_convert, units))
    while queue:
        yield take(queue.popleft())
    if fault is not None:
        raise fault


class _Ahead:
    """The chunks of ``_pooled`` read on a thread of their own, at most ``_AHEAD``
    chunks ahead of the consumer: the file is read and the workers are fed while the
    importer signs and commits, instead of only when it asks for the next row (which
    left the workers idle during each commit). An error raised while reading is raised
    to the consumer after the rows before it. ``close`` stops the thread."""

    def __init__(self, chunks: Iterator[list[Result]]) -> None:
        self._chunks = chunks
        self._queue: queue.Queue[list[Result] | BaseException | None] = queue.Queue(_AHEAD)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="credex-parse", daemon=True)
        self._thread.start()

    def _put(self, item: list[Result] | BaseException | None) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for chunk in self._chunks:
                if not self._put(chunk):
                    return
        except BaseException as e:  # handed to the consumer, raised there
            self._put(e)
            return
        self._put(None)

    def __iter__(self) -> Iterator[Result]:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield from item

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


#: overrides the number of parsing workers (0: parse in this process)
WORKERS_ENV: Final = "CREDEX_IMPORT_WORKERS"


def _workers() -> int:
    text = os.environ.get(WORKERS_ENV, "")
    if text.isascii() and text.isdigit():
        return min(int(text), 8)
    return max(1, min(2, (os.cpu_count() or 2) - 1))


@contextmanager
def parsed_rows(
    adapter: Adapter,
    data: Source,
    ctx: AdapterContext,
    *,
    size: int,
    workers: int | None = None,
) -> Iterator[Iterable[Result]]:
    """The adapter's results for ``data`` in file order, parsed in ``workers`` processes
    (default: the cores but one, at most 2) when ``size`` (bytes) is at least
    ``POOL_MIN_BYTES``, else here. ``workers=0``: always here.

    Raises (while iterating): what ``adapter.split`` and ``convert`` raise.
    """
    n = _workers() if workers is None else workers
    if n == 0 or size < POOL_MIN_BYTES:
        yield _here(adapter, data, ctx)
        return
    mp = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(n, mp_context=mp, initializer=_init, initargs=(adapter, ctx)) as pool:
        chunks = (
            _blocks(pool, adapter, data)
            if isinstance(adapter, LineAdapter)
            else _pooled(pool, adapter, data)
        )
        ahead = _Ahead(chunks)
        try:
            yield ahead
        finally:
            ahead.close()  # before the pool: the thread may be submitting to it
            pool.shutdown(wait=True, cancel_futures=True)

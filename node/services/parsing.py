"""Parsing an input file for the importer: in this process, or in worker processes.

Checking a row (JSON, identifiers, dates, building the record) is Python work that holds
the interpreter lock; signing and committing mostly do not. On a big file
``parsed_rows`` therefore runs the adapter's ``convert`` in worker processes while this
process reads the file (``split``: cheap), signs and commits, so the machine's cores are
used; results come back in file order. At most ``_WINDOW`` chunks of ``_UNITS`` rows are
in flight, so memory stays flat whatever the file's size. A small file is parsed here.

This module does not sign, log or print.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Final

from credex.adapters.base import (
    Adapter,
    AdapterContext,
    HeaderWarning,
    ParsedRow,
    RowError,
    RowUnit,
    Source,
)

__all__ = ["POOL_MIN_BYTES", "WORKERS_ENV", "parsed_rows"]

#: files smaller than this are parsed in this process (a worker costs ~0.3 s to start)
POOL_MIN_BYTES: Final = 8 * 1024 * 1024
_UNITS: Final = 512
_WINDOW: Final = 8

Result = HeaderWarning | ParsedRow | RowError

#: set in each worker by ``_init``
_worker: tuple[Adapter, AdapterContext] | None = None


def _init(adapter: Adapter, ctx: AdapterContext) -> None:
    global _worker
    _worker = (adapter, ctx)


def _convert(units: list[RowUnit]) -> list[ParsedRow | RowError]:
    assert _worker is not None
    adapter, ctx = _worker
    return [adapter.convert(u, ctx) for u in units]


def _here(adapter: Adapter, data: Source, ctx: AdapterContext) -> Iterator[Result]:
    for unit in adapter.split(data):
        yield unit if isinstance(unit, HeaderWarning) else adapter.convert(unit, ctx)


def _pooled(pool: ProcessPoolExecutor, adapter: Adapter, data: Source) -> Iterator[Result]:
    queue: deque[Future[list[ParsedRow | RowError]] | list[Result]] = deque()
    units: list[RowUnit] = []

    def ready() -> Iterator[Result]:
        while queue and (isinstance(queue[0], list) or queue[0].done()):
            head = queue.popleft()
            yield from head if isinstance(head, list) else head.result()

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
            yield from ready()
            while len(queue) >= _WINDOW:  # bounded: wait for the oldest chunk
                head = queue.popleft()
                yield from head if isinstance(head, list) else head.result()
    if units:
        queue.append(pool.submit(_convert, units))
    while queue:
        head = queue.popleft()
        yield from head if isinstance(head, list) else head.result()


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
        try:
            yield _pooled(pool, adapter, data)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

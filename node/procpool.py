"""A small pool of worker processes for CPU-bound verification (issue 13: the second core).

Threads do not help here: verification is mostly pure Python (CBOR decoding, record
checks) and a thread coming back from Ed25519 waits for the GIL the other one holds.
Processes each have their own interpreter::

    pool = ProcessPool(init, arg, work, processes=2)   # workers started once
    results = pool.map(payloads)                        # in order; one job per worker
    pool.close()                                        # also a context manager

- Workers are started with ``forkserver`` (never ``fork``: the caller may run gRPC
  threads); each calls ``init(arg)`` once (``arg`` pickled once per worker, e.g. the
  trust) and then ``work(state, payload)`` per job. ``init`` and ``work`` must be
  module-level functions (they are pickled by name). ``preload`` names modules the
  fork server imports once (with the main module), before its first worker: a worker
  is then a fork of a warm interpreter and starts in milliseconds (the server lives as
  long as this process). As with any ``multiprocessing`` start
  method but ``fork``, the main script must be import-safe (``if __name__ ==
  "__main__":``).
- Every job has a deadline (``timeout`` seconds). A worker that dies (killed, out of
  memory, a crash in C) or misses its deadline makes ``map`` raise ``WorkerError``:
  every worker is killed and reaped, and the pool is closed; nothing it was doing is
  returned. A worker answers only for the job it was given (the job number is checked).
- Exceptions ``work`` raises are not carried across (only their type name): ``map``
  raises ``WorkerError`` naming the job. ``work`` itself reports expected refusals in its
  result.

No result is trusted for more than it says: callers bind each answer to what they sent
(``credex.node.verify_pool``, ``credex.node.federation.sync``).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, Final, Generic, TypeVar

from credex.node import gcpolicy

__all__ = ["DEFAULT_TIMEOUT", "ProcessPool", "WorkerError"]

S = TypeVar("S")
P = TypeVar("P")
R = TypeVar("R")

#: seconds one job may take before its worker is presumed hung and killed
DEFAULT_TIMEOUT: Final = 60.0
#: seconds a worker gets to exit after it is asked to
_EXIT_GRACE: Final = 2.0


class WorkerError(RuntimeError):
    """A worker process died, hung, failed or answered out of turn: the pool is closed
    and the jobs in progress have no result (never a partial or guessed one)."""


def _worker(
    conn: Connection,
    init: Callable[[Any], Any],
    arg: Any,
    work: Callable[[Any, Any], Any],
) -> None:
    """A worker's life: ``init`` once, then answer ``(job, payload)`` messages in turn
    until ``None`` or the parent's end closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and kills us
    try:
        state = init(arg)
        gcpolicy.tune()
        conn.send(("ready", None))
        while True:
            msg = conn.recv()
            if msg is None:
                return
            job, payload = msg
            try:
                conn.send((job, ("ok", work(state, payload))))
            except Exception as e:  # a bug: its type only (a message may quote input)
                conn.send((job, ("error", type(e).__name__)))
    except (EOFError, OSError, KeyboardInterrupt):
        return


@dataclass(slots=True)
class _Batch:
    """The jobs of one ``submit``: job ids run from ``first`` (unique in the pool)."""

    payloads: list[Any]
    first: int
    results: list[Any] = field(default_factory=list)
    next: int = 0
    #: worker -> (job id, deadline)
    busy: dict[int, tuple[int, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.results = [None] * len(self.payloads)


class ProcessPool(Generic[S, P, R]):
    """``processes`` workers, each holding ``init(arg)``; ``map`` runs ``work`` on them."""

    def __init__(
        self,
        init: Callable[[Any], S],
        arg: Any,
        work: Callable[[S, P], R],
        *,
        processes: int = 2,
        timeout: float = DEFAULT_TIMEOUT,
        name: str = "pool",
        preload: Sequence[str] = (),
    ) -> None:
        if processes < 1:
            raise ValueError(f"{name}: processes must be at least 1")
        if not timeout > 0:
            raise ValueError(f"{name}: timeout must be positive")
        self.name = name
        self.timeout = timeout
        self._procs: list[BaseProcess] = []
        self._conns: list[Connection] = []
        self._closed = False
        self._batch: _Batch | None = None
        self._serial = 0
        ctx = multiprocessing.get_context("forkserver")
        # imported once by the fork server (if this pool starts it), so each worker is a
        # fork of a warm interpreter. A worker re-runs the main script (multiprocessing
        # does, outside ``fork``); preloading the credex modules this process holds makes
        # that cheap (preloading "__main__" itself is broken in Python 3.11: the server
        # is never given the main path)
        held = sorted(m for m in sys.modules if m.startswith("credex."))
        ctx.set_forkserver_preload(["__main__", *preload, *held])
        try:
            for k in range(processes):
                parent, child = ctx.Pipe(duplex=True)
                proc = ctx.Process(
                    target=_worker,
                    args=(child, init, arg, work),
                    name=f"credex-{name}-{k}",
                    daemon=True,
                )
                proc.start()
                child.close()
                self._procs.append(proc)
                self._conns.append(parent)
            for conn in self._conns:  # each worker has its state before any job
                if not conn.poll(max(timeout, 30.0)) or conn.recv() != ("ready", None):
                    raise WorkerError(f"{name}: a worker process did not start")
        except BaseException as e:
            self._kill()
            if isinstance(e, (EOFError, OSError)):
                raise WorkerError(f"{name}: a worker process died while starting") from e
            raise

    @property
    def processes(self) -> int:
        return len(self._procs)

    @property
    def pids(self) -> list[int | None]:
        """The workers' process ids (for operators and tests)."""
        return [p.pid for p in self._procs]

    def cpu_seconds(self) -> float | None:
        """CPU time the live workers have used (Linux ``/proc``; None elsewhere)."""
        total = 0.0
        try:
            for p in self._procs:
                with open(f"/proc/{p.pid}/stat", encoding="ascii") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None
        return total

    def map(self, payloads: Sequence[P]) -> list[R]:
        """``work(state, p)`` of each payload on the workers, results in order.

        Raises:
            WorkerError: a worker died, missed its deadline, raised, or answered for
                another job; the pool is closed then.
        """
        self.submit(payloads)
        return self.collect()

    def submit(self, payloads: Sequence[P]) -> None:
        """Start ``payloads`` (one job per idle worker now, the rest as workers free up
        in ``collect``) and return at once: the caller works while the workers do.

        Raises:
            WorkerError: the pool is closed, or a batch is already in progress.
        """
        if self._closed:
            raise WorkerError(f"{self.name}: the pool is closed")
        if self._batch is not None:
            raise WorkerError(f"{self.name}: a batch is already in progress")
        self._batch = _Batch(list(payloads), self._serial)
        self._serial += len(payloads)
        try:
            self._dispatch(self._batch)
        except BaseException:
            self._kill()
            raise

    def collect(self) -> list[R]:
        """The results of the batch ``submit`` started, in order (see ``map``)."""
        batch = self._batch
        if batch is None:
            raise WorkerError(f"{self.name}: no batch in progress")
        try:
            while batch.next < len(batch.payloads) or batch.busy:
                self._receive(batch)
                self._dispatch(batch)
        except BaseException:
            self._kill()
            raise
        finally:
            self._batch = None
        return batch.results

    def _dispatch(self, batch: _Batch) -> None:
        for w in range(len(self._conns)):
            if w not in batch.busy and batch.next < len(batch.payloads):
                job = batch.first + batch.next
                try:
                    self._conns[w].send((job, batch.payloads[batch.next]))
                except OSError as e:  # its end is closed: the worker died
                    self._procs[w].join(1.0)
                    raise WorkerError(
                        f"{self.name}: a worker died (exit code {self._procs[w].exitcode}); "
                        "nothing of this batch is returned"
                    ) from e
                batch.busy[w] = (job, time.monotonic() + self.timeout)
                batch.next += 1

    def _receive(self, batch: _Batch) -> None:
        """Wait for one or more answers (or a deadline)."""
        first = min(deadline for _, deadline in batch.busy.values())
        ready = wait(
            [self._conns[w] for w in batch.busy], timeout=max(0.0, first - time.monotonic())
        )
        if not ready:
            late = [j for j, d in batch.busy.values() if d <= time.monotonic()]
            if late:
                raise WorkerError(
                    f"{self.name}: job {late[0] - batch.first} took over {self.timeout:g} s: "
                    "its worker was killed; nothing of this batch is returned"
                )
            return
        for w in list(batch.busy):
            conn = self._conns[w]
            if conn not in ready:
                continue
            job, _ = batch.busy.pop(w)
            k = job - batch.first
            try:
                answer = conn.recv()
            except (EOFError, OSError) as e:
                self._procs[w].join(1.0)
                raise WorkerError(
                    f"{self.name}: the worker doing job {k} died (exit code "
                    f"{self._procs[w].exitcode}); nothing of this batch is returned"
                ) from e
            if not isinstance(answer, tuple) or len(answer) != 2 or answer[0] != job:
                raise WorkerError(f"{self.name}: a worker answered out of turn")
            status, value = answer[1]
            if status != "ok":
                raise WorkerError(
                    f"{self.name}: job {k} failed in its worker ({value}); nothing of "
                    "this batch is returned"
                )
            batch.results[k] = value

    def close(self) -> None:
        """Ask the workers to exit, then reap them (killing any that do not)."""
        if self._closed:
            return
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.send(None)
        end = time.monotonic() + _EXIT_GRACE
        for p in self._procs:
            p.join(max(0.0, end - time.monotonic()))
        self._kill()

    def _kill(self) -> None:
        """Kill and reap every worker (no zombie left behind)."""
        self._closed = True
        for p in self._procs:
            if p.is_alive():
                p.kill()
        for p in self._procs:
            p.join(5.0)
        for conn in self._conns:
            conn.close()

    def __enter__(self) -> ProcessPool[S, P, R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            self._kill()

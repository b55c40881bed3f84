"""``GroupCommit``: many callers' items committed together, each answered once durable.

A background sequencer thread (started on first ``submit``) drains a queue in batches of
up to ``max_batch`` items, waiting at most ``max_delay_s`` for a batch to fill, hands each
batch to the ``commit`` callable and resolves every future of the batch with its result,
or sets the same exception on all of them (it is delivered, not swallowed). A cancelled
future's item is left out of its batch. ``close`` commits what is queued, then stops the
thread.

Generic over the item and result types; ``AppendOnlyLog`` uses it for ``submit``. This
module knows nothing of logs or storage.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

from credex.ledger.errors import StorageError

__all__ = ["GroupCommit"]

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """Batches submitted items for ``commit``. Thread-safe."""

    def __init__(
        self,
        commit: Callable[[Sequence[T]], list[R]],
        *,
        max_batch: int = 1024,
        max_delay_s: float = 0.002,
        name: str = "credex-group-commit",
    ) -> None:
        """Raises ``ValueError`` for ``max_batch < 1`` or ``max_delay_s < 0``."""
        if max_batch < 1:
            raise ValueError(f"log: max_batch invalid: expected >= 1, got {max_batch}")
        if max_delay_s < 0:
            raise ValueError(f"log: max_delay_s invalid: expected >= 0, got {max_delay_s}")
        self._commit = commit
        self._max_batch = max_batch
        self._max_delay_s = max_delay_s
        self._name = name
        #: guards the queue, the thread handle and the closed flag
        self._cv = threading.Condition()
        self._queue: deque[tuple[T, Future[R]]] = deque()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, item: T) -> Future[R]:
        """Queue ``item``; the future resolves once its batch is committed.

        Raises:
            StorageError: closed.
        """
        fut: Future[R] = Future()
        with self._cv:
            if self._closed:
                raise StorageError("log: submit refused: log is closed")
            self._queue.append((item, fut))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._cv.notify()
        return fut

    def _run(self) -> None:
        """The sequencer thread: batch the queue and commit until closed and drained."""
        while True:
            with self._cv:
                while not self._queue and not self._closed:
                    self._cv.wait()
                if not self._queue:
                    return  # closed and drained
                if self._max_delay_s > 0 and not self._closed:
                    self._cv.wait_for(
                        lambda: len(self._queue) >= self._max_batch or self._closed,
                        timeout=self._max_delay_s,
                    )
                n = min(len(self._queue), self._max_batch)
                batch = [self._queue.popleft() for _ in range(n)]
            self._commit_batch(batch)

    def _commit_batch(self, batch: list[tuple[T, Future[R]]]) -> None:
        live = [p for p in batch if p[1].set_running_or_notify_cancel()]
        if not live:
            return
        try:
            results = self._commit([item for item, _ in live])
        except Exception as e:  # delivered to every waiter of the batch, not swallowed
            for _, fut in live:
                fut.set_exception(e)
            return
        for (_, fut), result in zip(live, results, strict=True):
            fut.set_result(result)

    def close(self) -> None:
        """Commit everything already submitted, then stop the thread. Idempotent."""
        with self._cv:
            self._closed = True
            self._cv.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

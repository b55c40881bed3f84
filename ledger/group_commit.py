"""``GroupCommit``: many callers' items committed together, each answered once durable.

A background sequencer thread (started on first ``submit``) drains a queue in batches of
up to ``max_batch`` items, waiting at most ``max_delay_s`` for a batch to fill, hands each
batch to the ``commit`` callable and resolves every future of the batch with its result,
or sets the same exception on all of them (it is delivered, not swallowed). A cancelled
future's item is left out of its batch. ``submit_many`` queues a caller's items together
under one future (one lock and one future per request, not per item); they go into one
batch, which holds more than ``max_batch`` items only when they alone are more. ``close``
commits what is queued, then stops the thread.

Generic over the item and result types; ``AppendOnlyLog`` uses it for ``submit``. This
module knows nothing of logs or storage.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

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
        #: (items, their future, whether it was ``submit_many``'s: a list of results)
        self._queue: deque[tuple[Sequence[T], Future[Any], bool]] = deque()
        self._queued = 0  # items in the queue
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, item: T) -> Future[R]:
        """Queue ``item``; the future resolves once its batch is committed.

        Raises:
            StorageError: closed.
        """
        fut: Future[R] = Future()
        self._put((item,), fut, False)
        return fut

    def submit_many(self, items: Sequence[T]) -> Future[list[R]]:
        """Queue ``items`` to be committed in one batch; the future resolves with their
        results, in order, once it is committed.

        Raises:
            StorageError: closed.
        """
        fut: Future[list[R]] = Future()
        if not items:
            fut.set_result([])
            return fut
        self._put(items, fut, True)
        return fut

    def _put(self, items: Sequence[T], fut: Future[Any], many: bool) -> None:
        with self._cv:
            if self._closed:
                raise StorageError("log: submit refused: log is closed")
            self._queue.append((items, fut, many))
            self._queued += len(items)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._cv.notify()

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
                        lambda: self._queued >= self._max_batch or self._closed,
                        timeout=self._max_delay_s,
                    )
                queue, n = self._queue, 0
                batch: list[tuple[Sequence[T], Future[Any], bool]] = []
                while queue and (not batch or n + len(queue[0][0]) <= self._max_batch):
                    entry = queue.popleft()
                    batch.append(entry)
                    n += len(entry[0])
                self._queued -= n
            self._commit_batch(batch)

    def _commit_batch(self, batch: list[tuple[Sequence[T], Future[Any], bool]]) -> None:
        live = [p for p in batch if p[1].set_running_or_notify_cancel()]
        if not live:
            return
        try:
            results = self._commit([item for items, _, _ in live for item in items])
        except Exception as e:  # delivered to every waiter of the batch, not swallowed
            for _, fut, _ in live:
                fut.set_exception(e)
            return
        if len(results) != sum(len(items) for items, _, _ in live):
            wrong = StorageError("log: commit answered a different number of results")
            for _, fut, _ in live:
                fut.set_exception(wrong)
            return
        at = 0
        for items, fut, many in live:
            k = len(items)
            fut.set_result(results[at : at + k] if many else results[at])
            at += k

    def close(self) -> None:
        """Commit everything already submitted, then stop the thread. Idempotent."""
        with self._cv:
            self._closed = True
            self._cv.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

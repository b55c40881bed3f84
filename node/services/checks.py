"""Submit's statement checks, in the server process or in a pool of worker processes.

``check_statement`` is what ``Intake`` asks of each submitted statement: it decodes it
strictly, requires its ``iat`` within ``MAX_CLOCK_SKEW`` of the node's clock, finds its
key registered under its ``iss``, valid at its ``iat`` and authorised for its kind, of
the record's region, and verifies its signature. That is most of the CPU of a submit
(issue 13: decoding 37 %, Ed25519 16 % of the server's CPU under P2), and it needs
nothing of the node but its trust store, so ``CheckPool`` runs it in worker processes
(``spawn``; they import only ``credex.ledger``) while the server process commits and
answers: the checks of one stream's batch run beside another's commit, and out of the
server's GIL.

A pool answers a batch with one row per statement (``CheckedRow``: the leaf's fields,
the payload and the preimage) or raises the first invalid statement's own error, as the
in-process check would. A worker that dies (``BrokenProcessPool``) or does not answer
within ``timeout_s`` fails its batch and every batch in the pool with ``StorageError``
(nothing of them is logged or acknowledged): the pool's workers are killed and a new
pool is started for the next batch. A worker whose server process is gone (killed with
SIGKILL) ends itself within a second. Batches under ``min_batch`` statements are checked
in the server process (the round trip costs more than it saves).
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Final, TypeAlias

from credex.ledger.errors import CredexError, PolicyError, StorageError, UntrustedKeyError
from credex.ledger.indexing import leaf_for
from credex.ledger.logtime import require_fresh_iat
from credex.ledger.statement import Statement, verify_statement_signature
from credex.ledger.trust import TrustedIssuer, TrustStore, require_region
from credex.node import gcpolicy

__all__ = [
    "DEFAULT_CHECK_TIMEOUT_S",
    "CheckPool",
    "CheckedRow",
    "IssuerIndex",
    "check_chunk",
    "check_statement",
    "checked_row",
    "default_check_workers",
]

logger = logging.getLogger("credex.node.rpc")

#: how long a batch's checks may take in the pool before its workers are killed
DEFAULT_CHECK_TIMEOUT_S: Final = 30.0
#: batches smaller than this are checked in the server process
DEFAULT_MIN_BATCH: Final = 16
#: statements per task at least (a smaller share costs more in the round trip)
_MIN_CHUNK: Final = 16

#: (leaf, kind, iss, iat, sub, target, decision_no, payload, preimage): a checked
#: statement's ``NewLeaf`` fields but its record hash (the server computes it from
#: ``iss`` and ``payload``), and its hash envelope's body if one was given
CheckedRow: TypeAlias = tuple[
    bytes, str, str, int, str | None, bytes | None, str | None, bytes, bytes | None
]


class IssuerIndex:
    """A trust store's issuer keys by kid, their kids computed once (not per statement)."""

    __slots__ = ("_by_kid",)

    def __init__(self, trust: TrustStore) -> None:
        by_kid: dict[bytes, list[TrustedIssuer]] = {}
        for issuer in trust.issuers:
            by_kid.setdefault(issuer.kid, []).append(issuer)
        self._by_kid = {kid: tuple(found) for kid, found in by_kid.items()}

    def issuers_for_kid(self, kid: bytes) -> tuple[TrustedIssuer, ...]:
        return self._by_kid.get(kid, ())

    def __getstate__(self) -> dict[bytes, tuple[TrustedIssuer, ...]]:
        return self._by_kid

    def __setstate__(self, state: dict[bytes, tuple[TrustedIssuer, ...]]) -> None:
        self._by_kid = state


def check_statement(trust: IssuerIndex, data: bytes, preimage: bytes | None, now: int) -> Statement:
    """The statement ``data`` (with its envelope's body ``preimage``), checked for
    intake at the node's time ``now`` against ``trust``.

    Raises:
        FormatError: it does not decode (``PreimageMismatchError``: the body does not
            match its envelope).
        LogTimeError: its ``iat`` is more than ``MAX_CLOCK_SKEW`` from ``now``.
        PolicyError: its key is unknown, expired or not authorised for the kind, or
            (``RegionMismatchError``) the record is of another region than its issuer.
        SignatureError: its signature does not verify.
    """
    st = Statement.from_bytes(data, preimage)
    require_fresh_iat(st.claims.iat, now, "submit")  # the log attests iat (logtime)
    trusted = [i for i in trust.issuers_for_kid(st.kid) if i.issuer_id == st.claims.iss]
    if not trusted:
        raise UntrustedKeyError("submit: statement signed by a key not registered here")
    valid = [i for i in trusted if i.valid_at(st.claims.iat) and st.kind in i.kinds]
    if not valid:
        raise PolicyError("submit: issuer key not valid at iat or not authorised for kind")
    if st.has_body:
        valid = require_region(valid, st.record.region, "submit")
    verify_statement_signature(st, valid[0].public_key)
    return st


def checked_row(st: Statement) -> CheckedRow:
    """What the server needs of a checked statement to log it (see ``CheckedRow``)."""
    leaf = leaf_for(st)
    return (
        leaf.leaf,
        leaf.kind,
        leaf.issuer,
        leaf.iat,
        leaf.subject,
        leaf.target,
        leaf.decision_no,
        st.payload,
        st.preimage,
    )


def check_chunk(
    trust: IssuerIndex, now: int, statements: Sequence[bytes], preimages: Sequence[bytes | None]
) -> tuple[list[CheckedRow], tuple[int, CredexError] | None]:
    """A worker's task: the rows of ``statements`` up to the first invalid one, and that
    one's position in the chunk and error (None: all valid)."""
    rows: list[CheckedRow] = []
    for i, (data, preimage) in enumerate(zip(statements, preimages, strict=True)):
        try:
            rows.append(checked_row(check_statement(trust, data, preimage, now)))
        except CredexError as e:
            return rows, (i, e)
    return rows, None


def _ready() -> bool:
    return True


#: how often a worker checks that the server process is still its parent
_ORPHAN_POLL_S: Final = 0.5


def _worker_init(parent: int) -> None:
    # Ctrl-C is the server's to handle; the pool is shut down by it
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A server killed outright (SIGKILL) cannot stop its workers, and they would wait on
    # their task queue for ever (each holds its write end), keeping the server's stderr
    # open: a worker whose parent is gone ends itself.
    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()
    gcpolicy.tune()


def _exit_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_ORPHAN_POLL_S)
    os._exit(0)


def default_check_workers() -> int:
    """Check workers of a server by default: 2 on a machine of 2 or more cores, else
    none (checked in the server process)."""
    cores = multiprocessing.cpu_count()
    return 2 if cores >= 2 else 0


class CheckPool:
    """Worker processes checking submitted statements; started on the first batch of
    ``min_batch`` or more. Thread-safe: every stream's batches share it."""

    def __init__(
        self,
        workers: int,
        *,
        timeout_s: float = DEFAULT_CHECK_TIMEOUT_S,
        min_batch: int = DEFAULT_MIN_BATCH,
    ) -> None:
        """Raises ``ValueError`` for ``workers < 1``, ``timeout_s <= 0`` or ``min_batch < 1``."""
        if workers < 1:
            raise ValueError(f"submit: check workers invalid: expected >= 1, got {workers}")
        if timeout_s <= 0:
            raise ValueError(f"submit: check timeout invalid: expected > 0, got {timeout_s}")
        if min_batch < 1:
            raise ValueError(f"submit: min_batch invalid: expected >= 1, got {min_batch}")
        self.workers = workers
        self.timeout_s = timeout_s
        self.min_batch = min_batch
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._closed = False

    def pids(self) -> list[int]:
        """The process ids of the running workers (none before the first batch)."""
        with self._lock:
            ex = self._executor
            procs = {} if ex is None else dict(ex._processes or {})
        return sorted(p.pid for p in procs.values() if p.pid is not None)

    def _get(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise StorageError("submit: refused: the server is stopping")
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_worker_init,
                    initargs=(os.getpid(),),
                )
            return self._executor

    def start(self, *, wait: bool = False) -> None:
        """Start the workers now instead of on the first large batch (``credex serve``
        does, so no submit waits for them); ``wait``: until each has imported credex.

        Raises:
            StorageError: a worker died while starting, or the pool is closed.
        """
        ex = self._get()
        ready = [ex.submit(_ready) for _ in range(self.workers)]
        if wait:
            try:
                for f in ready:
                    f.result(timeout=self.timeout_s)
            except (BrokenProcessPool, FutureTimeout):
                self._discard(ex)
                raise StorageError("submit: the statement check workers did not start") from None

    def _discard(self, ex: ProcessPoolExecutor) -> None:
        """Kill ``ex``'s workers (a stalled one too) and forget it; the next batch starts
        a new pool."""
        with self._lock:
            if self._executor is ex:
                self._executor = None
            procs = list((ex._processes or {}).values())
        for p in procs:
            if p.is_alive():
                p.kill()
        ex.shutdown(wait=False, cancel_futures=True)

    def check(
        self,
        trust: IssuerIndex,
        now: int,
        statements: Sequence[bytes],
        preimages: Sequence[bytes | None],
    ) -> list[CheckedRow]:
        """One row per statement, in order.

        Raises:
            CredexError: the first invalid statement's error (as ``check_statement``).
            StorageError: a worker died or did not answer in time; nothing is checked.
        """
        n = len(statements)
        k = max(1, min(self.workers, n // _MIN_CHUNK))
        step = math.ceil(n / k)
        ex = self._get()
        futures: list[Future[tuple[list[CheckedRow], tuple[int, CredexError] | None]]] = []
        deadline = time.monotonic() + self.timeout_s
        try:
            for lo in range(0, n, step):
                futures.append(
                    ex.submit(
                        check_chunk,
                        trust,
                        now,
                        statements[lo : lo + step],
                        preimages[lo : lo + step],
                    )
                )
            answers = [f.result(timeout=max(0.0, deadline - time.monotonic())) for f in futures]
        except (BrokenProcessPool, FutureTimeout) as e:
            why = "did not answer in time" if isinstance(e, FutureTimeout) else "died"
            logger.warning("SubmitStatements: a statement check worker %s: pool restarted", why)
            self._discard(ex)
            raise StorageError(
                f"submit: a statement check worker {why}: nothing of this batch is logged"
            ) from None
        rows: list[CheckedRow] = []
        for chunk_rows, failed in answers:
            if failed is not None:
                raise failed[1]
            rows.extend(chunk_rows)
        return rows

    def close(self) -> None:
        """Stop the workers (a batch being checked fails). Idempotent."""
        with self._lock:
            self._closed = True
            ex, self._executor = self._executor, None
            procs = [] if ex is None else list((ex._processes or {}).values())
        if ex is None:
            return
        ex.shutdown(wait=False, cancel_futures=True)
        for p in procs:  # idle workers leave at once; a stalled one is killed
            p.join(min(5.0, self.timeout_s))
            if p.is_alive():
                p.kill()
                p.join()

"""Bundle verification on worker processes: the second core for a bank verifying many
bundles (issue 13).

``VerifierPool(trust, processes=2)`` starts its workers once (``credex.node.procpool``:
forkserver, a deadline per chunk, no zombie); each holds its own ``Verifier`` with the
same trust, purpose and as_of, so its cache of checked log signatures lasts as long as
the pool. ``run_many(bundles)`` sends the bundles in chunks and rebuilds each report
from a compact tuple (``verify_report.compact``): the same steps, details, error class
and message, and failed step as ``Verifier.run`` gives on one thread.

Every answer is bound to what was sent: the worker returns, per bundle, the SHA-256 of
the bytes it verified; a report whose hash is not that of the bundle at its position,
or a chunk answered with another count, fails the whole batch (``WorkerError``) — a
report is never attached to bytes its worker did not verify. A worker that dies or
hangs (a bundle crafted to kill it, attack A57) fails the batch within the deadline:
no bundle of it is reported verified.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Final

from credex.ledger.trust import TrustPolicy
from credex.ledger.verify import Verifier
from credex.ledger.verify_report import Compact, VerificationReport, compact, from_compact
from credex.node.procpool import DEFAULT_TIMEOUT, ProcessPool, WorkerError

__all__ = ["VerifierPool", "WorkerError"]

#: bundles per message to a worker (at most): large enough that a message's round trip
#: is small beside its work, small enough that two workers finish together
CHUNK: Final = 128
#: batches shorter than this are verified in the calling process
_POOL_MIN: Final = 16

_Args = tuple[TrustPolicy, str | None, int | None]
_Answer = list[tuple[bytes, Compact]]


def _init(arg: _Args) -> Verifier:
    trust, purpose, as_of = arg
    return Verifier(trust, purpose=purpose, as_of=as_of)


def _work(verifier: Verifier, bundles: list[bytes]) -> _Answer:
    return [(hashlib.sha256(b).digest(), compact(verifier.run(b))) for b in bundles]


class VerifierPool:
    """``Verifier(trust, purpose=, as_of=)`` on ``processes`` worker processes."""

    def __init__(
        self,
        trust: TrustPolicy,
        *,
        purpose: str | None = None,
        as_of: int | None = None,
        processes: int = 2,
        chunk: int = CHUNK,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if chunk < 1:
            raise ValueError("verify: chunk must be at least 1")
        self.chunk = chunk
        self._local = Verifier(trust, purpose=purpose, as_of=as_of)
        self._pool: ProcessPool[Verifier, list[bytes], _Answer] = ProcessPool(
            _init,
            (trust, purpose, as_of),
            _work,
            processes=processes,
            timeout=timeout,
            name="verify",
            preload=(__name__,),
        )

    @property
    def pids(self) -> list[int | None]:
        return self._pool.pids

    def cpu_seconds(self) -> float | None:
        """CPU time the workers have used (``ProcessPool.cpu_seconds``)."""
        return self._pool.cpu_seconds()

    def run_many(self, bundles: Sequence[bytes]) -> list[VerificationReport]:
        """``Verifier.run`` of each bundle, the reports in the same order; never raises
        a ``CredexError``.

        Raises:
            WorkerError: a worker died, hung past the deadline, failed on a bug, or
                answered for other bytes: no report of the batch is returned, and the
                pool is closed.
        """
        if len(bundles) < _POOL_MIN:
            return [self._local.run(b) for b in bundles]
        size = min(self.chunk, max(4, -(-len(bundles) // (4 * self._pool.processes))))
        chunks = [list(bundles[i : i + size]) for i in range(0, len(bundles), size)]
        answers = self._pool.map(chunks)
        reports: list[VerificationReport] = []
        for sent, got in zip(chunks, answers, strict=True):
            if not isinstance(got, list) or len(got) != len(sent):
                self._pool.close()
                raise WorkerError("verify: a worker answered for another chunk")
            for data, (digest, value) in zip(sent, got, strict=True):
                if digest != hashlib.sha256(data).digest():
                    self._pool.close()
                    raise WorkerError("verify: a worker answered for other bytes")
                reports.append(from_compact(value))
        return reports

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> VerifierPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

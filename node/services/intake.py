"""Intake: accept statements signed elsewhere into the node's log, with receipts.

``Intake.submit`` is what the Submit service calls, once per request batch: it decodes
each statement, applies the same policy as ``LocalNode.submit`` (``iat`` within
``MAX_CLOCK_SKEW`` of this node's clock, so the log attests it; the issuer key is
registered here under the statement's ``iss``, valid at its ``iat`` and authorised for its
kind; the record's region is the issuer's; the signature verifies), then queues the
batch's leaves on the log's group commit (``AppendOnlyLog.submit_many``: one future per
batch) so concurrent callers share transactions, waits until every leaf is durable and
only then builds the RFC 9942 receipts against the log size at that moment: one node
read for all inclusion paths and one log signature over the root (a receipt's signature
covers only the root, so the batch shares it). A statement already in the log gets its
existing entry back.

The checks (``credex.node.services.checks``) run in the ``CheckPool``'s worker processes
when the intake has one and the batch is large enough, else here. A batch is
all-or-nothing on validation: the first invalid statement fails the call, with its own
error, before anything of that batch is queued. This module does not speak gRPC and does
not publish checkpoints.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from credex.ledger.errors import FormatError, OversizeError
from credex.ledger.indexing import leaf_for
from credex.ledger.keys import SigningKey
from credex.ledger.log import NewLeaf
from credex.ledger.merkle import leaf_hash
from credex.ledger.receipt import build_receipts
from credex.node.local import LocalNode, record_hash
from credex.node.services.checks import CheckPool, IssuerIndex, check_statement

__all__ = ["MAX_SUBMIT_BATCH", "Intake", "SubmitAck"]

MAX_SUBMIT_BATCH: Final = 1024


@dataclass(frozen=True, slots=True)
class SubmitAck:
    """A durable entry: where it is, whether it was new, and its receipt (COSE bytes)."""

    leaf_index: int
    leaf_hash: bytes
    is_new: bool
    receipt: bytes


class Intake:
    """Validates and logs submitted statements for one ``LocalNode``. Thread-safe."""

    def __init__(
        self, node: LocalNode, clock: Callable[[], int], pool: CheckPool | None = None
    ) -> None:
        self._node = node
        self._clock = clock
        self._pool = pool
        self._log_key: SigningKey = node.home.log_key()
        self._trust_lock = threading.Lock()
        self._trust_stamp: tuple[int, int] | None = None
        self._trust: IssuerIndex | None = None

    def _current_trust(self) -> IssuerIndex:
        """The node's trusted issuers, re-read only when issuers.json changed."""
        st = (self._node.home.path / "issuers.json").stat()
        stamp = (st.st_mtime_ns, st.st_size)
        with self._trust_lock:
            if self._trust is None or stamp != self._trust_stamp:
                self._trust = IssuerIndex(self._node.home.trust())
                self._trust_stamp = stamp
            return self._trust

    def _checked(
        self, trust: IssuerIndex, statements: Sequence[bytes], pre: Sequence[bytes | None]
    ) -> list[tuple[NewLeaf, bytes | None]]:
        """Each statement checked (``check_statement``), in the pool when there is one
        and the batch is large enough; the first invalid one's error is raised."""
        now = self._clock()
        pool = self._pool
        if pool is None or len(statements) < pool.min_batch:
            out = []
            for data, preimage in zip(statements, pre, strict=True):
                st = check_statement(trust, data, preimage, now)
                out.append((leaf_for(st, record_hash(st.claims.iss, st.payload)), st.preimage))
            return out
        return [
            (NewLeaf(leaf, kind, iss, iat, record_hash(iss, payload), sub, target, dno), body)
            for leaf, kind, iss, iat, sub, target, dno, payload, body in pool.check(
                trust, now, statements, pre
            )
        ]

    def submit(
        self, statements: Sequence[bytes], preimages: Sequence[bytes | None] = ()
    ) -> list[SubmitAck]:
        """Log ``statements``; returns once all are durable, in input order. ``preimages``
        (optional, parallel): the bodies of hash-envelope statements, checked and kept
        off the log, durable before the acknowledgement.

        Raises:
            OversizeError: more than ``MAX_SUBMIT_BATCH`` statements.
            FormatError: a statement does not decode, or preimages are not one per
                statement (``PreimageMismatchError``: a body does not match its envelope).
            LogTimeError: its ``iat`` is more than ``MAX_CLOCK_SKEW`` from this node's clock.
            PolicyError: its issuer key is unknown, expired or not authorised for the kind,
                or (``RegionMismatchError``) the record is of another region than its issuer.
            SignatureError: its signature does not verify.
            StorageError: the log failed or is closed, or a check worker died or stalled
                (``CheckPool``); nothing is acknowledged.
        """
        if len(statements) > MAX_SUBMIT_BATCH:
            raise OversizeError(
                f"submit: too many statements in one request: expected <= {MAX_SUBMIT_BATCH}, "
                f"got {len(statements)}"
            )
        if not statements:
            return []
        trust = self._current_trust()
        pre = list(preimages) or [None] * len(statements)
        if len(pre) != len(statements):
            raise FormatError("submit: preimages must be one per statement")
        checked = self._checked(trust, statements, pre)
        leaves = [leaf for leaf, _ in checked]
        bodies = [(leaf_hash(leaf.leaf), body) for leaf, body in checked if body is not None]
        if bodies:  # bodies first: durable before their leaves are acknowledged
            self._node.bodies.put_many(bodies, max(leaf.iat for leaf, _ in checked))
        log = self._node.log
        results = log.submit_many(leaves).result()
        size = log.size  # every result is durable, so size > every index
        root = log.root(size)
        indices = [r.index for r in results]
        receipts = build_receipts(
            self._log_key,
            size,
            root,
            list(zip(indices, log.inclusion_proofs(indices, size), strict=True)),
        )
        return [
            SubmitAck(r.index, r.leaf_hash, r.is_new, receipt.to_bytes())
            for r, receipt in zip(results, receipts, strict=True)
        ]

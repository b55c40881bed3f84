"""Intake: accept statements signed elsewhere into the node's log, with receipts.

``Intake.submit`` is what the Submit service calls, once per request batch: it decodes
each statement, applies the same policy as ``LocalNode.submit`` (``iat`` within
``MAX_CLOCK_SKEW`` of this node's clock, so the log attests it; the issuer key is
registered here under the statement's ``iss``, valid at its ``iat`` and authorised for its
kind; the record's region is the issuer's; the signature verifies), then queues every
leaf on the log's group commit (``AppendOnlyLog.submit``) so concurrent callers share
transactions, waits until every
leaf is durable and only then builds the RFC 9942 receipts against the log size at that
moment: one node read for all inclusion paths and one log signature over the root (a
receipt's signature covers only the root, so the batch shares it). A statement already in
the log gets its existing entry back.

A batch is all-or-nothing on validation: the first invalid statement fails the call
before anything of that batch is queued. This module does not speak gRPC and does not
publish checkpoints.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from credex.ledger.errors import FormatError, OversizeError, PolicyError, UntrustedKeyError
from credex.ledger.indexing import leaf_for
from credex.ledger.keys import SigningKey
from credex.ledger.log import NewLeaf
from credex.ledger.logtime import require_fresh_iat
from credex.ledger.merkle import leaf_hash
from credex.ledger.receipt import build_receipts
from credex.ledger.statement import Statement, verify_statement_signature
from credex.ledger.trust import TrustStore, require_region
from credex.node.local import LocalNode, record_hash

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

    def __init__(self, node: LocalNode, clock: Callable[[], int]) -> None:
        self._node = node
        self._clock = clock
        self._log_key: SigningKey = node.home.log_key()
        self._trust_lock = threading.Lock()
        self._trust_stamp: tuple[int, int] | None = None
        self._trust: TrustStore | None = None

    def _current_trust(self) -> TrustStore:
        """The node's trust, re-read only when issuers.json changed."""
        st = (self._node.home.path / "issuers.json").stat()
        stamp = (st.st_mtime_ns, st.st_size)
        with self._trust_lock:
            if self._trust is None or stamp != self._trust_stamp:
                self._trust = self._node.home.trust()
                self._trust_stamp = stamp
            return self._trust

    def _check(
        self, trust: TrustStore, data: bytes, preimage: bytes | None, now: int
    ) -> tuple[NewLeaf, bytes | None]:
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
        return leaf_for(st, record_hash(st.claims.iss, st.payload)), st.preimage

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
            StorageError: the log failed or is closed; nothing is acknowledged.
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
        now = self._clock()
        checked = [self._check(trust, d, p, now) for d, p in zip(statements, pre, strict=True)]
        leaves = [leaf for leaf, _ in checked]
        bodies = [(leaf_hash(leaf.leaf), body) for leaf, body in checked if body is not None]
        if bodies:  # bodies first: durable before their leaves are acknowledged
            self._node.bodies.put_many(bodies, max(leaf.iat for leaf, _ in checked))
        log = self._node.log
        futures = [log.submit(leaf) for leaf in leaves]
        results = [f.result() for f in futures]
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

"""``PeerClient``: a typed client for another credex node's gRPC services.

Wraps the generated stubs over TLS: the Log service on the peer's public endpoint, and
Submit / Witness on its mTLS endpoint with this side's client certificate (a peer node
uses its own node certificate, registered at the peer by fingerprint). Every
``grpc.RpcError`` is translated once, ``raise ... from e``: UNAVAILABLE and
DEADLINE_EXCEEDED become ``PeerUnavailableError`` (retryable), everything else the
matching ``CredexError`` (``credex.node.rpc.errors.error_from_rpc``).

It returns what the peer said without trusting it: callers verify checkpoints, proofs
and statements with ``credex.ledger`` (only ``checkpoint_from_proto`` checks that the
size and root fields repeat the signed note). It does not retry or cache.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

import grpc

from credex.ledger.checkpoint import SignedNote
from credex.ledger.errors import FormatError
from credex.node.rpc import convert
from credex.node.rpc.errors import error_from_rpc
from credex.node.rpc.limits import DEFAULT_MAX_MESSAGE_BYTES, StreamLimits
from credex.node.services.intake import SubmitAck
from credex.v1 import (
    log_pb2,
    log_pb2_grpc,
    query_pb2,
    query_pb2_grpc,
    submit_pb2_grpc,
    witness_pb2_grpc,
)

__all__ = ["DEFAULT_TIMEOUT_S", "LookupAnswer", "LookupEntry", "PeerClient", "SubmitAck"]

DEFAULT_TIMEOUT_S: Final = 10.0
_SUBMIT_BATCH: Final = 256


def _streams(
    statements: Sequence[bytes], preimages: Sequence[bytes | None], limits: StreamLimits
) -> Iterator[tuple[int, int]]:
    """[lo, hi) ranges of ``statements``, each within one stream's statement and byte
    limits (a single statement over the byte limit gets a stream of its own, and the
    server's refusal)."""
    lo = size = 0
    for i, (st, p) in enumerate(zip(statements, preimages, strict=True)):
        n = len(st) + len(p or b"")
        if i > lo and (i - lo >= limits.statements or size + n > limits.bytes):
            yield lo, i
            lo, size = i, 0
        size += n
    if lo < len(statements):
        yield lo, len(statements)


@dataclass(frozen=True, slots=True)
class LookupEntry:
    """One record of a lookup answer: its bundle bytes, or why it is withheld."""

    origin: str
    leaf_index: int
    kind: str
    bundle: bytes | None
    withheld: str | None


@dataclass(frozen=True, slots=True)
class LookupAnswer:
    subject: str
    records: tuple[LookupEntry, ...]
    audit_index: int
    audit_leaf_hash: bytes
    #: the node's signed completeness proof (``Query.Lookup``; empty: none sent)
    completeness: bytes = b""


class PeerClient:
    """Calls one peer. ``endpoint`` / ``mtls_endpoint`` are ``HOST:PORT``.

    ``ca_pem`` is the peer's CA certificate (``credex node info``); ``client_cert`` /
    ``client_key`` (PEM) are needed for ``submit`` and ``add_checkpoint``;
    ``server_name`` overrides the name checked against the peer's certificate.
    ``timeout_s`` bounds each unary call and each whole stream; ``stream_limits`` are
    the server's per-stream limits ``submit`` splits its streams by.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        ca_pem: bytes,
        client_cert: bytes | None = None,
        client_key: bytes | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        mtls_endpoint: str | None = None,
        server_name: str | None = None,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        stream_limits: StreamLimits | None = None,
    ) -> None:
        self.endpoint = endpoint
        self._stream_limits = stream_limits or StreamLimits()
        self.mtls_endpoint = mtls_endpoint or endpoint
        self.timeout_s = timeout_s
        options: list[tuple[str, Any]] = [
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max_message_bytes),
        ]
        if server_name:
            options.append(("grpc.ssl_target_name_override", server_name))
        creds = grpc.ssl_channel_credentials(ca_pem, client_key, client_cert)
        self._channel = grpc.secure_channel(endpoint, creds, options=options)
        self._mtls_channel = (
            self._channel
            if self.mtls_endpoint == endpoint
            else grpc.secure_channel(self.mtls_endpoint, creds, options=options)
        )
        self._log = log_pb2_grpc.LogStub(self._channel)  # type: ignore[no-untyped-call]
        self._submit = submit_pb2_grpc.SubmitStub(self._mtls_channel)  # type: ignore[no-untyped-call]
        self._witness = witness_pb2_grpc.WitnessStub(self._mtls_channel)  # type: ignore[no-untyped-call]
        self._query = query_pb2_grpc.QueryStub(self._mtls_channel)  # type: ignore[no-untyped-call]

    def close(self) -> None:
        self._channel.close()
        if self._mtls_channel is not self._channel:
            self._mtls_channel.close()

    def __enter__(self) -> PeerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, what: str, fn: Any, request: Any) -> Any:
        try:
            return fn(request, timeout=self.timeout_s)
        except grpc.RpcError as e:
            raise error_from_rpc(e, f"peer {self.endpoint}: {what}") from e

    # Log --------------------------------------------------------------------------------
    def get_checkpoint(self, tree_size: int = 0) -> str:
        """The peer's latest signed checkpoint (or the one at ``tree_size``), as text."""
        msg = self._call(
            "GetCheckpoint",
            self._log.GetCheckpoint,
            log_pb2.GetCheckpointRequest(tree_size=tree_size),
        )
        note: SignedNote = convert.checkpoint_from_proto(msg)
        return note.to_text()

    def get_entries(self, start: int, end: int, *, max_batch: int = 0) -> Iterator[list[bytes]]:
        """Statements ``[start, end)`` in batches, in order; checks batches are contiguous."""
        request = log_pb2.GetEntriesRequest(start=start, end=end, max_batch=max_batch)
        try:
            stream = self._log.GetEntries(request, timeout=self.timeout_s)
            expected = start
            for msg in stream:
                if msg.start != expected:
                    raise FormatError(
                        f"peer: entries out of order: expected start {expected}, got {msg.start}"
                    )
                batch = [bytes(s) for s in msg.statements]
                expected += len(batch)
                yield batch
        except grpc.RpcError as e:
            raise error_from_rpc(e, f"peer {self.endpoint}: GetEntries") from e

    def get_inclusion_proof(
        self, leaf: int | bytes, tree_size: int = 0
    ) -> tuple[int, int, bytes, list[bytes]]:
        """(leaf_index, tree_size, leaf_hash, proof hashes) for an index or a leaf hash."""
        msg = self._call(
            "GetInclusionProof",
            self._log.GetInclusionProof,
            convert.inclusion_request_to_proto(leaf, tree_size),
        )
        hashes = convert.hashes_from_proto(msg.hashes, "inclusion proof")
        return int(msg.leaf_index), int(msg.tree_size), bytes(msg.leaf_hash), hashes

    def get_inclusion_proofs(
        self, leaves: Sequence[int | bytes], tree_size: int = 0
    ) -> tuple[int, list[tuple[int, bytes, list[bytes]]]]:
        """(tree_size, [(leaf_index, leaf_hash, proof hashes)]) for up to
        ``convert.MAX_PROOFS_BATCH`` entries (indices or leaf hashes) in one call, in the
        order of ``leaves``; the answer is checked to name exactly the entries asked."""
        msg = self._call(
            "GetInclusionProofs",
            self._log.GetInclusionProofs,
            convert.inclusion_proofs_request_to_proto(leaves, tree_size),
        )
        return int(msg.tree_size), convert.inclusion_proofs_from_proto(msg, leaves, tree_size)

    def get_consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        msg = self._call(
            "GetConsistencyProof",
            self._log.GetConsistencyProof,
            log_pb2.GetConsistencyProofRequest(old_size=old_size, new_size=new_size),
        )
        return convert.hashes_from_proto(msg.hashes, "consistency proof")

    def get_bundle(self, leaf: int | bytes, *, origin: str = "") -> bytes:
        """The ``.credex`` bundle bytes for an entry (by index or leaf hash); with
        ``origin``, an entry of that peer log as mirrored by this node."""
        msg = self._call(
            "GetBundle",
            self._log.GetBundle,
            convert.bundle_request_to_proto(leaf, origin),
        )
        return bytes(msg.bundle)

    def get_receipt(self, leaf_index: int, tree_size: int) -> bytes:
        """The receipt of an entry in the tree of ``tree_size`` (a size the peer signed)."""
        msg = self._call(
            "GetReceipt",
            self._log.GetReceipt,
            log_pb2.GetReceiptRequest(leaf_index=leaf_index, tree_size=tree_size),
        )
        return bytes(msg.receipt)

    # Submit -----------------------------------------------------------------------------
    def get_manifest(self, after_version: int = 0) -> tuple[list[bytes], int]:
        """The manifest versions the peer installed after ``after_version`` (bytes, not
        trusted: ``credex.node.federation.travel`` verifies them) and its latest number."""
        msg = self._call(
            "GetManifest",
            self._log.GetManifest,
            log_pb2.GetManifestRequest(after_version=after_version),
        )
        return [bytes(v) for v in msg.versions], int(msg.latest_version)

    def submit(
        self,
        statements: Sequence[bytes],
        *,
        batch: int = _SUBMIT_BATCH,
        preimages: Sequence[bytes | None] = (),
    ) -> list[SubmitAck]:
        """Stream ``statements`` in batches; one durable ack per statement, in order.
        ``preimages`` (parallel, optional): the bodies of hash-envelope statements. More
        than one stream may carry them: each stays within the server's per-stream limits
        (``StreamLimits``)."""
        pre = list(preimages) or [None] * len(statements)
        if len(pre) != len(statements):
            raise FormatError("submit: preimages must be one per statement")
        acks: list[SubmitAck] = []
        for lo, hi in _streams(statements, pre, self._stream_limits):
            starts = range(lo, hi, batch)
            requests = (
                convert.submit_request_to_proto(
                    statements[i : min(i + batch, hi)], pre[i : min(i + batch, hi)]
                )
                for i in starts
            )
            try:
                for msg in self._submit.SubmitStatements(requests, timeout=self.timeout_s):
                    acks.extend(convert.submit_acks_from_proto(msg))
            except grpc.RpcError as e:
                raise error_from_rpc(e, f"peer {self.mtls_endpoint}: SubmitStatements") from e
        return acks

    # Witness ----------------------------------------------------------------------------
    def add_checkpoint(self, old_size: int, proof: Sequence[bytes], note_text: str) -> str:
        """Ask the peer to cosign; returns its cosignature line(s).

        Raises:
            OutOfRangeError: ``old_size`` is not the witness's latest size; the error's
                ``witness_size`` attribute holds the witness's size.
            NotFoundError, SignatureError, ConsistencyProofError, PolicyError, ...: as
                mapped in docs/grpc.md.
            PeerUnavailableError: the peer is unreachable or timed out.
        """
        msg = self._call(
            "AddCheckpoint",
            self._witness.AddCheckpoint,
            convert.add_checkpoint_to_proto(old_size, proof, note_text),
        )
        return str(msg.cosignature)

    # Query ------------------------------------------------------------------------------
    def lookup(
        self,
        *,
        purpose: str,
        authorisation: str,
        subject: str = "",
        person_id: str = "",
    ) -> LookupAnswer:
        """Every record the node holds on one subject (mTLS; role bank, issuer or peer).

        Raises:
            LookupNotAuthorisedError: role, purpose or authorisation reference refused.
            IdentifierError: an invalid subject number.
            PeerUnavailableError: the node is unreachable or timed out.
        """
        request = (
            query_pb2.LookupRequest(
                person_id=person_id, purpose=purpose, authorisation=authorisation
            )
            if person_id
            else query_pb2.LookupRequest(
                subject=subject, purpose=purpose, authorisation=authorisation
            )
        )
        try:
            msg = self._query.Lookup(request, timeout=self.timeout_s)
        except grpc.RpcError as e:
            raise error_from_rpc(e, f"peer {self.mtls_endpoint}: Lookup") from e
        return LookupAnswer(
            str(msg.subject),
            tuple(
                LookupEntry(
                    str(r.origin),
                    int(r.leaf_index),
                    str(r.kind),
                    bytes(r.bundle) or None,
                    str(r.withheld) or None,
                )
                for r in msg.records
            ),
            int(msg.audit_index),
            bytes(msg.audit_leaf_hash),
            bytes(msg.completeness),
        )

"""``LogServicer``: the Log service (``credex.v1.Log``), open to any TLS client.

Checkpoints, entries, inclusion and consistency proofs, receipts and bundles of this
node's log and (with ``origin``) of the logs it mirrors, and the federation manifest
versions it has installed (``GetManifest``). Thin: decode, one call, encode;
errors are translated once by the server's interceptor (``credex.node.rpc.errors``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

from credex.ledger.checkpoint import SignedNote
from credex.ledger.errors import NotFoundError, OutOfRangeError
from credex.ledger.log import AppendOnlyLog
from credex.node.federation.holdings import Holdings
from credex.node.federation.travel import versions_after
from credex.node.local import LocalNode
from credex.node.rpc import convert
from credex.node.rpc.backends import MirrorBackend
from credex.v1 import (
    log_pb2,
    log_pb2_grpc,
)

__all__ = [
    "MAX_ENTRIES_BATCH",
    "MAX_ENTRIES_BYTES",
    "LogServicer",
    "inclusion_proofs",
    "stream_entries",
]

#: statements per GetEntries message (server cap)
MAX_ENTRIES_BATCH: Final = 256
#: soft cap of statement bytes per GetEntries message (well under the 4 MiB message limit)
MAX_ENTRIES_BYTES: Final = 1 << 20


def stream_entries(
    log: AppendOnlyLog, start: int, end: int, batch: int
) -> Iterator[log_pb2.GetEntriesResponse]:
    """Entries ``[start, end)`` of ``log`` as GetEntries responses: read ``batch`` at a
    time, each response at most ``MAX_ENTRIES_BYTES`` of statements (or one statement)."""
    for first in range(start, end, batch):
        chunk: list[bytes] = []
        chunk_start, used = first, 0
        for e in log.entries(first, min(first + batch, end)):
            if chunk and used + len(e.leaf) > MAX_ENTRIES_BYTES:
                yield convert.entries_to_proto(chunk_start, chunk)
                chunk_start, chunk, used = e.index, [], 0
            chunk.append(e.leaf)
            used += len(e.leaf)
        if chunk:
            yield convert.entries_to_proto(chunk_start, chunk)


def inclusion_proofs(
    log: AppendOnlyLog, refs: Sequence[convert.LeafRef], size: int
) -> log_pb2.GetInclusionProofsResponse:
    """GetInclusionProofs' answer: ``refs`` (indices first, then hashes, as decoded by
    ``convert.leaf_refs_from_proto``) in the tree of ``size``, every node read at once.

    Raises:
        NotFoundError: a leaf hash is not in the log.
        OutOfRangeError: ``size`` beyond the log, or an entry not in the tree of ``size``.
    """
    indices = [log.index_of(r) if isinstance(r, bytes) else r for r in refs]
    return convert.inclusion_proofs_to_proto(
        size, indices, log.leaves_and_inclusion_proofs(indices, size)
    )


class LogServicer(log_pb2_grpc.LogServicer):
    """The Log service over one ``LocalNode``; ``clock`` gives Unix seconds; ``mirrors``
    serves bundles of mirrored peer logs; ``holdings`` judges and bundles this node's own
    records with every statement about them (default: its own log only)."""

    def __init__(
        self,
        node: LocalNode,
        *,
        clock: Callable[[], int],
        mirrors: MirrorBackend | None = None,
        holdings: Holdings | None = None,
    ) -> None:
        self._node = node
        self._clock = clock
        self._mirrors = mirrors
        self._holdings = holdings or Holdings(node, clock=clock)
        #: publishing a checkpoint is serialised so two callers never race sizes
        self.publish_lock = threading.Lock()

    def _latest(self) -> SignedNote:
        with self.publish_lock:
            return self._node.publish_checkpoint(self._clock())

    def _index(self, ref: convert.LeafRef) -> int:
        return self._node.log.index_of(ref) if isinstance(ref, bytes) else ref

    def GetCheckpoint(
        self, request: log_pb2.GetCheckpointRequest, context: Any
    ) -> log_pb2.GetCheckpointResponse:
        size = int(request.tree_size)
        note = self._node.checkpoint_at(size) if size else self._latest()
        return convert.checkpoint_to_proto(note)

    def GetEntries(
        self, request: log_pb2.GetEntriesRequest, context: Any
    ) -> Iterator[log_pb2.GetEntriesResponse]:
        start, end = int(request.start), int(request.end)
        batch = min(int(request.max_batch) or MAX_ENTRIES_BATCH, MAX_ENTRIES_BATCH)
        log = self._node.log
        if end > log.size:  # the command line may have appended (credex.node.pen)
            log.refresh()
        if not 0 <= start <= end <= log.size:
            raise OutOfRangeError(
                f"log: entry range invalid: expected 0 <= start <= end <= {log.size}, "
                f"got start {start}, end {end}"
            )
        yield from stream_entries(log, start, end, batch)

    def GetInclusionProof(
        self, request: log_pb2.GetInclusionProofRequest, context: Any
    ) -> log_pb2.GetInclusionProofResponse:
        ref = convert.leaf_ref_from_proto(request)
        log = self._node.log
        if int(request.tree_size) > log.size:
            log.refresh()
        size = int(request.tree_size) or log.size
        index = self._index(ref)
        leaf_hash, hashes = log.leaf_and_inclusion_proof(index, size)
        return convert.inclusion_proof_to_proto(index, size, leaf_hash, hashes)

    def GetInclusionProofs(
        self, request: log_pb2.GetInclusionProofsRequest, context: Any
    ) -> log_pb2.GetInclusionProofsResponse:
        refs = convert.leaf_refs_from_proto(request)
        log = self._node.log
        if int(request.tree_size) > log.size:
            log.refresh()
        return inclusion_proofs(log, refs, int(request.tree_size) or log.size)

    def GetConsistencyProof(
        self, request: log_pb2.GetConsistencyProofRequest, context: Any
    ) -> log_pb2.GetConsistencyProofResponse:
        log = self._node.log
        if int(request.new_size) > log.size:
            log.refresh()
        old_size, new_size = int(request.old_size), int(request.new_size) or log.size
        hashes = log.consistency_proof(old_size, new_size)
        return convert.consistency_proof_to_proto(old_size, new_size, hashes)

    def GetBundle(
        self, request: log_pb2.GetBundleRequest, context: Any
    ) -> log_pb2.GetBundleResponse:
        ref = convert.leaf_ref_from_proto(request)
        origin = str(request.origin)
        if origin and origin != self._node.home.origin:
            if self._mirrors is None:
                raise NotFoundError("log: this node mirrors no peer logs")
            index, mirrored = self._mirrors.bundle(origin, ref)
            return log_pb2.GetBundleResponse(leaf_index=index, bundle=mirrored.to_bytes())
        self._node.log.refresh()  # the command line may have appended (credex.node.pen)
        index = self._index(ref)
        now = self._clock()
        holdings = self._holdings
        with holdings.views() as views, self.publish_lock:
            bundle = holdings.own_bundle(index, now, views, shared_only=True)
        return log_pb2.GetBundleResponse(leaf_index=index, bundle=bundle.to_bytes())

    def GetReceipt(
        self, request: log_pb2.GetReceiptRequest, context: Any
    ) -> log_pb2.GetReceiptResponse:
        receipt = self._node.receipt(int(request.leaf_index), int(request.tree_size))
        return log_pb2.GetReceiptResponse(receipt=receipt)

    def GetManifest(
        self, request: log_pb2.GetManifestRequest, context: Any
    ) -> log_pb2.GetManifestResponse:
        versions, latest = versions_after(self._node.home, int(request.after_version))
        return log_pb2.GetManifestResponse(versions=versions, latest_version=latest)

"""A read-only replica node: the public Log service from a copy of the log's database.

``credex serve --replica`` runs this against a PostgreSQL hot standby (streaming
replication of the primary node's database) while the primary keeps appending and
signing. The replica never signs, never appends and holds no key:

- its checkpoint (``ReplicaLog.served``) is the largest checkpoint row with a tree size
  at most the entries the standby holds, whose root it recomputes from the stored tree
  (so it is never ahead of what it can prove). Checkpoints live in the ``checkpoints``
  table of the same database, written by the primary after the entries they cover; the
  standby replays commits in order, so it only ever sees a checkpoint after its entries,
  but the replica checks it anyway;
- receipts and bundles reuse the receipt signature the primary stored for that tree head
  (``credex.ledger.storage.receipts``): a receipt's signature covers the root, not the
  leaf, so no key is needed here. A bundle carries the bundles of the lifecycle
  statements about the record under the same checkpoint, but no attestation (that is
  signed per entry by the primary; a bundle verified for a purpose is fetched there);
- a record no longer shared (withdrawn, repaired, expired...) is withheld as on the
  primary (``credex.node.services.sharing.require_shared``);
- Submit, Witness and Query are refused with one line: ``replica: read-only node: ...``
  (PERMISSION_DENIED), on the single public TLS port (a replica binds no mTLS port).

A replica serves only its own log's bundles (no mirrors). It does no writes of any kind:
opening the stores on a hot standby only reads the catalogue (tables exist already).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from typing import Any, Final

import cbor2
import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from credex.ledger.bundle import Bundle
from credex.ledger.checkpoint import SignedNote
from credex.ledger.errors import (
    CallerNotAuthorisedError,
    InconsistentLogError,
    NotFoundError,
    OutOfRangeError,
)
from credex.ledger.indexing import lifecycle_in
from credex.ledger.log import AppendOnlyLog
from credex.ledger.manifest import Manifest
from credex.ledger.receipt import Receipt
from credex.ledger.statement import Statement
from credex.ledger.storage.base import StoredCheckpoint
from credex.ledger.storage.receipts import ReceiptSignatures
from credex.ledger.storage.sql import SqlStore
from credex.node.federation.manifests import load_chain, load_manifest
from credex.node.federation.travel import versions_after
from credex.node.home import NodeHome
from credex.node.rpc import convert
from credex.node.rpc.auth import (
    LOG_SERVICE,
    OPEN_PREFIXES,
    QUERY_SERVICE,
    SUBMIT_SERVICE,
    WITNESS_SERVICE,
    Guard,
    Registry,
)
from credex.node.rpc.limits import DEFAULT_MAX_MESSAGE_BYTES
from credex.node.rpc.log_servicer import MAX_ENTRIES_BATCH, inclusion_proofs, stream_entries
from credex.node.rpc.server import NodeServer, ServerPorts, _bind
from credex.node.rpc.tls import NodeTls
from credex.node.services.sharing import require_shared
from credex.v1 import log_pb2, log_pb2_grpc, query_pb2_grpc, submit_pb2_grpc, witness_pb2_grpc

__all__ = ["ReplicaGuard", "ReplicaLog", "ReplicaLogServicer", "create_replica_server"]

_KID_LABEL: Final = 4


class ReplicaLog:
    """The log in a (replicated) database, read only. Thread-safe.

    ``url``: the database (a hot standby's URL; the home's ``db`` by default).
    """

    def __init__(self, home: NodeHome, url: str | None = None) -> None:
        self.home = home
        self.url = url or home.db_url
        self.store = SqlStore(self.url)
        try:
            self.log = AppendOnlyLog(self.store)
            self.signatures = ReceiptSignatures.reader(self.url)
        except BaseException:
            self.store.close()
            raise
        self._lock = threading.Lock()
        #: the last checkpoint whose root was checked against the stored tree
        self._checked: StoredCheckpoint | None = None

    def close(self) -> None:
        self.log.close()
        self.store.close()
        self.signatures.close()

    def __enter__(self) -> ReplicaLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def refresh(self) -> int:
        """Adopt the entries the standby received since; returns the size held."""
        return self.log.refresh()

    def served(self) -> StoredCheckpoint | None:
        """The checkpoint this replica serves: the largest recorded one whose size is at
        most the entries held here, its root checked against the stored tree.

        Raises:
            InconsistentLogError: the stored checkpoint does not match the stored tree.
        """
        held = self.refresh()
        cp = self.store.latest_checkpoint()
        if cp is not None and cp.tree_size > held:
            # recorded after this handle read the size: take the newest one it can prove
            cp = self.store.checkpoints_around(held)[0]
        if cp is None:
            return None
        with self._lock:
            checked = self._checked
            if checked is not None and checked.tree_size == cp.tree_size:
                return cp if checked.root == cp.root else self._mismatch(cp)
        if self.log.root(cp.tree_size) != cp.root:
            self._mismatch(cp)
        with self._lock:
            if self._checked is None or self._checked.tree_size < cp.tree_size:
                self._checked = cp
        return cp

    @staticmethod
    def _mismatch(cp: StoredCheckpoint) -> StoredCheckpoint:
        raise InconsistentLogError(
            f"replica: stored checkpoint at size {cp.tree_size} does not match the stored tree"
        )

    def checkpoint(self) -> SignedNote:
        """The served checkpoint's signed note.

        Raises:
            NotFoundError: no checkpoint held yet.
        """
        cp = self.served()
        if cp is None:
            raise NotFoundError("replica: no checkpoint held yet (the primary signs them)")
        return SignedNote.from_text(cp.note)

    def checkpoint_at(self, size: int) -> SignedNote:
        """A recorded checkpoint of ``size``, if the replica holds its entries."""
        held = self.refresh()
        cp = self.store.get_checkpoint(size) if size <= held else None
        if cp is None:
            raise NotFoundError(f"checkpoint: none signed at size {size} held here")
        return SignedNote.from_text(cp.note)

    def _receipt(self, index: int, cp: StoredCheckpoint) -> Receipt:
        found = self.signatures.get(cp.tree_size)
        if found is None or found[0] != cp.root:
            raise NotFoundError(
                f"replica: no receipt signature held for checkpoint size {cp.tree_size} "
                "(the primary stores one with each checkpoint it signs)"
            )
        _, protected, signature = found
        kid = cbor2.loads(protected)[_KID_LABEL]
        path = self.log.inclusion_proof(index, cp.tree_size)
        return Receipt(protected, bytes(kid), cp.tree_size, index, tuple(path), signature)

    def _plain(self, index: int, cp: StoredCheckpoint) -> Bundle:
        st = Statement.from_bytes(self.log.entry(index).leaf)
        receipt = self._receipt(index, cp)
        return Bundle(st.with_receipts([receipt.to_bytes()]).to_bytes(), cp.note)

    def receipt(self, index: int, tree_size: int) -> bytes:
        """The receipt of entry ``index`` under the checkpoint of ``tree_size``."""
        held = self.refresh()
        cp = self.store.get_checkpoint(tree_size) if tree_size <= held else None
        if cp is None:
            raise NotFoundError(f"checkpoint: none signed at size {tree_size} held here")
        if not 0 <= index < cp.tree_size:
            raise OutOfRangeError(
                f"receipt: leaf index out of range: expected < {cp.tree_size}, got {index}"
            )
        return self._receipt(index, cp).to_bytes()

    def bundle(self, index: int, now: int, manifest: Manifest | None) -> Bundle:
        """Entry ``index`` under the served checkpoint, with the bundles of the lifecycle
        statements about it under the same checkpoint; withheld as on the primary.

        Raises:
            OutOfRangeError: the entry is not under a checkpoint held here.
            RecordWithheldError: the record is no longer shared.
        """
        cp = self.served()
        size = 0 if cp is None else cp.tree_size
        if cp is None or not 0 <= index < size:
            raise OutOfRangeError(
                f"replica: leaf index not under a checkpoint held here: expected < {size}, "
                f"got {index}"
            )
        st = Statement.from_bytes(self.log.entry(index).leaf)
        held = lifecycle_in(self.log, st.leaf_hash, size)
        require_shared(
            st,
            [s for _, s in held],
            now,
            authorised_repairers=None if manifest is None else manifest.repair_authorised,
            positions={s.leaf_hash: i for i, s in held},
        )
        own = self._plain(index, cp)
        return Bundle(
            own.statement, own.checkpoint, status=tuple(self._plain(i, cp) for i, _ in held)
        )


class ReplicaLogServicer(log_pb2_grpc.LogServicer):
    """The Log service over a ``ReplicaLog`` (sizes default to the served checkpoint's)."""

    def __init__(self, replica: ReplicaLog, *, clock: Callable[[], int]) -> None:
        self._replica = replica
        self._clock = clock

    def _manifest(self) -> Manifest | None:
        home = self._replica.home
        return load_manifest(home) if load_chain(home) else None

    def _served_size(self) -> int:
        cp = self._replica.served()
        if cp is None:
            raise NotFoundError("replica: no checkpoint held yet (the primary signs them)")
        return cp.tree_size

    def GetCheckpoint(
        self, request: log_pb2.GetCheckpointRequest, context: Any
    ) -> log_pb2.GetCheckpointResponse:
        size = int(request.tree_size)
        r = self._replica
        return convert.checkpoint_to_proto(r.checkpoint_at(size) if size else r.checkpoint())

    def GetEntries(
        self, request: log_pb2.GetEntriesRequest, context: Any
    ) -> Iterator[log_pb2.GetEntriesResponse]:
        start, end = int(request.start), int(request.end)
        batch = min(int(request.max_batch) or MAX_ENTRIES_BATCH, MAX_ENTRIES_BATCH)
        log = self._replica.log
        held = self._replica.refresh()
        if not 0 <= start <= end <= held:
            raise OutOfRangeError(
                f"log: entry range invalid: expected 0 <= start <= end <= {held}, "
                f"got start {start}, end {end}"
            )
        yield from stream_entries(log, start, end, batch)

    def GetInclusionProof(
        self, request: log_pb2.GetInclusionProofRequest, context: Any
    ) -> log_pb2.GetInclusionProofResponse:
        ref = convert.leaf_ref_from_proto(request)
        log = self._replica.log
        self._replica.refresh()
        size = int(request.tree_size) or self._served_size()
        index = log.index_of(ref) if isinstance(ref, bytes) else ref
        leaf_hash, hashes = log.leaf_and_inclusion_proof(index, size)
        return convert.inclusion_proof_to_proto(index, size, leaf_hash, hashes)

    def GetInclusionProofs(
        self, request: log_pb2.GetInclusionProofsRequest, context: Any
    ) -> log_pb2.GetInclusionProofsResponse:
        refs = convert.leaf_refs_from_proto(request)
        self._replica.refresh()
        size = int(request.tree_size) or self._served_size()
        return inclusion_proofs(self._replica.log, refs, size)

    def GetConsistencyProof(
        self, request: log_pb2.GetConsistencyProofRequest, context: Any
    ) -> log_pb2.GetConsistencyProofResponse:
        self._replica.refresh()
        old_size, new_size = int(request.old_size), int(request.new_size) or self._served_size()
        hashes = self._replica.log.consistency_proof(old_size, new_size)
        return convert.consistency_proof_to_proto(old_size, new_size, hashes)

    def GetBundle(
        self, request: log_pb2.GetBundleRequest, context: Any
    ) -> log_pb2.GetBundleResponse:
        ref = convert.leaf_ref_from_proto(request)
        origin = str(request.origin)
        if origin and origin != self._replica.home.origin:
            raise NotFoundError("log: this replica serves only its own log, no mirrors")
        self._replica.refresh()
        index = self._replica.log.index_of(ref) if isinstance(ref, bytes) else ref
        bundle = self._replica.bundle(index, self._clock(), self._manifest())
        return log_pb2.GetBundleResponse(leaf_index=index, bundle=bundle.to_bytes())

    def GetReceipt(
        self, request: log_pb2.GetReceiptRequest, context: Any
    ) -> log_pb2.GetReceiptResponse:
        receipt = self._replica.receipt(int(request.leaf_index), int(request.tree_size))
        return log_pb2.GetReceiptResponse(receipt=receipt)

    def GetManifest(
        self, request: log_pb2.GetManifestRequest, context: Any
    ) -> log_pb2.GetManifestResponse:
        versions, latest = versions_after(self._replica.home, int(request.after_version))
        return log_pb2.GetManifestResponse(versions=versions, latest_version=latest)


class ReplicaGuard(Guard):
    """``Guard`` that refuses every method outside the open Log/health/reflection set
    with one line naming it: a replica accepts no writes and answers no queries."""

    def _authorise(self, method: str, context: Any) -> None:
        if not method.startswith(OPEN_PREFIXES):
            name = method.rsplit("/", 1)[-1] or method
            raise CallerNotAuthorisedError(
                f"replica: read-only node: {name} is served by the primary, not by a replica"
            )
        super()._authorise(method, context)


def create_replica_server(
    replica: ReplicaLog,
    *,
    listen: str = "127.0.0.1:0",
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    max_workers: int = 32,
    max_concurrent_rpcs: int = 256,
    san: tuple[str, ...] = (),
    clock: Callable[[], int] = lambda: int(time.time()),
) -> tuple[NodeServer, ServerPorts]:
    """Create, bind and start a replica's server: one public TLS port (``ports.mtls`` is 0).

    Raises:
        ConfigError: TLS material unreadable, or the port cannot be bound.
    """
    home = replica.home
    tls = NodeTls(home.path, name=home.region)
    tls.ensure(now=clock(), san=san)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="credex-replica"),
        interceptors=[ReplicaGuard(Registry(tls))],
        options=[
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max_message_bytes),
            ("grpc.so_reuseport", 0),
        ],
        maximum_concurrent_rpcs=max_concurrent_rpcs,
    )
    servicer = ReplicaLogServicer(replica, clock=clock)
    log_pb2_grpc.add_LogServicer_to_server(servicer, server)  # type: ignore[no-untyped-call]
    # registered only so that the guard refuses them by name (never reached)
    submit_pb2_grpc.add_SubmitServicer_to_server(submit_pb2_grpc.SubmitServicer(), server)  # type: ignore[no-untyped-call]
    witness_pb2_grpc.add_WitnessServicer_to_server(witness_pb2_grpc.WitnessServicer(), server)  # type: ignore[no-untyped-call]
    query_pb2_grpc.add_QueryServicer_to_server(query_pb2_grpc.QueryServicer(), server)  # type: ignore[no-untyped-call]
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ("", LOG_SERVICE):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    for name in (SUBMIT_SERVICE, WITNESS_SERVICE, QUERY_SERVICE):
        health_servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
    reflection.enable_server_reflection(
        (LOG_SERVICE, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    creds = grpc.ssl_server_credentials([(tls.server_key_pem(), tls.server_cert_pem())])
    port = _bind(server, listen, creds)
    server.start()
    ports = ServerPorts(port, 0)
    return NodeServer(server, ports, health_servicer), ports

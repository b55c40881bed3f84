"""Following peers: one verified sync round per peer, into its mirror.

- ``add_peers_from_manifest``: follow every other member of the manifest (``peers.json``).
- ``sync_peer``: ``PeerSync`` over a ``PeerClient`` into the peer's mirror; a split view
  is stored as evidence; the outcome is recorded in ``peers.json`` (``peers status``);
  after a clean round, the peer log's signature over the mirrored root is kept
  (``HOME/mirrors/<slug>.root.json``) so the mirror can serve bundles.
- ``follow_round`` / ``follow_until`` (``credex serve --follow``): sync every peer, then
  publish and collect cosignatures, again and again. Whatever one peer does (a refused
  checkpoint, garbage, an exception nobody foresaw) is logged in one line, recorded in
  its status, and the round goes on with the next peer: one peer never stops the
  federation's syncing and cosigning.

Nothing here prints; statuses and log lines carry sizes and reasons, never keys or bodies.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable

from credex.ledger.errors import (
    CredexError,
    InconsistentLogError,
    VerificationError,
)
from credex.ledger.evidence import evidence_from_error
from credex.ledger.log import AppendOnlyLog
from credex.ledger.manifest import Manifest
from credex.ledger.merkle import leaf_hash
from credex.ledger.receipt import Receipt
from credex.ledger.storage.sql import SqlStore
from credex.ledger.storage.witness import WitnessStore
from credex.ledger.trust import TrustedLog
from credex.node.federation.manifests import (
    load_manifest,
)
from credex.node.federation.members import (
    member_ca_pem,
    peer_clients,
)
from credex.node.federation.mirrors import root_path
from credex.node.federation.peers import PeerRegistry, mirror_url
from credex.node.federation.sync import PeerSync, SyncResult
from credex.node.federation.witnessing import collect_cosignatures, failure_reason
from credex.node.files import write_json
from credex.node.home import NodeHome
from credex.node.local import LocalNode
from credex.node.rpc.client import DEFAULT_TIMEOUT_S, PeerClient

__all__ = [
    "add_peers_from_manifest",
    "follow_round",
    "follow_until",
    "sync_peer",
]

logger = logging.getLogger("credex.federation")


def add_peers_from_manifest(home: NodeHome, manifest: Manifest, now: int) -> list[str]:
    """Follow every other member listing a TLS chain (``peers.json``); returns origins."""
    reg = PeerRegistry(home)
    added = []
    for m in manifest.latest.members:
        if m.origin == home.origin or m.tls_chain_pem is None:
            continue
        reg.add(m.origin, m.endpoint, member_ca_pem(m).decode("ascii"), now)
        added.append(m.origin)
    return added


def _keep_root_signature(
    home: NodeHome, client: PeerClient, mirror: AppendOnlyLog, log: TrustedLog, origin: str
) -> bool:
    """Keep the peer log's receipt signature over the mirror's latest root (True if kept)."""
    held = mirror.latest_checkpoint()
    if held is None or held.tree_size == 0:
        return False
    path = root_path(home, origin)
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("tree_size") == held.tree_size:
            return True
    except (FileNotFoundError, ValueError):
        pass
    index = held.tree_size - 1
    r = Receipt.from_bytes(client.get_receipt(index, held.tree_size))
    if r.tree_size != held.tree_size:
        return False  # the peer moved on; the next round catches up
    if r.log_kid != log.kid or r.root_for(leaf_hash(mirror.entry(index).leaf)) != held.root:
        raise VerificationError("sync: peer receipt does not sign the mirrored root")
    r.verify_signature(log.public_key, held.root)
    write_json(
        path,
        {
            "tree_size": r.tree_size,
            "root": held.root.hex(),
            "log_kid": r.log_kid.hex(),
            "protected": r.protected.hex(),
            "signature": r.signature.hex(),
        },
    )
    return True


def sync_peer(
    home: NodeHome,
    origin: str,
    now: int,
    *,
    manifest: Manifest | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    batch: int = 1000,
) -> SyncResult:
    """One sync round with the peer ``origin`` of ``peers.json``; status recorded.

    Returns:
        The round's result; ``error`` says why entries or the checkpoint were refused
        (also for an unreachable peer: the mirror is intact and resumes next round).

    Raises:
        InconsistentLogError: a split view (rollback, two roots for one size, failed
            consistency); evidence is stored in the node's witness store first.
        NotFoundError: ``origin`` is not a followed peer.
    """
    trust = manifest if manifest is not None else load_manifest(home)
    reg = PeerRegistry(home)
    peer = reg.get(origin)
    log = trust.log_for_origin(origin)
    mirror_store = SqlStore(mirror_url(home, origin))
    mirror = AppendOnlyLog(mirror_store)

    def status(result: SyncResult) -> SyncResult:
        reg.record_status(
            origin,
            {
                "checkpoint_size": result.checkpoint_size,
                "mirrored_size": result.mirrored_size,
                "error": result.error,
                "updated_at": now,
            },
        )
        return result

    try:
        with PeerClient(peer.endpoint, ca_pem=peer.ca_pem.encode(), timeout_s=timeout_s) as c:
            try:
                result = PeerSync(origin, c, trust, mirror, batch=batch).sync_once(now)
                if result.error is None and log is not None:
                    _keep_root_signature(home, c, mirror, log, origin)
            except InconsistentLogError as e:
                held = mirror.latest_checkpoint()
                if log is not None and e.old_checkpoint and e.new_checkpoint:
                    with WitnessStore(home.db_url) as store:
                        store.add_evidence(
                            evidence_from_error(
                                e, log_note_name=log.note_key_name, log_key=log.public_key
                            ),
                            now,
                        )
                size = held.tree_size if held is not None else 0
                status(SyncResult(origin, size, mirror.size, 0, str(e)))
                raise
            except CredexError as e:
                held = mirror.latest_checkpoint()
                size = held.tree_size if held is not None else 0
                return status(SyncResult(origin, size, mirror.size, 0, str(e)))
        return status(result)
    finally:
        mirror.close()
        mirror_store.close()


def follow_round(
    home: NodeHome,
    node: LocalNode,
    manifest: Manifest,
    clock: Callable[[], int],
    *,
    stop: threading.Event | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> dict[str, str]:
    """One round: sync every followed peer, then publish and collect cosignatures.

    Returns:
        peer origin (or ``"cosignatures"``) -> why it failed this round, for the peers
        that did; each is also logged in one line. Nothing a peer does escapes.
    """
    failed: dict[str, str] = {}
    for peer in PeerRegistry(home).list():
        if stop is not None and stop.is_set():
            return failed
        try:
            r = sync_peer(home, peer.origin, clock(), manifest=manifest, timeout_s=timeout_s)
            if r.error:
                failed[peer.origin] = r.error
                logger.warning(
                    "peer %s: refused: %s", peer.origin, failure_reason(CredexError(r.error))
                )
        except Exception as e:
            failed[peer.origin] = failure_reason(e)
            logger.warning("peer %s: %s", peer.origin, failed[peer.origin])
            if not isinstance(e, CredexError):
                logger.debug("peer %s: unexpected error", peer.origin, exc_info=e)
                _record_failure(home, peer.origin, failed[peer.origin], clock())
    errors: dict[str, str] = {}
    try:
        clients = peer_clients(home, manifest, timeout_s=timeout_s)
        try:
            collect_cosignatures(node, home, manifest, clients, clock(), errors=errors)
        finally:
            for c in clients.values():
                c.close()
    except Exception as e:
        failed["cosignatures"] = failure_reason(e)
        logger.warning("cosignatures: %s", failed["cosignatures"])
    failed.update({f"witness {o}": why for o, why in errors.items()})
    return failed


def _record_failure(home: NodeHome, origin: str, reason: str, now: int) -> None:
    """Keep an unexpected failure in the peer's status (sizes as last recorded)."""
    try:
        reg = PeerRegistry(home)
        status = dict(reg.get(origin).status)
        status.update({"error": reason, "updated_at": now})
        reg.record_status(origin, status)
    except Exception as e:
        logger.warning("peer %s: status not recorded: %s", origin, failure_reason(e))


def follow_until(
    home: NodeHome,
    node: LocalNode,
    manifest: Manifest,
    every: float,
    stop: threading.Event,
    clock: Callable[[], int],
) -> None:
    """``follow_round`` every ``every`` seconds until ``stop`` is set (the ``credex serve
    --follow`` thread). A round that fails as a whole is logged and the next one runs."""
    while not stop.is_set():
        try:
            follow_round(home, node, manifest, clock, stop=stop)
        except Exception as e:
            logger.warning("follow: round failed: %s", failure_reason(e))
        stop.wait(every)

"""Following peers: one verified sync round per peer, into its mirror.

- ``add_peers_from_manifest``: follow every other member of the manifest (``peers.json``);
  ``follow_members``: the same for members a new version added (status kept).
- ``sync_peer``: ``PeerSync`` over a ``PeerClient`` into the peer's mirror; a split view
  is stored as evidence; the outcome is recorded in ``peers.json`` (``peers status``);
  after a clean round, the peer log's signature over the mirrored root is kept
  (``HOME/mirrors/<slug>.root.json``) so the mirror can serve bundles.

Nothing here prints; statuses carry sizes and reasons, never keys or bodies.
"""

from __future__ import annotations

import json

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
)
from credex.node.federation.mirrors import root_path
from credex.node.federation.peers import PeerRegistry, mirror_url
from credex.node.federation.sync import PeerSync, SyncResult
from credex.node.files import write_json
from credex.node.home import NodeHome
from credex.node.rpc.client import DEFAULT_TIMEOUT_S, PeerClient

__all__ = [
    "add_peers_from_manifest",
    "follow_members",
    "sync_peer",
]


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


def follow_members(home: NodeHome, manifest: Manifest, now: int) -> list[str]:
    """Follow the members of ``manifest`` this node does not follow yet, or whose endpoint
    or CA changed (a version installed while the server runs); others keep their status.
    Returns the origins added or updated."""
    reg = PeerRegistry(home)
    known = {p.origin: p for p in reg.list()}
    changed = []
    for m in manifest.latest.members:
        if m.origin == home.origin or m.tls_chain_pem is None:
            continue
        ca = member_ca_pem(m).decode("ascii")
        held = known.get(m.origin)
        if held is None or held.endpoint != m.endpoint or held.ca_pem != ca:
            reg.add(m.origin, m.endpoint, ca, now)
            changed.append(m.origin)
    return changed


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

"""Following peers: one verified sync round per peer, into its mirror.

- ``add_peers_from_manifest``: follow every other member of the manifest (``peers.json``);
  ``follow_members``: the same for members a new version added (status kept).
- ``sync_peer``: ``PeerSync`` over a ``PeerClient`` into the peer's mirror; a split view
  is stored as evidence; the outcome is recorded in ``peers.json`` (``peers status``);
  after a clean round, the peer log's signature over the mirrored root is kept
  (``HOME/mirrors/<slug>.root.json``) so the mirror can serve bundles, and the newest
  mirrored checkpoint meeting the witness quorum with its root signature
  (``cosigned.keep_cosigned``) so bundles and reports a bank verifies can rest on it.
- ``follow_until`` (``credex serve --follow``): each round, with the manifest in force,
  fetch the versions this node lacks (``travel``), follow new members, then
  ``follow_round``: sync every peer, publish and collect cosignatures. Whatever one
  peer does (a refused checkpoint, garbage, an exception nobody foresaw) is logged in
  one line, recorded in its status, and the round goes on with the next peer: one peer
  never stops the federation's syncing and cosigning.

Nothing here prints; statuses and log lines carry sizes and reasons, never keys or bodies.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from credex.ledger.errors import (
    CredexError,
    InconsistentLogError,
    IndexRootMismatchError,
)
from credex.ledger.evidence import evidence_from_error
from credex.ledger.index_map import MAP_VERSION
from credex.ledger.log import AppendOnlyLog
from credex.ledger.log_index import LogIndex
from credex.ledger.manifest import Manifest
from credex.ledger.storage.index_store import SqlNodeStore
from credex.ledger.storage.sql import SqlStore
from credex.ledger.storage.witness import WitnessStore
from credex.ledger.trust import TrustedLog
from credex.node.federation.cosigned import keep_cosigned, root_signature
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
from credex.node.federation.travel import fetch_versions
from credex.node.federation.witnessing import collect_cosignatures, failure_reason
from credex.node.files import write_json
from credex.node.home import NodeHome
from credex.node.local import LocalNode
from credex.node.rpc.client import DEFAULT_TIMEOUT_S, PeerClient

__all__ = [
    "add_peers_from_manifest",
    "fetch_manifest_versions",
    "follow_members",
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
    sig = root_signature(client, mirror, log, held.tree_size, held.root)
    if sig is None:
        return False  # the peer moved on; the next round catches up
    write_json(path, sig.to_json_value())
    return True


def _keep_cosigned(
    home: NodeHome,
    origin: str,
    client: PeerClient,
    store: SqlStore,
    mirror: AppendOnlyLog,
    trust: Manifest,
) -> None:
    """``keep_cosigned`` after a clean round; a failure is logged in one line and leaves
    the kept checkpoint as it was (the round itself succeeded)."""
    try:
        keep_cosigned(home, origin, client, store, mirror, trust)
    except CredexError as e:
        logger.warning("peer %s: cosigned checkpoint not kept: %s", origin, failure_reason(e))


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
    url = mirror_url(home, origin)
    mirror_store = SqlStore(url)
    index_store = SqlNodeStore(url)
    try:  # the mirror rebuilds the peer's index as it syncs (docs/spec.md §5.2)
        mirror = AppendOnlyLog(mirror_store, index=LogIndex(index_store))
    except BaseException:
        mirror_store.close()
        index_store.close()
        raise

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
                    _keep_cosigned(home, origin, c, mirror_store, mirror, trust)
            except IndexRootMismatchError as e:
                keep_index_evidence(home, origin, e, now)
                held = mirror.latest_checkpoint()
                size = held.tree_size if held is not None else 0
                status(SyncResult(origin, size, mirror.size, 0, str(e)))
                raise
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
        index_store.close()


def keep_index_evidence(home: NodeHome, origin: str, e: IndexRootMismatchError, now: int) -> Path:
    """Keep a refused checkpoint's index evidence in ``evidence/`` of the home: the signed
    note and the root this node rebuilt from the entries it committed to (anyone holding
    the log's entries up to that size can rebuild it: docs/spec.md §5.1). Returns the file."""
    from credex.ledger.checkpoint import SignedNote

    cp = SignedNote.from_text(e.checkpoint).checkpoint
    digest = hashlib.sha256(origin.encode()).hexdigest()[:12]
    path = home.path / "evidence" / f"index-root-{digest}-{cp.size}.json"
    path.parent.mkdir(exist_ok=True)
    write_json(
        path,
        {
            "v": 1,
            "kind": "index-root-mismatch",
            "origin": origin,
            "size": cp.size,
            "map_version": MAP_VERSION,
            "checkpoint": e.checkpoint,
            "rebuilt_root": e.rebuilt.hex(),
            "found_at": now,
        },
    )
    return path


def follow_round(
    home: NodeHome,
    node: LocalNode,
    manifest: Manifest,
    clock: Callable[[], int],
    *,
    stop: threading.Event | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> dict[str, str]:
    """One round: sync every followed peer that is still a member of ``manifest``, then
    publish and collect cosignatures.

    Returns:
        peer origin (or ``"cosignatures"``) -> why it failed this round, for the peers
        that did; each is also logged in one line. Nothing a peer does escapes.
    """
    failed: dict[str, str] = {}
    members = {m.origin for m in manifest.latest.members}
    for peer in PeerRegistry(home).list():
        if stop is not None and stop.is_set():
            return failed
        if peer.origin not in members:
            continue  # no longer a member: its mirror is kept, not followed
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


def fetch_manifest_versions(
    home: NodeHome, manifest: Manifest, clock: Callable[[], int], *, timeout_s: float
) -> dict[str, str]:
    """Fetch the manifest versions this node lacks from every member (``travel``); each
    installed or refused version is logged in one line. Returns origin -> why it failed."""
    failed: dict[str, str] = {}
    clients = peer_clients(home, manifest, timeout_s=timeout_s)
    try:
        for origin, client in clients.items():
            try:
                fetched = fetch_versions(home, client, origin, clock())
            except Exception as e:
                failed[origin] = failure_reason(e)
                logger.warning("manifest from %s: %s", origin, failed[origin])
                continue
            if fetched.installed:
                shown = ", ".join(str(v) for v in fetched.installed)
                logger.info("manifest: installed version %s from %s", shown, origin)
            if fetched.error:
                failed[origin] = fetched.error
                logger.warning("manifest from %s: %s", origin, fetched.error)
    finally:
        for c in clients.values():
            c.close()
    return failed


def follow_until(
    home: NodeHome,
    node: LocalNode,
    current: Callable[[], Manifest | None],
    every: float,
    stop: threading.Event,
    clock: Callable[[], int],
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> None:
    """Every ``every`` seconds until ``stop`` is set (the ``credex serve --follow``
    thread), with the manifest in force each round (``current``, a ``ManifestWatch``):
    fetch manifest versions this node lacks, follow new members, then ``follow_round``.
    A round that fails as a whole is logged and the next one runs."""
    waiting = False
    while not stop.is_set():
        manifest = current()
        if manifest is None:
            if not waiting:
                logger.info("follow: no federation manifest yet (credex federation import)")
                waiting = True
            stop.wait(every)
            continue
        waiting = False
        try:
            node.log.refresh()  # entries the command line appended
            fetch_manifest_versions(home, manifest, clock, timeout_s=timeout_s)
            manifest = current() or manifest
            for origin in follow_members(home, manifest, clock()):
                logger.info("following %s", origin)
            follow_round(home, node, manifest, clock, stop=stop, timeout_s=timeout_s)
        except Exception as e:
            logger.warning("follow: round failed: %s", failure_reason(e))
        stop.wait(every)

"""Federation at work: witness peers, collect cosignatures, follow peers, serve mirrors.

Everything here runs against real peers through ``PeerClient`` (gRPC over TLS) and the
node's files::

    HOME/federation/cosigned.json   witness origin -> the size it last cosigned for us
    HOME/mirrors/<slug>.root.json   per mirrored origin: the peer log's receipt signature
                                    over the root of one mirrored checkpoint

- ``witness_backend``: the Witness service of ``credex serve`` (``ledger.witness.Witness``
  over the node's ``WitnessStore``), cosigning only the *other* members' logs.
- ``collect_cosignatures``: publish our checkpoint, ask every other member's witness to
  cosign it (C2SP tlog-witness, with one retry from the witness's size on a 409), verify
  each returned cosignature against the manifest and re-record the merged note, so our
  bundles carry the cosignatures a verifier's k-of-n quorum needs.
- ``sync_peer``: ``PeerSync`` over a ``PeerClient`` into the peer's mirror; a split view
  is stored as evidence; the outcome is recorded in ``peers.json`` (``peers status``);
  after a clean round, the peer log's signature over the mirrored root is kept.
- ``MirrorBundles``: bundles of mirrored records (``GetBundle`` with ``origin``). An
  RFC 9942 receipt signs only the tree root, so the peer's signature over the root at
  size R plus the mirror's own inclusion path is a valid receipt for any leaf below R.

Nothing here prints; errors and statuses carry sizes and reasons, never keys or bodies.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from credex.ledger.bundle import Bundle
from credex.ledger.checkpoint import SignedNote, verify_cosignature
from credex.ledger.errors import (
    CredexError,
    FormatError,
    InconsistentLogError,
    NotFoundError,
    OutOfRangeError,
    SignatureError,
    VerificationError,
)
from credex.ledger.evidence import evidence_from_error
from credex.ledger.keys import SigningKey
from credex.ledger.log import AppendOnlyLog
from credex.ledger.manifest import Manifest, Member
from credex.ledger.merkle import leaf_hash
from credex.ledger.receipt import Receipt
from credex.ledger.statement import Statement
from credex.ledger.storage.sql import SqlStore
from credex.ledger.storage.witness import WitnessStore
from credex.ledger.trust import TrustedLog
from credex.ledger.witness import Witness
from credex.node.federation.manifests import (
    FEDERATION_DIR,
    WITNESS_KEY_FILE,
    load_chain,
    load_manifest,
)
from credex.node.federation.peers import PeerRegistry, mirror_slug, mirror_url
from credex.node.federation.sync import PeerSync, SyncResult
from credex.node.home import NodeHome, read_secret, write_json
from credex.node.local import LocalNode
from credex.node.rpc.client import DEFAULT_TIMEOUT_S, PeerClient
from credex.node.rpc.errors import witness_size_of
from credex.node.rpc.tls import NodeTls
from credex.node.services.sharing import lifecycle_in, require_shared

__all__ = [
    "ManifestWitness",
    "MirrorBundles",
    "WitnessClient",
    "add_peers_from_manifest",
    "collect_cosignatures",
    "federation_manifest",
    "member_ca_pem",
    "peer_clients",
    "sync_peer",
    "witness_backend",
]

logger = logging.getLogger("credex.federate")
_COSIGNED_FILE: Final = "cosigned.json"
_PEM_RE: Final = re.compile(
    rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\r?\n?", re.DOTALL
)


def federation_manifest(home: NodeHome) -> Manifest | None:
    """The node's verified manifest, or None if it has none."""
    return load_manifest(home) if load_chain(home) else None


def member_ca_pem(member: Member) -> bytes:
    """The member's node CA (its ``tls_chain_pem`` after the node certificate).

    Raises:
        NotFoundError: the member lists no TLS chain.
    """
    if member.tls_chain_pem is None:
        raise NotFoundError(f"federation: member {member.region} lists no tls chain")
    return b"".join(_PEM_RE.findall(member.tls_chain_pem)[1:])


def _member(manifest: Manifest, origin: str) -> Member:
    for m in manifest.latest.members:
        if m.origin == origin:
            return m
    raise NotFoundError(f"federation: {origin!r} is not a member")


# --- the witness --------------------------------------------------------------------------------
class ManifestWitness:
    """``WitnessBackend`` for ``create_server``: cosigns the other members' logs."""

    def __init__(self, witness: Witness, store: WitnessStore, clock: Callable[[], int]) -> None:
        self.witness = witness
        self.store = store
        self._clock = clock

    def add_checkpoint(self, old_size: int, proof: Sequence[bytes], note_text: str) -> str:
        sig = self.witness.add_checkpoint(old_size, proof, note_text, self._clock())
        return sig.to_line()

    def close(self) -> None:
        self.store.close()


def witness_backend(
    home: NodeHome, manifest: Manifest, *, clock: Callable[[], int], db_url: str | None = None
) -> ManifestWitness:
    """The node's witness over ``manifest``: name and key from its member entry
    (``keys/witness.key``), logs = every other member, state in the node database."""
    me = _member(manifest, home.origin)
    key = SigningKey(read_secret(home.keys_dir / WITNESS_KEY_FILE))
    if key.public_key != me.witness_key:
        raise VerificationError("federation: keys/witness.key is not this member's witness key")
    logs = {
        m.origin: TrustedLog(m.origin, m.log_note_name, m.log_key)
        for m in manifest.latest.members
        if m.origin != home.origin
    }
    store = WitnessStore(db_url or home.db_url)
    return ManifestWitness(Witness(me.witness_name, key, logs, store), store, clock)


# --- cosignatures ---------------------------------------------------------------------------
class WitnessClient(Protocol):
    """What collecting cosignatures needs from a peer (``PeerClient``)."""

    def add_checkpoint(self, old_size: int, proof: Sequence[bytes], note_text: str) -> str: ...


def _cosigned_path(home: NodeHome) -> Path:
    return home.path / FEDERATION_DIR / _COSIGNED_FILE


def _cosigned(home: NodeHome) -> dict[str, int]:
    try:
        raw = json.loads(_cosigned_path(home).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError as e:
        raise FormatError("federation: cosigned.json is not valid json") from e
    return {str(k): int(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def peer_clients(
    home: NodeHome, manifest: Manifest, *, timeout_s: float = DEFAULT_TIMEOUT_S
) -> dict[str, PeerClient]:
    """A ``PeerClient`` per other member with an mTLS endpoint and TLS chain, using this
    node's certificate as client identity. The caller closes them."""
    tls = NodeTls(home.path, name=home.region)
    cert, key = tls.server_cert_pem(), tls.server_key_pem()
    out: dict[str, PeerClient] = {}
    for m in manifest.latest.members:
        if m.origin == home.origin or m.tls_chain_pem is None or m.mtls_endpoint is None:
            continue
        out[m.origin] = PeerClient(
            m.endpoint,
            mtls_endpoint=m.mtls_endpoint,
            ca_pem=member_ca_pem(m),
            client_cert=cert,
            client_key=key,
            timeout_s=timeout_s,
        )
    return out


def _ask(client: WitnessClient, node: LocalNode, old: int, note: SignedNote) -> tuple[str, int]:
    """(cosignature lines, the size they cosign from) with one retry on a 409."""
    size = note.checkpoint.size

    def proof(from_size: int) -> list[bytes]:
        if 0 < from_size < size:
            return node.log.consistency_proof(from_size, size)
        return []

    if old > size:
        old = 0
    try:
        return client.add_checkpoint(old, proof(old), note.to_text()), old
    except OutOfRangeError as e:
        witness_size = witness_size_of(e)
        if witness_size is None or witness_size == old or witness_size > size:
            raise
        return client.add_checkpoint(witness_size, proof(witness_size), note.to_text()), old


def collect_cosignatures(
    node: LocalNode,
    home: NodeHome,
    manifest: Manifest,
    clients: Mapping[str, WitnessClient],
    now: int,
    *,
    errors: dict[str, str] | None = None,
) -> SignedNote:
    """Publish our checkpoint, collect the other members' cosignatures, re-record it.

    ``clients`` maps member origins to their Witness clients. A witness that fails is
    skipped (its reason goes to ``errors`` when given); a returned cosignature that does
    not verify with the member's witness key is dropped.

    Returns:
        The checkpoint note with every cosignature gathered (stored as the latest note).
    """
    note = node.publish_checkpoint(now)
    cp = note.checkpoint
    cosigned = _cosigned(home)
    merged = note
    for m in manifest.latest.members:
        client = clients.get(m.origin)
        if m.origin == home.origin or client is None:
            continue
        try:
            lines, _ = _ask(client, node, cosigned.get(m.origin, 0), note)
            got = SignedNote.from_text(note.body + "\n" + lines)
            sigs = [s for s in got.signatures if s.name == m.witness_name]
            verify_cosignature(got, m.witness_name, m.witness_key)
            if not sigs:  # pragma: no cover - verify_cosignature found one
                raise SignatureError("federation: no cosignature returned")
        except CredexError as e:
            logger.warning("witness %s did not cosign size %d: %s", m.region, cp.size, e)
            if errors is not None:
                errors[m.origin] = str(e)
            continue
        for s in sigs:
            merged = merged.with_signature(s)
        cosigned[m.origin] = cp.size
    if merged is not note:
        node.log.record_checkpoint(cp.size, cp.root, merged.to_text(), now)
        write_json(_cosigned_path(home), cosigned)
    return merged


# --- peer sync ----------------------------------------------------------------------------
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


def _root_path(home: NodeHome, origin: str) -> Path:
    (home.path / "mirrors").mkdir(exist_ok=True)
    return home.path / "mirrors" / f"{mirror_slug(origin)}.root.json"


def _keep_root_signature(
    home: NodeHome, client: PeerClient, mirror: AppendOnlyLog, log: TrustedLog, origin: str
) -> bool:
    """Keep the peer log's receipt signature over the mirror's latest root (True if kept)."""
    held = mirror.latest_checkpoint()
    if held is None or held.tree_size == 0:
        return False
    path = _root_path(home, origin)
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


# --- bundles from mirrors -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _RootSignature:
    tree_size: int
    root: bytes
    log_kid: bytes
    protected: bytes
    signature: bytes


class MirrorBundles:
    """``MirrorBackend`` for ``create_server``: bundles of the peers this node mirrors.

    A mirrored record is served with its lifecycle statements (``status``) up to the
    mirror's signed root, and not at all once it is repaired, withdrawn, corrected or
    expired (``credex.node.services.sharing``): the peer stops sharing it as the issuer does.
    """

    def __init__(self, home: NodeHome, clock: Callable[[], int] | None = None) -> None:
        self.home = home
        self._clock = clock or (lambda: int(time.time()))
        self._urls: dict[str, str] = {}
        self._lock = threading.Lock()

    def _url(self, origin: str) -> str:
        with self._lock:
            url = self._urls.get(origin)
            if url is None:
                url = self._urls[origin] = mirror_url(self.home, origin)
            return url

    def _root(self, origin: str) -> _RootSignature:
        try:
            raw: dict[str, Any] = json.loads(
                _root_path(self.home, origin).read_text(encoding="utf-8")
            )
            return _RootSignature(
                int(raw["tree_size"]),
                bytes.fromhex(raw["root"]),
                bytes.fromhex(raw["log_kid"]),
                bytes.fromhex(raw["protected"]),
                bytes.fromhex(raw["signature"]),
            )
        except FileNotFoundError as e:
            raise NotFoundError(f"mirror: no signed root of {origin!r} held here") from e
        except (ValueError, KeyError, TypeError) as e:
            raise FormatError(f"mirror: signed root of {origin!r} is malformed") from e

    def origins(self) -> list[str]:
        """The origins this node holds a signed mirror root for."""
        return [
            p.origin
            for p in PeerRegistry(self.home).list()
            if _root_path(self.home, p.origin).exists()
        ]

    def bundle(self, origin: str, ref: int | bytes) -> tuple[int, Bundle]:
        """(index, bundle with status) of a mirrored record that is still shared.

        Raises:
            NotFoundError: ``origin`` not mirrored here, or no such leaf.
            OutOfRangeError: an index beyond the mirror's signed root.
            RecordWithheldError: the record is no longer shared (repaired, ...).
        """
        with self.view(origin) as view:
            index = view.index_of(ref)
            return index, view.bundle(index, self._clock())

    @contextmanager
    def view(self, origin: str) -> Iterator[MirrorView]:
        """A read view of ``origin``'s mirror up to its signed root (closed on exit)."""
        root = self._root(origin)
        store = SqlStore(self._url(origin))
        try:
            with AppendOnlyLog(store) as mirror:
                yield MirrorView(origin, mirror, root)
        finally:
            store.close()


@dataclass(frozen=True, slots=True)
class MirrorView:
    """One mirrored log as far as its signed root: entries, status and bundles."""

    origin: str
    log: AppendOnlyLog
    root: _RootSignature

    @property
    def size(self) -> int:
        return self.root.tree_size

    def index_of(self, ref: int | bytes) -> int:
        index = self.log.index_of(ref) if isinstance(ref, bytes) else ref
        if not 0 <= index < self.root.tree_size:
            raise OutOfRangeError(
                f"mirror: leaf index out of range: expected < {self.root.tree_size}, got {index}"
            )
        return index

    def _plain(self, index: int, note: str) -> Bundle:
        root = self.root
        path = self.log.inclusion_proof(index, root.tree_size)
        receipt = Receipt(
            root.protected, root.log_kid, root.tree_size, index, tuple(path), root.signature
        )
        entry = self.log.entry(index)
        st = Statement.from_bytes(entry.leaf).with_receipts([receipt.to_bytes()])
        return Bundle(st.to_bytes(), note)

    def bundle(self, index: int, now: int) -> Bundle:
        """The bundle of entry ``index`` with its lifecycle statements, if still shared.

        Raises:
            RecordWithheldError: the record is no longer shared at ``now``.
        """
        target = Statement.from_bytes(self.log.entry(index).leaf)
        lifecycle = lifecycle_in(self.log, target.leaf_hash, self.root.tree_size)
        require_shared(target, lifecycle, now)
        note = self.log.checkpoint(self.root.tree_size).note
        own = self._plain(index, note)
        status = tuple(self._plain(i, note) for i, _ in lifecycle)
        return Bundle(own.statement, own.checkpoint, status=status)

"""Serving bundles of mirrored records (``GetBundle`` with ``origin``).

::

    HOME/mirrors/<slug>.root.json      per mirrored origin: the peer log's receipt
                                       signature over the root of the latest mirrored
                                       checkpoint
    HOME/mirrors/<slug>.cosigned.json  the same over the root of the newest mirrored
                                       checkpoint that met the witness quorum when it was
                                       kept (``credex.node.federation.cosigned``)

An RFC 9942 receipt signs only the tree root, so the peer's signature over the root at
size R plus the mirror's own inclusion path is a valid receipt for any leaf below R.
``MirrorBundles`` serves them with their lifecycle statements and this node's attestation
that they are all its verified mirror holds (signed with its own log key: a bank trusts
every member's log key), and not at all once the record is repaired, withdrawn,
corrected or expired (``credex.node.services.sharing``).

A peer's newest checkpoint may not carry the federation's witness quorum yet (its
witnesses cosign it after the mirror fetched it), so a bundle or report part a bank will
verify with the quorum rests on ``MirrorView.anchored``: the newest mirrored checkpoint
that meets it, with proofs at that size.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from credex.ledger.attestation import sign_attestation
from credex.ledger.bundle import Bundle
from credex.ledger.checkpoint import SignedNote
from credex.ledger.errors import (
    FormatError,
    NotFoundError,
    OutOfRangeError,
)
from credex.ledger.index_map import parse_index_extension
from credex.ledger.indexing import lifecycle_in
from credex.ledger.keys import SigningKey
from credex.ledger.log import AppendOnlyLog
from credex.ledger.log_index import LogIndex
from credex.ledger.receipt import Receipt
from credex.ledger.statement import Statement
from credex.ledger.storage.index_store import SqlNodeStore
from credex.ledger.storage.sql import SqlStore
from credex.ledger.trust import TrustPolicy, cosigner_count
from credex.node.federation.peers import PeerRegistry, mirror_slug, mirror_url
from credex.node.home import NodeHome
from credex.node.services.sharing import require_shared

__all__ = [
    "MirrorBundles",
    "MirrorView",
    "RootSignature",
    "cosigned_path",
    "meets_quorum",
    "read_root",
    "root_path",
]


def root_path(home: NodeHome, origin: str) -> Path:
    (home.path / "mirrors").mkdir(exist_ok=True)
    return home.path / "mirrors" / f"{mirror_slug(origin)}.root.json"


def cosigned_path(home: NodeHome, origin: str) -> Path:
    """Where the root signature of ``origin``'s newest cosigned mirrored checkpoint is."""
    (home.path / "mirrors").mkdir(exist_ok=True)
    return home.path / "mirrors" / f"{mirror_slug(origin)}.cosigned.json"


@dataclass(frozen=True, slots=True)
class RootSignature:
    tree_size: int
    root: bytes
    log_kid: bytes
    protected: bytes
    signature: bytes

    def to_json_value(self) -> dict[str, Any]:
        return {
            "tree_size": self.tree_size,
            "root": self.root.hex(),
            "log_kid": self.log_kid.hex(),
            "protected": self.protected.hex(),
            "signature": self.signature.hex(),
        }


def read_root(path: Path, origin: str) -> RootSignature | None:
    """The root signature kept at ``path`` (None: none kept).

    Raises:
        FormatError: a malformed file.
    """
    try:
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return RootSignature(
            int(raw["tree_size"]),
            bytes.fromhex(raw["root"]),
            bytes.fromhex(raw["log_kid"]),
            bytes.fromhex(raw["protected"]),
            bytes.fromhex(raw["signature"]),
        )
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as e:
        raise FormatError(f"mirror: signed root of {origin!r} is malformed") from e


def meets_quorum(note: SignedNote, trust: TrustPolicy, origin: str) -> bool:
    """Whether ``note`` carries ``trust``'s witness quorum for ``origin`` (each distinct
    witness key counted once, every cosignature verified, as a verifier counts)."""
    return cosigner_count(note, trust, origin) >= trust.quorum_for(origin)


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

    def _root(self, origin: str) -> RootSignature:
        found = read_root(root_path(self.home, origin), origin)
        if found is None:
            raise NotFoundError(f"mirror: no signed root of {origin!r} held here")
        return found

    def cosigned_size(self, origin: str, trust: TrustPolicy) -> int:
        """The size of the newest mirrored checkpoint of ``origin`` meeting ``trust``'s
        quorum (0: none), read afresh (``Holdings.wait_cosigned`` polls it)."""
        try:
            with self.view(origin) as view:
                anchored = view.anchored(trust)
        except (NotFoundError, FormatError):
            return 0
        return 0 if anchored is None else anchored.size

    def origins(self) -> list[str]:
        """The origins this node holds a signed mirror root for."""
        return [
            p.origin
            for p in PeerRegistry(self.home).list()
            if root_path(self.home, p.origin).exists()
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
        try:
            cosigned = read_root(cosigned_path(self.home, origin), origin)
        except FormatError:
            cosigned = None  # the latest root still serves; the next sync rewrites it
        url = self._url(origin)
        store = SqlStore(url)
        nodes: SqlNodeStore | None = None
        try:
            nodes = SqlNodeStore(url)  # the index the mirror rebuilt as it synced
            with AppendOnlyLog(store, index=LogIndex(nodes)) as mirror:
                yield MirrorView(origin, mirror, root, self.home.log_key(), cosigned)
        finally:
            store.close()
            if nodes is not None:
                nodes.close()


@dataclass(frozen=True, slots=True)
class MirrorView:
    """One mirrored log as far as its signed root: entries, status and bundles."""

    origin: str
    log: AppendOnlyLog
    root: RootSignature
    #: this node's log key: it attests what its verified mirror holds (None: no attestation)
    key: SigningKey | None = None
    #: the root signature of the newest mirrored checkpoint kept as cosigned (None: none)
    cosigned: RootSignature | None = None

    @property
    def size(self) -> int:
        return self.root.tree_size

    def anchored(self, trust: TrustPolicy | None) -> MirrorView | None:
        """This view as of the newest mirrored checkpoint that meets ``trust``'s witness
        quorum for the log (the latest, else the one kept cosigned), with its root
        signature, so bundles, proofs and report parts rest on it; None when neither
        meets it. Without ``trust`` (no manifest): this view."""
        if trust is None:
            return self
        for root in (self.root, self.cosigned):
            if root is None or root.tree_size > self.root.tree_size:
                continue
            try:
                note = SignedNote.from_text(self.log.checkpoint(root.tree_size).note)
            except NotFoundError:
                continue
            if note.checkpoint.root == root.root and meets_quorum(note, trust, self.origin):
                return dataclasses.replace(self, root=root, cosigned=None)
        return None

    def covering(self, trust: TrustPolicy | None, index: int) -> MirrorView:
        """``anchored`` if it covers entry ``index``, else this view (the latest)."""
        anchored = self.anchored(trust)
        return anchored if anchored is not None and index < anchored.size else self

    def index_of(self, ref: int | bytes) -> int:
        index = self.log.index_of(ref) if isinstance(ref, bytes) else ref
        if not 0 <= index < self.root.tree_size:
            raise OutOfRangeError(
                f"mirror: leaf index out of range: expected < {self.root.tree_size}, got {index}"
            )
        return index

    def plain(self, index: int, note: str | None = None) -> Bundle:
        """The bundle of entry ``index`` alone (no status), against the mirrored root and
        its checkpoint (``note``: that checkpoint's text, read from the mirror if None)."""
        if note is None:
            note = self.log.checkpoint(self.root.tree_size).note
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
        cp = self.log.checkpoint(self.root.tree_size)
        own = self.plain(index, cp.note)
        status = tuple(self.plain(i, cp.note) for i, _ in lifecycle)
        attestation = self.attest(index, now)
        return Bundle(
            own.statement,
            own.checkpoint,
            status=status,
            attestation=attestation,
            status_proof=self.status_proof(index),
        )

    def status_proof(self, index: int) -> bytes | None:
        """The lookup proof of entry ``index``'s status key in the mirrored log's index as
        of the mirrored checkpoint (its ``credex-index/v1`` root was checked against the
        index rebuilt here when it was synced); None when that checkpoint commits to no
        index or this view has none."""
        index_of_log = self.log.index
        if not isinstance(index_of_log, LogIndex):
            return None
        note = SignedNote.from_text(self.log.checkpoint(self.root.tree_size).note)
        if parse_index_extension(note.checkpoint.extensions) is None:
            return None
        target = self.log.entry(index).leaf_hash
        return index_of_log.prove_status(target, self.root.tree_size).to_bytes()

    def attest(self, index: int, now: int) -> bytes | None:
        """This node's attestation (with its log key) about entry ``index``: the lifecycle
        statements about it its verified mirror holds as of the mirrored checkpoint are
        all there are, and when it first saw the entry (its clock). None without a key."""
        if self.key is None:
            return None
        cp = self.log.checkpoint(self.root.tree_size)
        target = self.log.entry(index).leaf_hash
        found = lifecycle_in(self.log, target, self.root.tree_size)
        after, by = self.log.logged_window(index)
        return sign_attestation(
            self.key,
            origin=self.origin,
            size=cp.tree_size,
            root=cp.root,
            leaf=target,
            index=index,
            status=[st.leaf_hash for _, st in found],
            logged_after=after,
            logged_by=now if by is None else by,
        )

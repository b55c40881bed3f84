"""LocalNode: one region's node in-process: sign records, log them, publish checkpoints,
hand out receipts and bundles.

This is the facade the CLI (and later the gRPC servicers) call. Time is passed in
(``now``); keys come from the ``NodeHome``; storage is the ``AppendOnlyLog``. It does
not print, and it never logs record bodies or keys.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import cbor2

from credex.ledger import envelope
from credex.ledger.attestation import sign_attestation
from credex.ledger.bundle import Bundle
from credex.ledger.checkpoint import Checkpoint, SignedNote, sign_checkpoint
from credex.ledger.errors import (
    CredexError,
    InconsistentLogError,
    NotFoundError,
    OutOfRangeError,
    RegionMismatchError,
)
from credex.ledger.index_map import index_extension_line, parse_index_extension
from credex.ledger.indexing import decision_no_of, leaf_for, lifecycle_in, record_target
from credex.ledger.keys import SigningKey
from credex.ledger.log import AppendOnlyLog, AppendResult, NewLeaf
from credex.ledger.log_index import LogIndex
from credex.ledger.merkle import leaf_hash, verify_consistency
from credex.ledger.receipt import build_receipt
from credex.ledger.record import Record
from credex.ledger.statement import (
    Statement,
    sign_leaf,
    sign_statement,
)
from credex.ledger.storage.bodies import BodyStore
from credex.ledger.storage.derivations import DerivationStore
from credex.ledger.storage.index_store import SqlNodeStore
from credex.ledger.storage.receipts import ReceiptSignatures
from credex.ledger.storage.sql import SqlStore
from credex.node.home import NodeHome
from credex.node.services.checks import IssuerIndex, check_statement

__all__ = [
    "IssueResult",
    "LocalNode",
    "Publisher",
    "create_home",
    "find_statement",
    "record_hash",
]

#: signs (or has signed elsewhere) a checkpoint of the current tree: ``now -> note``
Publisher = Callable[[int], SignedNote]


@dataclass(frozen=True, slots=True)
class IssueResult:
    index: int
    leaf_hash: bytes
    is_new: bool
    kind: str

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "leaf_hash": self.leaf_hash.hex(),
            "new": self.is_new,
            "kind": self.kind,
        }


#: a bulk import's memory bounds (``LocalNode.limit_memory_for_bulk``): cached and
#: pinned index nodes (about 450 bytes each), SQLite page cache per connection (KiB),
#: Merkle blocks and upper nodes kept (about 2 KiB and 180 bytes each)
BULK_INDEX_NODES: Final = 1 << 16
BULK_PINNED: Final = 1 << 14
BULK_PAGE_CACHE_KIB: Final = 8192
BULK_BLOCKS: Final = 256
BULK_UPPER: Final = 1 << 12

#: what ``_prepare`` hands to ``_commit``: results known so far, the input positions of
#: new records, their leaves, the (leaf hash, body) of the enveloped ones, and the log
#: size below which no entry holds any of those leaves (their record lookup's)
_Prepared = tuple[
    list[IssueResult | None], list[int], list[NewLeaf], list[tuple[bytes, bytes]], int
]


class LocalNode:
    """One node: its log (``store``, ``log``), the off-log bodies of its enveloped
    (personal) records (``bodies``) and the sources of its derived records
    (``derivations``), all in one database.

    ``publisher``: who signs checkpoints. By default this handle signs them itself; a
    command line next to a running ``credex serve`` passes the server's
    (``credex.node.pen``), so one place signs a home's checkpoints.
    """

    def __init__(
        self,
        home: NodeHome,
        *,
        db_url: str | None = None,
        publisher: Publisher | None = None,
        keep_index: bool = True,
    ) -> None:
        """``keep_index=False`` runs the log without its verifiable index (``credex
        bench`` measures what the index costs: P10); its checkpoints then commit to no
        index root. Every other caller keeps the index."""
        self.home = home
        self._publisher = publisher
        self.store = SqlStore(db_url or home.db_url)
        try:
            self.index_store = SqlNodeStore(db_url or home.db_url)
        except BaseException:
            self.store.close()
            raise
        try:
            #: the log's verifiable index (docs/spec.md §5), kept in each append's transaction
            self.index = LogIndex(self.index_store)
            self.log = AppendOnlyLog(self.store, index=self.index if keep_index else None)
            self._keep_index = keep_index
        except BaseException:
            self.store.close()
            self.index_store.close()
            raise
        try:
            self.bodies = BodyStore(db_url or home.db_url)
        except BaseException:
            self.log.close()
            self.store.close()
            self.index_store.close()
            raise
        self._db_url = db_url or home.db_url
        self._derivations: DerivationStore | None = None
        self._receipt_signatures: ReceiptSignatures | None = None
        self._log_key: SigningKey = home.log_key()
        self._salt: bytes | None = None
        self._keys: dict[tuple[str, str], SigningKey] = {}
        self._regions: dict[str, str] = {}

    @classmethod
    def open(
        cls, path: Path, *, db_url: str | None = None, publisher: Publisher | None = None
    ) -> LocalNode:
        return cls(NodeHome.open(path), db_url=db_url, publisher=publisher)

    def limit_memory_for_bulk(self) -> None:
        """Bound this handle's caches for a bulk import, so that its memory stays flat
        whatever the file's size (issue #16): an import appends and reads back only the
        index paths its keys touch (random: a cache of recent nodes hits little once the
        index outgrows it) and the right edge of the tree, and makes no proofs. A
        serving node keeps the defaults, which keep proofs fast (docs/storage.md).
        Call it before the import starts."""
        self.index_store.limit_memory(
            BULK_INDEX_NODES,
            pinned=BULK_PINNED,
            page_cache_kib=BULK_PAGE_CACHE_KIB,
            mmap_bytes=0,
        )
        for component in (self.store, self.index_store, self.bodies):
            component.limit_page_cache(BULK_PAGE_CACHE_KIB)
        self.log.limit_node_cache(BULK_BLOCKS, BULK_UPPER)

    def close(self) -> None:
        self.log.close()
        self.store.close()
        self.index_store.close()
        self.bodies.close()
        if self._derivations is not None:
            self._derivations.close()
        if self._receipt_signatures is not None:
            self._receipt_signatures.close()

    @property
    def derivations(self) -> DerivationStore:
        """What the derived records logged here rest on (opened on first use)."""
        if self._derivations is None:
            self._derivations = DerivationStore(self._db_url)
        return self._derivations

    def __enter__(self) -> LocalNode:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # issuing ------------------------------------------------------------------------
    def _key(self, issuer_id: str, record: Record, iat: int) -> SigningKey:
        """The key ``issuer_id`` signs ``record`` with, after checking that the record's
        region is the issuer's (``RegionMismatchError``)."""
        k = (issuer_id, record.kind)
        key = self._keys.get(k)
        if key is None:
            key = self.home.issuer_signing_key(issuer_id, record.kind, iat)
            self._keys[k] = key
        region = self._regions.get(issuer_id)
        if region is None:
            region = self._regions[issuer_id] = self.home.issuer_region(issuer_id)
        if record.region != region:
            raise RegionMismatchError(
                f"issue: record region is not its issuer's: expected {region} (the region "
                f"of {issuer_id}), got {record.region}"
            )
        return key

    def _salt_secret(self) -> bytes:
        """The node secret that salts person records' envelopes (never leaves the node)."""
        if self._salt is None:
            self._salt = self.home.envelope_secret()
        return self._salt

    def sign(self, records: Sequence[Record], issuer_id: str | None, iat: int) -> list[Statement]:
        issuer = issuer_id or self.home.platform_issuer
        secret = self._salt_secret()
        return [
            sign_statement(envelope.salted(r, secret), issuer, self._key(issuer, r, iat), iat)
            for r in records
        ]

    def append(self, statements: Sequence[Statement]) -> list[IssueResult]:
        """Append signed statements in one durable batch (idempotent per statement).

        The held bodies of enveloped statements are stored first (durable before the
        leaves are acknowledged).

        Raises:
            NotEnvelopedError: a person's record signed in the clear (nothing is stored).
        """
        for s in statements:
            if s.has_body:
                envelope.require_envelope(s.record, s.is_envelope)
        leaves = [leaf_for(s, record_hash(s.claims.iss, s.payload)) for s in statements]
        bodies = [(s.leaf_hash, pre) for s in statements if (pre := s.preimage) is not None]
        if bodies:
            self.bodies.put_many(bodies, max(s.claims.iat for s in statements))
        results: list[AppendResult] = self.log.append_many(leaves)
        return [
            IssueResult(r.index, r.leaf_hash, r.is_new, s.kind)
            for r, s in zip(results, statements, strict=True)
        ]

    def _prepare(self, records: Sequence[Record], issuer: str, iat: int) -> _Prepared:
        """Dedupe against the store by record hash, then sign what is new.

        The record hash covers the signed payload: the record, or for an enveloped
        record its SHA-256 (so ``append`` and ``issue`` agree)."""
        secret = self._salt_secret()
        records = [envelope.salted(r, secret) for r in records]
        wrapped = [envelope.should_envelope(r) for r in records]
        payloads = [
            envelope.payload_hash(r.to_bytes()) if w else r.to_bytes()
            for r, w in zip(records, wrapped, strict=True)
        ]
        hashes = [record_hash(issuer, p) for p in payloads]
        # the size first: every entry below it is seen by the lookup that follows, so a
        # record not found there is in no entry below it, and neither is any leaf that
        # carries it (a leaf's bytes fix its issuer and payload, hence its record hash)
        absent_below = self.store.size()
        known = self.store.find_records(
            {h: r.subject.id for h, r in zip(hashes, records, strict=True)}
        )
        out: list[IssueResult | None] = [None] * len(records)
        fresh: list[int] = []
        leaves: list[NewLeaf] = []
        bodies: list[tuple[bytes, bytes]] = []
        for i, (r, h) in enumerate(zip(records, hashes, strict=True)):
            found = next((e for e in known.get(h, ()) if _is_record(e.leaf, h)), None)
            if found is None:
                fresh.append(i)
                key = self._key(issuer, r, iat)
                leaf = sign_leaf(r, issuer, key, iat)
                target = None if wrapped[i] else record_target(r)
                number = None if wrapped[i] else decision_no_of(r)
                leaves.append(NewLeaf(leaf, r.kind, issuer, iat, h, r.subject.id, target, number))
                if wrapped[i]:
                    bodies.append((leaf_hash(leaf), r.to_bytes()))
            else:  # durable already: not signed again
                out[i] = IssueResult(found.index, found.leaf_hash, False, r.kind)
        return out, fresh, leaves, bodies, absent_below

    def prepare_issue(self, records: Sequence[Record], issuer: str, iat: int) -> _Prepared:
        """Step one of ``issue`` for one batch: look the records up by record hash and
        sign only those not logged yet (thread-safe: may run beside ``commit_issue``)."""
        return self._prepare(records, issuer, iat)

    def commit_issue(self, records: Sequence[Record], prepared: _Prepared) -> list[IssueResult]:
        """Step two: make the signed batch durable (bodies first); results in order."""
        return self._commit(records, prepared)

    def _commit(self, records: Sequence[Record], prepared: _Prepared) -> list[IssueResult]:
        out, fresh, leaves, bodies, absent_below = prepared
        if bodies:  # bodies first: durable before their leaves are acknowledged
            self.bodies.put_many(bodies, leaves[0].iat)
        if leaves:
            appended = self.log.append_many(leaves, absent_below=absent_below)
            for i, res in zip(fresh, appended, strict=True):
                out[i] = IssueResult(res.index, res.leaf_hash, res.is_new, records[i].kind)
        return [r for r in out if r is not None]

    def issue(
        self,
        records: Sequence[Record],
        *,
        issuer_id: str | None = None,
        iat: int,
        batch: int = 1024,
    ) -> list[IssueResult]:
        """Sign and log records in durable batches; results in input order.

        A record this issuer already logged is not logged again (idempotent imports).
        With more than one batch, batch k+1 is signed on a worker thread while batch k
        is committed (libsodium and SQLite release the GIL), so both cores work.
        """
        issuer = issuer_id or self.home.platform_issuer
        chunks = [records[i : i + batch] for i in range(0, len(records), batch)]
        if len(chunks) <= 1:
            return self._commit(records, self._prepare(records, issuer, iat))
        results: list[IssueResult] = []
        with ThreadPoolExecutor(1, thread_name_prefix="credex-sign") as pool:
            fut = pool.submit(self._prepare, chunks[0], issuer, iat)
            for k, chunk in enumerate(chunks):
                prepared = fut.result()
                if k + 1 < len(chunks):
                    fut = pool.submit(self._prepare, chunks[k + 1], issuer, iat)
                results.extend(self._commit(chunk, prepared))
        return results

    def submit(self, data: bytes, *, now: int) -> IssueResult:
        """Accept a statement signed elsewhere by a registered issuer (policy-checked as
        ``credex.node.services.intake`` does: ``iat`` within ``MAX_CLOCK_SKEW`` of
        ``now``, this node's clock)."""
        st = check_statement(IssuerIndex(self.home.trust()), data, None, now)
        return self.append([st])[0]

    # checkpoints, proofs, bundles ---------------------------------------------------------
    def inclusion(self, index: int, size: int | None = None) -> dict[str, Any]:
        """The RFC 9162 inclusion proof of entry ``index`` in the tree of ``size`` (default:
        the current tree), with the leaf hash and root, hex.

        Raises:
            OutOfRangeError: ``index >= size`` or ``size`` beyond the log.
        """
        n = self.log.size if size is None else size
        proof = self.log.inclusion_proof(index, n)
        return {
            "leaf_index": index,
            "tree_size": n,
            "leaf_hash": self.log.entry(index).leaf_hash.hex(),
            "root": self.log.root(n).hex(),
            "proof": [p.hex() for p in proof],
        }

    def consistency(self, old: int, new: int) -> dict[str, Any]:
        """The RFC 9162 consistency proof from tree size ``old`` to ``new``, with both
        roots, hex.

        Raises:
            OutOfRangeError: ``old < 1`` (every tree extends the empty one), ``old > new``
                or ``new`` beyond the log.
        """
        if old < 1:
            raise OutOfRangeError(
                f"prove: old size must be at least 1 (every tree extends the empty one), got {old}"
            )
        proof = self.log.consistency_proof(old, new)
        return {
            "old_size": old,
            "new_size": new,
            "old_root": self.log.root(old).hex(),
            "new_root": self.log.root(new).hex(),
            "proof": [p.hex() for p in proof],
        }

    def info(self) -> dict[str, Any]:
        """Origin, region, tree size and root, and the latest checkpoint's size."""
        size = self.log.refresh()
        note = self.latest_checkpoint()
        return {
            "origin": self.home.origin,
            "region": self.home.region,
            "tree_size": size,
            "root": self.log.root(size).hex(),
            "checkpoint_size": None if note is None else note.checkpoint.size,
        }

    def latest_checkpoint(self) -> SignedNote | None:
        cp = self.store.latest_checkpoint()
        return None if cp is None else SignedNote.from_text(cp.note)

    def publish_checkpoint(self, now: int) -> SignedNote:
        """Sign a checkpoint of the current tree unless the latest one already covers it.

        The log never signs a checkpoint inconsistent with an earlier one: the new root
        is checked against a consistency proof from the last signed checkpoint first.
        Entries another process appended to the same database are adopted first. With a
        ``publisher`` (a running server holds the home), that one signs.
        """
        if self._publisher is not None:
            note = self._publisher(now)
            self.log.refresh()
            return note
        size = self.log.refresh()
        latest = self.store.latest_checkpoint()
        if latest is not None and latest.tree_size == size:
            return SignedNote.from_text(latest.note)
        root = self.log.root(size)
        if latest is not None:
            if latest.tree_size > size:
                raise InconsistentLogError(
                    f"checkpoint: log shrank: signed size {latest.tree_size}, now {size}"
                )
            if latest.tree_size > 0:
                proof = self.log.consistency_proof(latest.tree_size, size)
                verify_consistency(latest.tree_size, size, latest.root, root, proof)
        # the index root at this size, committed as an extension line (docs/spec.md §5.2)
        lines = (index_extension_line(self.index.root_at(size).hash),) if self._keep_index else ()
        note = sign_checkpoint(
            Checkpoint(self.home.origin, size, root, lines), self.home.origin, self._log_key
        )
        self._store_receipt_signature(size, root)
        self.log.record_checkpoint(size, root, note.to_text(), now)
        if self._keep_index:  # index versions between two checkpoints serve no proof
            self.index.checkpointed(0 if latest is None else latest.tree_size, size)
        return note

    def _store_receipt_signature(self, size: int, root: bytes) -> None:
        """Keep the receipt signature of this tree head (leaf-independent) before its
        checkpoint row, so a read-only replica of the database can hand out receipts and
        bundles for it without the log key (``credex.ledger.storage.receipts``)."""
        if self._receipt_signatures is None:
            self._receipt_signatures = ReceiptSignatures(self._db_url)
        r = build_receipt(self._log_key, size, 0, (), root)
        self._receipt_signatures.put(size, root, r.protected, r.signature)

    def checkpoint_at(self, size: int) -> SignedNote:
        cp = self.store.get_checkpoint(size)
        if cp is None:
            raise NotFoundError(f"checkpoint: none signed at size {size}")
        return SignedNote.from_text(cp.note)

    def bundle(
        self,
        index: int,
        now: int,
        *,
        with_body: bool = False,
        checkpoint: SignedNote | None = None,
    ) -> Bundle:
        """A bundle for entry ``index`` against ``checkpoint`` (a note this log signed)
        when it covers the entry, else the latest checkpoint (published if needed).

        An enveloped record's bundle is the envelope alone unless ``with_body``: then it
        carries its body (``preimage``) when this node holds it, and none when it never
        did (a submitted envelope). Only an authorised, audited path asks for the body
        (a subject lookup over mTLS, the operator's own CLI); the Log service never does.

        Raises:
            OutOfRangeError: no entry at ``index``.
            BodyErasedError: ``with_body`` and the record's body was erased here (the
                leaf stays).
        """
        size = self.log.size if 0 <= index < self.log.size else self.log.refresh()
        if not 0 <= index < size:
            raise OutOfRangeError(
                f"bundle: leaf index out of range: expected < {size}, got {index}"
            )
        note = checkpoint
        if note is None or note.checkpoint.size <= index:
            note = self.latest_checkpoint()
        if note is None or note.checkpoint.size <= index:
            note = self.publish_checkpoint(now)
        if note.checkpoint.size > self.log.size:  # signed by another handle on the log
            self.log.refresh()
        cp = note.checkpoint
        entry = self.log.entry(index)
        receipt = build_receipt(
            self._log_key, cp.size, index, self.log.inclusion_proof(index, cp.size), cp.root
        )
        st = Statement.from_bytes(entry.leaf).with_receipts([receipt.to_bytes()])
        preimage = self.bodies.get(entry.leaf_hash) if with_body and st.is_envelope else None
        return Bundle(st.to_bytes(), note.to_text(), preimage=preimage)

    def receipt(self, index: int, tree_size: int) -> bytes:
        """The receipt of entry ``index`` in the tree of ``tree_size`` (a signed size).

        Raises:
            NotFoundError: no checkpoint was signed at ``tree_size``.
            OutOfRangeError: ``index >= tree_size``.
        """
        cp = self.checkpoint_at(tree_size).checkpoint
        if not 0 <= index < cp.size:
            raise OutOfRangeError(
                f"receipt: leaf index out of range: expected < {cp.size}, got {index}"
            )
        if cp.size > self.log.size:  # signed by another handle on the log
            self.log.refresh()
        path = self.log.inclusion_proof(index, cp.size)
        return build_receipt(self._log_key, cp.size, index, path, cp.root).to_bytes()

    def bundle_with_status(
        self, index: int, now: int, *, fresh: bool = True, with_body: bool = False
    ) -> Bundle:
        """``bundle`` for entry ``index`` carrying, under ``status``, the bundles of the
        lifecycle statements on that record logged up to the checkpoint (``with_body``:
        as ``bundle``), and this log's attestation (``credex.ledger.attestation``): that
        they are all there are as of the checkpoint, and when the entry was logged. A
        bundle verified for a purpose needs it (docs/spec.md step 7).

        ``fresh``: publish a checkpoint of the current tree first, so the freshest status
        is carried (the operator's CLI). Servers pass False: the latest checkpoint is used
        (it is the one witnesses have cosigned), and status is as of that checkpoint.
        Finding the statements is one read of the log's ``target`` index.
        """
        size = self.log.size if 0 <= index < self.log.size else self.log.refresh()
        if not 0 <= index < size:
            raise OutOfRangeError(
                f"bundle: leaf index out of range: expected < {size}, got {index}"
            )
        if fresh:
            self.publish_checkpoint(now)
        own = self.bundle(index, now, with_body=with_body)
        note = SignedNote.from_text(own.checkpoint)
        target = self.log.entry(index).leaf_hash
        found = [i for i, _ in lifecycle_in(self.log, target, note.checkpoint.size)]
        return Bundle(
            own.statement,
            own.checkpoint,
            status=tuple(self.bundle(i, now) for i in found),
            preimage=own.preimage,
            attestation=self.attest(index, note, now),
            status_proof=self.status_proof(target, note),
        )

    def status_proof(self, target: bytes, note: SignedNote) -> bytes | None:
        """The index lookup proof of record ``target``'s status key as of ``note`` (a
        checkpoint of this log), or None when that checkpoint commits to no index root
        (signed before the index existed). Bundles carry it as ``status_proof``."""
        cp = note.checkpoint
        if parse_index_extension(cp.extensions) is None:
            return None
        return self.index.prove_status(target, cp.size).to_bytes()

    def attest(self, index: int, note: SignedNote, now: int) -> bytes:
        """This log's attestation (``credex.ledger.attestation``) about entry ``index`` as
        of ``note`` (a checkpoint of this log covering it): the lifecycle statements about
        it this log holds up to that size are all there are, and when the entry was logged
        (``now`` bounds it when the log kept no time). One read of the ``target`` index."""
        cp = note.checkpoint
        target = self.log.entry(index).leaf_hash
        found = lifecycle_in(self.log, target, cp.size)
        after, by = self.log.logged_window(index)
        return sign_attestation(
            self._log_key,
            origin=cp.origin,
            size=cp.size,
            root=cp.root,
            leaf=target,
            index=index,
            status=[st.leaf_hash for _, st in found],
            logged_after=after,
            logged_by=now if by is None else by,
        )

    def statement_at(self, index: int) -> Statement:
        """The logged statement at ``index``, with its body attached when this node holds
        it (an enveloped record whose body was erased or never held comes without).

        Raises:
            NotFoundError: no entry at ``index``.
        """
        if index >= self.log.size:  # appended by another handle on the log?
            self.log.refresh()
        entry = self.log.entry(index)
        st = Statement.from_bytes(entry.leaf)
        if st.is_envelope:
            body = self.bodies.get_many([entry.leaf_hash]).get(entry.leaf_hash)
            if body is not None:
                st = st.with_preimage(body)
        return st


def _is_record(leaf: bytes, wanted: bytes) -> bool:
    """Whether the logged statement ``leaf`` carries the record hash ``wanted`` (the
    store finds candidates by its first 8 bytes). The leaf was checked when it was
    logged, so its issuer and payload are read without checking it again."""
    try:
        value = cbor2.loads(leaf)
        protected, _, payload, _ = value.value
        issuer = cbor2.loads(protected)[15][1]
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, cbor2.CBORDecodeError):
        return False
    if not isinstance(issuer, str) or not isinstance(payload, bytes):
        return False
    return record_hash(issuer, payload) == wanted


def record_hash(issuer: str, payload: bytes) -> bytes:
    """Identity of (issuer, record) for idempotent imports, independent of iat."""
    return hashlib.sha256(b"credex-record-v1\x00" + issuer.encode() + b"\x00" + payload).digest()


def find_statement(node: LocalNode, leaf_hash: bytes) -> tuple[int, Statement]:
    """The index and statement of the entry with ``leaf_hash`` in ``node``'s log, with
    the held body of an enveloped record.

    Raises:
        NotFoundError: no such entry.
    """
    index = node.log.index_of(leaf_hash)
    return index, node.statement_at(index)


def create_home(
    path: Path,
    *,
    region: str,
    origin: str,
    db: str | None,
    now: int,
    subject_secret: bytes | None = None,
) -> NodeHome:
    """Create a node home with fresh log, subject (unless ``subject_secret`` adopts the
    federation's) and platform issuer keys, and create its database tables now, so a
    database error shows at once. On failure nothing half-made is left behind: the same
    call can simply be run again.

    Raises:
        ConfigError: a bad region or origin, or a home already there.
        StorageError: the database cannot be reached or initialised.
    """
    home = NodeHome.init(
        path,
        region=region,
        origin=origin,
        db=db,
        now=now,
        log_seed=os.urandom(32),
        subject_secret=os.urandom(32) if subject_secret is None else subject_secret,
        platform_seed=os.urandom(32),
    )
    try:
        with LocalNode(home):
            pass
    except CredexError:
        home.discard()
        raise
    return home

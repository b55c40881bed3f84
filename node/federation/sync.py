"""Peer sync: follow a peer's log, verify everything, mirror it, resume where it stopped.

One ``PeerSync`` follows one origin::

    fetch checkpoint -> log signature by the trusted key -> consistency with the last
    verified checkpoint (rollback / same size, other root -> InconsistentLogError with
    evidence) -> fetch the new entries in batches -> verify each (statement decodes,
    issuer key trusted and valid at iat, kind authorised, the record's region its issuer's,
    iat not in the future and the key valid after this node last saw the peer without the
    entry: ``ledger.logtime``, signature) -> the mirrored tree's
    root at the checkpoint's size must equal the checkpoint's root -> the mirror's index
    (rebuilt from the entries as they are mirrored, when the mirror has one) must give
    the checkpoint's ``credex-index/v1`` root, else ``IndexRootMismatchError`` and the
    checkpoint is not recorded -> commit entries and the checkpoint in the mirror store.

Entries are mirrored with the peer's own indices (the mirror is an ``AppendOnlyLog`` of
the same tree), so a restart or a dropped connection resumes at ``mirror.size``. An entry
that fails verification is not mirrored, nor is anything after it (a log is contiguous);
the reason is kept in the status. This module talks to the peer only through the small
``PeerSource`` protocol (the gRPC ``PeerClient`` implements it; tests use in-process peers).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from credex.ledger.checkpoint import SignedNote, merge_verified, verify_note_signature
from credex.ledger.errors import (
    CredexError,
    InconsistentLogError,
    IndexRootMismatchError,
    KeyValidityError,
    KindNotAuthorisedError,
    UntrustedKeyError,
    VerificationError,
    WrongLogError,
)
from credex.ledger.index_map import parse_index_extension
from credex.ledger.indexing import leaf_for
from credex.ledger.log import AppendOnlyLog, NewLeaf
from credex.ledger.log_index import LogIndex
from credex.ledger.logtime import LoggedWindow, keys_valid_when_logged, require_not_future
from credex.ledger.merkle import leaf_hash, verify_consistency
from credex.ledger.statement import Statement, verify_statement_signature
from credex.ledger.storage.base import StoredCheckpoint
from credex.ledger.trust import TrustedIssuer, TrustPolicy, require_region
from credex.node.procpool import ProcessPool, WorkerError

__all__ = [
    "POOL_MIN_ENTRIES",
    "VERIFY_THREADS",
    "PeerSource",
    "PeerSync",
    "SyncResult",
    "WorkerError",
    "verify_peer_statement",
]


class PeerSource(Protocol):
    """What sync needs from a peer (gRPC ``PeerClient`` or an in-process fake)."""

    def get_checkpoint(self) -> str: ...
    def get_consistency_proof(self, old_size: int, new_size: int) -> list[bytes]: ...
    def get_entries(self, start: int, end: int) -> Iterator[list[bytes]]: ...


@dataclass(frozen=True, slots=True)
class SyncResult:
    origin: str
    checkpoint_size: int
    mirrored_size: int
    new_entries: int
    error: str | None = None


def verify_peer_statement(
    data: bytes, trust: TrustPolicy, *, now: int | None = None, seen_without: int | None = None
) -> Statement:
    """Check one peer entry as a verifier would (bundle steps 1-3).

    ``now`` (this node's clock) and ``seen_without`` (when this node verified a checkpoint
    of the peer that did not hold the entry yet; None: none) are what this mirror itself
    attests about when the entry was logged: its ``iat`` cannot be in the future, and its
    key must have been valid then (``credex.ledger.logtime``).

    Raises:
        FormatError: not a valid statement.
        UntrustedKeyError / KeyValidityError / KindNotAuthorisedError: issuer policy.
        RegionMismatchError: the record's region is not its issuer's.
        LogTimeError: dated in the future, or signed by a key retired before this node
            saw the peer's log without the entry (a backdated statement).
        SignatureError: the issuer signature does not verify.
    """
    return _verify_statement(data, trust, now, seen_without, {})


def _verify_statement(
    data: bytes,
    trust: TrustPolicy,
    now: int | None,
    seen_without: int | None,
    memo: dict[tuple[bytes, str], list[TrustedIssuer]],
) -> Statement:
    """``verify_peer_statement`` with ``memo``: the trusted keys of (kid, iss) already
    looked up in this round (the trust does not change during one)."""
    st = Statement.from_bytes(data)
    if st.receipts:
        raise VerificationError("sync: a logged statement must not carry receipts")
    who = (st.kid, st.claims.iss)
    named = memo.get(who)
    if named is None:
        named = [i for i in trust.issuers_for_kid(st.kid) if i.issuer_id == st.claims.iss]
        if len(memo) < 1024:
            memo[who] = named
    if not named:
        raise UntrustedKeyError(
            f"sync: statement key {st.kid.hex()[:16]}… is not a trusted key of {st.claims.iss!r}"
        )
    valid = [i for i in named if i.valid_at(st.claims.iat)]
    if not valid:
        raise KeyValidityError(
            f"sync: key of {st.claims.iss!r} used outside its validity window (iat {st.claims.iat})"
        )
    authorised = [i for i in valid if st.kind in i.kinds]
    if not authorised:
        raise KindNotAuthorisedError(
            f"sync: {st.claims.iss!r} is not authorised for kind {st.kind!r}"
        )
    if st.has_body:  # an envelope's region is in its body, which a mirror never holds
        authorised = require_region(authorised, st.record.region, "sync")
    if now is not None:
        require_not_future(st.claims.iat, now, "sync")
        window = LoggedWindow(seen_without, now, "this mirror")
        authorised = keys_valid_when_logged(authorised, window, "sync")
    verify_statement_signature(st, authorised[0].public_key)
    return st


#: threads that verify one fetched chunk: PyNaCl releases the GIL during Ed25519, so one
#: thread's signature check overlaps another's decoding (issue 13)
VERIFY_THREADS: Final = 2
#: chunks shorter than this are verified in the calling thread
_PARALLEL_MIN: Final = 64


def _verify_chunk(
    datas: Sequence[bytes], verify: Callable[[bytes], Statement], threads: int
) -> list[Statement | CredexError]:
    """``verify`` of each entry, in order; a refusal is returned in its place. Other
    exceptions (bugs) are raised in the caller."""
    out: list[Statement | BaseException | None] = [None] * len(datas)

    def work(first: int, step: int) -> None:
        for i in range(first, len(datas), step):
            try:
                out[i] = verify(datas[i])
            except BaseException as e:  # handed to the calling thread
                out[i] = e

    if threads == 1 or len(datas) < _PARALLEL_MIN:
        work(0, 1)
    else:
        workers = [threading.Thread(target=work, args=(k, threads)) for k in range(1, threads)]
        for w in workers:
            w.start()
        try:
            work(0, threads)
        finally:
            for w in workers:
                w.join()
    done: list[Statement | CredexError] = []
    for r in out:
        if isinstance(r, (Statement, CredexError)):
            done.append(r)
            if isinstance(r, CredexError):
                break  # nothing after the first bad entry is used
        elif isinstance(r, BaseException):
            raise r
        else:
            raise RuntimeError("sync: an entry was not verified")
    return done


#: rounds with fewer new entries than this are verified in this process (the first pool
#: of a process starts its fork server: 0.3-2 s on the loaded test machine; later ones
#: ~20 ms)
POOL_MIN_ENTRIES: Final = 2000

#: a worker's answer about one entry: (SHA-256 of the bytes it verified, then either
#: ("ok", kind, iss, iat, sub, target, decision_no, leaf or None when the bytes are the
#: leaf) or ("refused", error class name, message)); it stops after a refusal
_Answer = tuple[bytes, tuple[object, ...]]
_Memo = dict[tuple[bytes, str], list[TrustedIssuer]]
_Job = tuple[int, int | None, list[bytes]]
_Pool = ProcessPool[tuple[TrustPolicy, _Memo], _Job, list[_Answer]]


def _pool_init(trust: TrustPolicy) -> tuple[TrustPolicy, _Memo]:
    return trust, {}


def _pool_work(state: tuple[TrustPolicy, _Memo], job: _Job) -> list[_Answer]:
    """In a worker process: ``_verify_statement`` of each entry of ``job`` (``now``,
    ``seen_without``, the entries), up to the first refusal."""
    trust, memo = state
    now, seen_without, datas = job
    out: list[_Answer] = []
    for data in datas:
        digest = hashlib.sha256(data).digest()
        try:
            st = _verify_statement(data, trust, now, seen_without, memo)
        except CredexError as e:
            out.append((digest, ("refused", type(e).__name__, str(e))))
            break
        leaf = leaf_for(st)
        out.append(
            (
                digest,
                (
                    "ok",
                    leaf.kind,
                    leaf.issuer,
                    leaf.iat,
                    leaf.subject,
                    leaf.target,
                    leaf.decision_no,
                    None if leaf.leaf == data else leaf.leaf,
                ),
            )
        )
    return out


def accept_answers(
    start: int, datas: Sequence[bytes], answers: Sequence[_Answer]
) -> tuple[list[NewLeaf], str | None]:
    """The leaves of entries ``start``.. (``datas``, as fetched) that a worker verified,
    in log order, up to the first refusal (and its reason).

    Each answer is bound to its entry: its position, and the SHA-256 of the very bytes
    at that position (attack A58). The leaf appended is the fetched bytes themselves
    (or, for a statement whose logged form differs from the bytes served, the leaf the
    worker derived from exactly those bytes); the prefix proof against the checkpoint
    follows as for every batch (``PeerSync._prove_prefix``).

    Raises:
        WorkerError: an answer for another entry or other bytes, a malformed one, or
            fewer answers than entries with no refusal (nothing is appended then).
    """
    leaves: list[NewLeaf] = []
    if len(answers) > len(datas):
        raise WorkerError(f"sync: a worker answered for {len(answers)} of {len(datas)} entries")
    for offset, (data, answer) in enumerate(zip(datas, answers, strict=False)):
        index = start + offset
        if (
            not isinstance(answer, tuple)
            or len(answer) != 2
            or answer[0] != hashlib.sha256(data).digest()
        ):
            raise WorkerError(f"sync: a worker answered about other bytes than entry {index}")
        what = answer[1]
        if not isinstance(what, tuple) or not what:
            raise WorkerError(f"sync: a malformed worker answer for entry {index}")
        if what[0] == "refused" and len(what) == 3:
            return leaves, f"entry {index}: {what[2]}"
        if what[0] != "ok" or len(what) != 8:
            raise WorkerError(f"sync: a malformed worker answer for entry {index}")
        _, kind, iss, iat, sub, target, decision_no, leaf = what
        if not (
            isinstance(kind, str)
            and isinstance(iss, str)
            and type(iat) is int
            and (sub is None or isinstance(sub, str))
            and (target is None or isinstance(target, bytes))
            and (decision_no is None or isinstance(decision_no, str))
            and (leaf is None or isinstance(leaf, bytes))
        ):
            raise WorkerError(f"sync: a malformed worker answer for entry {index}")
        leaves.append(
            NewLeaf(data if leaf is None else leaf, kind, iss, iat, None, sub, target, decision_no)
        )
    if len(answers) < len(datas):
        raise WorkerError(
            f"sync: a worker answered for {len(answers)} of {len(datas)} entries and refused none"
        )
    return leaves, None


class PeerSync:
    """Follows ``origin`` through ``source`` into ``mirror`` (an ``AppendOnlyLog``)."""

    def __init__(
        self,
        origin: str,
        source: PeerSource,
        trust: TrustPolicy,
        mirror: AppendOnlyLog,
        *,
        batch: int = 1000,
        threads: int = VERIFY_THREADS,
        processes: int = 0,
    ) -> None:
        """``processes`` > 0: a round of at least ``POOL_MIN_ENTRIES`` new entries is
        verified on that many worker processes (started on the first such round, kept
        until ``close``); otherwise on ``threads`` threads of this process."""
        if threads < 1:
            raise ValueError("sync: threads must be at least 1")
        if processes < 0:
            raise ValueError("sync: processes must be at least 0")
        self.origin = origin
        self.source = source
        self.trust = trust
        self.mirror = mirror
        self.batch = batch
        self.threads = threads
        self.processes = processes
        self._pool: (
            ProcessPool[
                tuple[TrustPolicy, _Memo], tuple[int, int | None, list[bytes]], list[_Answer]
            ]
            | None
        ) = None

    def close(self) -> None:
        """Stop the verification workers, if any were started."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def __enter__(self) -> PeerSync:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def worker_cpu_seconds(self) -> float | None:
        """CPU time the verification workers have used (None: none started, or not
        Linux)."""
        return None if self._pool is None else self._pool.cpu_seconds()

    def start_workers(self) -> None:
        """Start the ``processes`` verification workers now (a round of fewer than
        ``POOL_MIN_ENTRIES`` entries would not); every later round uses them."""
        if self.processes < 1:
            raise ValueError("sync: no worker processes asked (processes=0)")
        self._workers()

    def _workers(self) -> _Pool:
        if self._pool is None:
            self._pool = ProcessPool(
                _pool_init,
                self.trust,
                _pool_work,
                processes=self.processes,
                name="sync",
                preload=(__name__,),
            )
        return self._pool

    def _verified_note(self) -> SignedNote:
        text = self.source.get_checkpoint()
        note = SignedNote.from_text(text)
        cp = note.checkpoint
        if cp.origin != self.origin:
            raise WrongLogError(
                f"sync: peer served a checkpoint of {cp.origin!r}, expected {self.origin!r}"
            )
        log = self.trust.log_for_origin(self.origin)
        if log is None:
            raise WrongLogError(f"sync: origin {self.origin!r} is not a trusted log")
        verify_note_signature(note, log.note_key_name, log.public_key)
        return note

    def _check_consistent(self, note: SignedNote) -> None:
        held = self.mirror.latest_checkpoint()
        if held is None:
            return
        cp = note.checkpoint
        if cp.size < held.tree_size:
            raise InconsistentLogError(
                f"sync: {self.origin} rolled back: checkpoint size {cp.size} < verified "
                f"{held.tree_size}",
                old_checkpoint=held.note,
                new_checkpoint=note.to_text(),
            )
        if cp.size == held.tree_size:
            if cp.root != held.root:
                raise InconsistentLogError(
                    f"sync: {self.origin} shows two roots for size {cp.size}",
                    old_checkpoint=held.note,
                    new_checkpoint=note.to_text(),
                )
            return
        proof = self.source.get_consistency_proof(held.tree_size, cp.size)
        try:
            verify_consistency(held.tree_size, cp.size, held.root, cp.root, proof)
        except CredexError as e:
            raise InconsistentLogError(
                f"sync: {self.origin} checkpoint {cp.size} is not consistent with verified "
                f"{held.tree_size}: {e}",
                old_checkpoint=held.note,
                new_checkpoint=note.to_text(),
                proof=tuple(proof),
            ) from e

    def _fetch(self, start: int, end: int) -> tuple[list[bytes], str | None]:
        """Entries ``start``..``end`` as the peer serves them, and why fewer (if so)."""
        datas: list[bytes] = []
        for chunk in self.source.get_entries(start, end):
            wanted = chunk[: max(0, end - start - len(datas))]
            datas.extend(wanted)
            if len(chunk) > len(wanted):
                return datas, f"entry {start + len(datas)}: peer sent more entries than asked"
        if len(datas) < end - start:
            return (
                datas,
                f"entry {start + len(datas)}: peer sent {len(datas)} of {end - start} entries",
            )
        return datas, None

    def _mirror_on_workers(
        self, note: SignedNote, start: int, now: int, seen_without: int | None
    ) -> tuple[int, str | None]:
        """The ``sync_once`` loop with entries verified on the worker processes,
        pipelined: while the workers verify one batch, this process fetches the next
        (and appends the previous one). Each batch is split in one job per worker;
        answers are accepted only for their own entry's bytes (``accept_answers``), in
        log order, up to the first refusal. Returns the entries appended and the error.
        """
        cp = note.checkpoint
        pool = self._workers()
        per = -(-self.batch // pool.processes)

        def jobs(datas: list[bytes]) -> list[_Job]:
            return [(now, seen_without, datas[i : i + per]) for i in range(0, len(datas), per)]

        total = 0
        try:
            datas, gap = self._fetch(start, min(cp.size, start + self.batch))
            pool.submit(jobs(datas))
            while True:
                after = start + len(datas)
                more: list[bytes] = []
                more_gap: str | None = None
                if gap is None and after < cp.size:  # fetched while the workers verify
                    more, more_gap = self._fetch(after, min(cp.size, after + self.batch))
                answers = pool.collect()
                leaves: list[NewLeaf] = []
                error: str | None = None
                for k, got in enumerate(answers):
                    part = datas[k * per : (k + 1) * per]
                    verified, error = accept_answers(start + k * per, part, got)
                    leaves.extend(verified)
                    if error is not None:
                        break
                error = error or gap
                if more and error is None:
                    pool.submit(jobs(more))  # verified while this batch is appended
                if leaves:
                    self._prove_prefix(note, start, leaves)
                    self._append_batch(leaves, start)
                    total += len(leaves)
                if error is not None or not more:
                    return total, error
                start, datas, gap = self.mirror.size, more, more_gap
        except BaseException:
            self.close()  # a batch may be in flight: the next round starts new workers
            raise

    def _fetch_verified(
        self, start: int, end: int, now: int, seen_without: int | None
    ) -> tuple[list[NewLeaf], str | None]:
        """Verified leaves from ``start`` up to the first bad one (and why it was bad)."""
        leaves: list[NewLeaf] = []
        index = start
        memo: dict[tuple[bytes, str], list[TrustedIssuer]] = {}

        def verify(data: bytes) -> Statement:
            return _verify_statement(data, self.trust, now, seen_without, memo)

        for chunk in self.source.get_entries(start, end):
            wanted = chunk[: max(0, end - index)]
            # every entry of the chunk is checked (in parallel); the first bad one, in
            # log order, stops the round exactly as if they were checked one by one
            for st in _verify_chunk(wanted, verify, self.threads):
                if isinstance(st, CredexError):
                    return leaves, f"entry {index}: {st}"
                leaves.append(leaf_for(st))
                index += 1
            if len(chunk) > len(wanted):
                return leaves, f"entry {index}: peer sent more entries than asked"
        if index < end:
            return leaves, f"entry {index}: peer sent {index - start} of {end - start} entries"
        return leaves, None

    def sync_once(self, now: int) -> SyncResult:
        """One round: verify the peer's checkpoint and mirror up to it.

        Raises:
            InconsistentLogError: a rollback, a second root for a size, or a failed
                consistency proof (evidence attached; nothing is mirrored).
            SignatureError / WrongLogError / NoteError: a checkpoint that cannot be trusted.
            PeerUnavailableError: the peer is unreachable (retry later; state is intact).
        """
        note = self._verified_note()
        cp = note.checkpoint
        self._check_consistent(note)
        start = self.mirror.size
        # every entry from here on was not in the peer's log when this node verified its
        # latest checkpoint: it was logged after that time (this node's clock)
        held = self.mirror.latest_checkpoint()
        seen_without = None if held is None else held.created_at
        if start >= cp.size:
            if held is None or held.tree_size < cp.size:
                # entries mirrored before (a round stopped before its checkpoint): the
                # checkpoint is recorded once its roots are checked against the mirror
                self._check_roots(note)
                self.mirror.record_checkpoint(
                    cp.size, cp.root, self._verified_only(note).to_text(), now
                )
                self._prune(held, cp.size)
                return SyncResult(self.origin, cp.size, start, 0)
            self._merge_cosignatures(note, now)
            return SyncResult(self.origin, cp.size, start, 0)
        error: str | None = None
        total = 0
        if self.processes > 0 and (
            self._pool is not None or cp.size - start >= POOL_MIN_ENTRIES
        ):  # workers started once, for this round and the next ones
            total, error = self._mirror_on_workers(note, start, now, seen_without)
            start = cp.size  # every entry was mirrored, or ``error`` says why not
        while start < cp.size and error is None:
            end = min(cp.size, start + self.batch)
            leaves, error = self._fetch_verified(start, end, now, seen_without)
            if leaves:
                # nothing is mirrored unless it provably belongs to the checkpointed tree
                self._prove_prefix(note, start, leaves)
                self._append_batch(leaves, start)
                total += len(leaves)
                start = self.mirror.size
        if error is not None:
            return SyncResult(self.origin, cp.size, self.mirror.size, total, error)
        self._check_roots(note)
        kept = self._verified_only(note).to_text()
        self.mirror.record_checkpoint(cp.size, cp.root, kept, now)
        self._prune(held, cp.size)
        return SyncResult(self.origin, cp.size, self.mirror.size, total)

    def _prune(self, held: StoredCheckpoint | None, size: int) -> None:
        """Drop the mirror's index versions between its last two checkpoints (proofs are
        made as of checkpoint sizes only)."""
        index = self.mirror.index
        if isinstance(index, LogIndex):
            index.checkpointed(0 if held is None else held.tree_size, size)

    def _check_roots(self, note: SignedNote) -> None:
        """The mirror's tree and, when the checkpoint commits to one (docs/spec.md §5.2),
        its index rebuilt from the mirrored entries must give the checkpoint's roots.

        Raises:
            InconsistentLogError: the mirrored tree's root differs.
            IndexFormatError: a malformed ``credex-index/v1`` line.
            IndexRootMismatchError: the index root does not rebuild (the signed note and
                the rebuilt root are attached as evidence).
        """
        cp = note.checkpoint
        if self.mirror.root(cp.size) != cp.root:
            raise InconsistentLogError(
                f"sync: {self.origin}: the mirrored tree's root at {cp.size} is not the "
                "checkpoint's",
                new_checkpoint=note.to_text(),
            )
        committed = parse_index_extension(cp.extensions)
        index = self.mirror.index
        if committed is None or not isinstance(index, LogIndex):
            return
        rebuilt = index.root_at(cp.size).hash
        if rebuilt != committed:
            raise IndexRootMismatchError(
                f"sync: {self.origin} checkpoint {cp.size} commits to index root "
                f"{committed.hex()[:16]}…, the index rebuilt from its entries is "
                f"{rebuilt.hex()[:16]}…: checkpoint refused",
                checkpoint=note.to_text(),
                rebuilt=rebuilt,
            )

    def _verified_only(self, *notes: SignedNote) -> SignedNote:
        """The log's signature and, per witness of the trust, one cosignature that
        verifies, from ``notes`` (``merge_verified``): a peer cannot make the mirror keep
        lines nobody checked, nor grow the note past its size limit."""
        log = self.trust.log_for_origin(self.origin)
        if log is None:
            raise WrongLogError(f"sync: origin {self.origin!r} is not a trusted log")
        witnesses = [(w.name, w.public_key) for w in self.trust.witnesses_for(self.origin)]
        return merge_verified(notes, (log.note_key_name, log.public_key), witnesses)

    def _merge_cosignatures(self, note: SignedNote, now: int) -> None:
        """Same checkpoint as held (checked): keep the verified signatures of both.

        A peer re-serves its checkpoint once witnesses cosigned it; the mirror keeps the
        cosignatures so its bundles of the peer's records meet the quorum. Only lines
        that verify under the trusted log key and the trust's witness keys are kept.
        """
        held = self.mirror.latest_checkpoint()
        if held is None or held.tree_size != note.checkpoint.size or held.note == note.to_text():
            return
        merged = self._verified_only(SignedNote.from_text(held.note), note).to_text()
        if merged != held.note:
            self.mirror.record_checkpoint(held.tree_size, held.root, merged, now)

    def _prove_prefix(self, note: SignedNote, start: int, leaves: Sequence[NewLeaf]) -> None:
        """The mirror plus ``leaves`` must be a prefix of the peer's checkpointed tree."""
        cp = note.checkpoint
        cr = self.mirror.compact_range()
        for leaf in leaves:
            cr.append(leaf_hash(leaf.leaf))
        end, root = cr.size, cr.root()
        try:
            if end == cp.size:
                if root != cp.root:
                    raise VerificationError(
                        f"root at {end} is {root.hex()[:16]}…, checkpoint says "
                        f"{cp.root.hex()[:16]}…"
                    )
            else:
                proof = self.source.get_consistency_proof(end, cp.size)
                verify_consistency(end, cp.size, root, cp.root, proof)
        except VerificationError as e:
            raise InconsistentLogError(
                f"sync: entries {start}..{end - 1} served by {self.origin} are not in its "
                f"checkpointed tree: {e}",
                new_checkpoint=note.to_text(),
            ) from e

    def _append_batch(self, leaves: Sequence[NewLeaf], start: int) -> None:
        # each batch is one durable transaction: a restart resumes at mirror.size
        results = self.mirror.append_many(leaves)
        for offset, r in enumerate(results):
            if r.index != start + offset or not r.is_new:
                raise InconsistentLogError(
                    f"sync: {self.origin} served a duplicate entry at {start + offset}"
                )

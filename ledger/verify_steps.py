"""Verification steps 1-6 of one bundle (docs/spec.md §3), shared by the top-level record
and every nested bundle (status, sources, policy).

    1 decode       bundle, statement, record, receipt, checkpoint and (if present) the
                   log's attestation parse strictly; a hash envelope's body must hash to
                   its payload
    2 issuer       the statement's kid is a trusted issuer key, valid at iat, for the
                   kind; the record's region is that issuer's; and the key was valid when
                   the log logged the entry, as attested: the attestation's logged window
                   (checked here: a trusted log signed it, about this entry and this
                   checkpoint) and the witnesses' cosignature times (``ledger.logtime``)
    3 signature    the issuer's signature over the statement
    4 inclusion    the receipt's inclusion path leads from the leaf to a root
    5 receipt      the log (a trusted log key) signed that root in the receipt
    6 checkpoint   the log signed a checkpoint of the same size and root; witness quorum

``verify_one`` records each step of the top-level bundle in the ``Run`` (a nested one
fails as its parent's step 7 or 8) and returns what the later steps need. Pure.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from credex.ledger.attestation import Attestation
from credex.ledger.bundle import Bundle
from credex.ledger.checkpoint import (
    Checkpoint,
    SignedNote,
    verify_cosignature,
    verify_note_signature,
)
from credex.ledger.dates import cst_second as _cst_second
from credex.ledger.errors import (
    CheckpointError,
    CredexError,
    KeyValidityError,
    KindNotAuthorisedError,
    SignatureError,
    UntrustedKeyError,
    VerificationError,
    WrongLogError,
)
from credex.ledger.logtime import LoggedWindow, keys_valid_when_logged
from credex.ledger.receipt import Receipt
from credex.ledger.statement import Statement, verify_statement_signature
from credex.ledger.trust import TrustedIssuer, TrustedLog, TrustPolicy, require_region
from credex.ledger.verify_report import Run

__all__ = ["Cache", "Checked", "pick_issuer", "verify_one"]


#: kids remembered per verifier (they come from the bundles, so the memo is bounded)
_MEMO_MAX: Final = 256


@functools.lru_cache(maxsize=1024)
def cst_second(t: int) -> str:
    """``dates.cst_second``, remembered: a batch repeats its signing times and key
    windows, and formatting a date costs more than the step's checks."""
    return _cst_second(t)


def _when(t: int | None) -> str:
    """A key window's end as people read it (China Standard Time; None or 0: open)."""
    if t is None:
        return "∞"
    return "-∞" if t == 0 else cst_second(t)


def pick_issuer(trust: TrustPolicy, st: Statement, cache: Cache | None = None) -> TrustedIssuer:
    """(2) The trusted key that signed ``st``: registered to ``iss``, valid at ``iat``,
    authorised for the kind, and of the record's region (when the record is at hand).
    ``cache`` remembers the trust's keys by kid (a verifier's trust does not change)."""
    if cache is None:
        candidates = trust.issuers_for_kid(st.kid)
    else:
        found = cache.issuers.get(st.kid)
        if found is None:
            found = trust.issuers_for_kid(st.kid)
            if len(cache.issuers) < _MEMO_MAX:  # kids come from the bundles: bounded
                cache.issuers[st.kid] = found
        candidates = found
    if not candidates:
        raise UntrustedKeyError(f"issuer: key {st.kid.hex()[:16]}… is not in the trust material")
    named = [c for c in candidates if c.issuer_id == st.claims.iss]
    if not named:
        raise UntrustedKeyError(
            f"issuer: key {st.kid.hex()[:16]}… is not registered to issuer {st.claims.iss!r}"
        )
    valid = [c for c in named if c.valid_at(st.claims.iat)]
    if not valid:
        windows = ", ".join(f"[{_when(c.valid_from)}, {_when(c.valid_until)})" for c in named)
        raise KeyValidityError(
            f"issuer: key of {st.claims.iss!r} used outside its validity window: "
            f"iat {cst_second(st.claims.iat)} not in {windows}"
        )
    authorised = [c for c in valid if st.kind in c.kinds]
    if not authorised:
        raise KindNotAuthorisedError(
            f"issuer: {st.claims.iss!r} is not authorised for kind {st.kind!r}"
        )
    if st.has_body:  # the record's region is its issuer's (an envelope's is in its body)
        authorised = require_region(authorised, st.record.region, "issuer")
    return authorised[0]


def _pick_log(trust: TrustPolicy, receipt: Receipt, cache: Cache) -> TrustedLog:
    if receipt.log_kid in cache.logs:
        log = cache.logs[receipt.log_kid]
    else:
        log = trust.log_for_kid(receipt.log_kid)
        if len(cache.logs) < _MEMO_MAX:
            cache.logs[receipt.log_kid] = log
    if log is None:
        raise WrongLogError(
            f"receipt: signed by log key {receipt.log_kid.hex()[:16]}…, "
            "which is not a trusted log (a bundle for a different log?)"
        )
    return log


@dataclass(slots=True)
class Cache:
    """Signature checks already done on identical bytes (a bank verifying many bundles
    under one checkpoint checks the log's signatures once). Only successes are kept;
    a cosignature's entry is its timestamp, or None when it does not verify."""

    receipts: set[tuple[bytes, bytes, bytes, bytes]] = field(default_factory=set)
    #: a note's text -> the parsed note and its checkpoint (at most 64 notes)
    parsed_notes: dict[str, tuple[SignedNote, Checkpoint]] = field(default_factory=dict)
    notes: set[tuple[str, str, bytes]] = field(default_factory=set)
    cosigned: dict[tuple[str, str, bytes], int | None] = field(default_factory=dict)
    #: the trust's issuer keys and log of each kid met (at most ``_MEMO_MAX`` kids; a
    #: cache serves one trust, as a ``Verifier`` does)
    issuers: dict[bytes, Sequence[TrustedIssuer]] = field(default_factory=dict)
    logs: dict[bytes, TrustedLog | None] = field(default_factory=dict)
    #: (trust, its ``authorised_repairers``): a runtime protocol check costs more than
    #: the rest of step 7, and a verifier's trust does not change
    repairers: tuple[object, Callable[[Statement, Statement], bool] | None] | None = None


@dataclass(frozen=True, slots=True)
class Checked:
    """A bundle that passed steps 1-6: its statement, receipt, checkpoint, and the log's
    attestation when it carries one (signature and binding already checked)."""

    statement: Statement
    receipt: Receipt
    checkpoint: Checkpoint
    attestation: Attestation | None
    attested_by: str = ""


def _cosignature_times(
    bundle: Bundle, note: SignedNote, origin: str, trust: TrustPolicy, cache: Cache
) -> list[int]:
    """The timestamps of the trusted witnesses' valid cosignatures on ``note``."""
    out: list[int] = []
    counted: set[bytes] = set()  # a witness key counts once, however often it is listed
    for w in trust.witnesses_for(origin):
        if w.public_key in counted:
            continue
        counted.add(w.public_key)
        wkey = (bundle.checkpoint, w.name, w.public_key)
        if wkey not in cache.cosigned:
            try:
                cache.cosigned[wkey] = verify_cosignature(note, w.name, w.public_key)
            except SignatureError:
                cache.cosigned[wkey] = None
        t = cache.cosigned[wkey]
        if t is not None:
            out.append(t)
    return out


def _attested(
    att: Attestation, st: Statement, receipt: Receipt, cp: Checkpoint, trust: TrustPolicy
) -> str:
    """(2) The attestation is a trusted log's, about this entry in this checkpoint;
    returns the attesting log's origin."""
    log = trust.log_for_kid(att.kid)
    if log is None:
        raise WrongLogError(
            f"attestation: signed by key {att.kid.hex()[:16]}…, which is not a trusted log"
        )
    att.verify_signature(log.public_key)
    fits = (
        (att.origin, att.size, att.root) == (cp.origin, cp.size, cp.root)
        and att.leaf == st.leaf_hash
        and att.index == receipt.leaf_index
    )
    if not fits:
        raise VerificationError(
            f"attestation: about {att.origin} entry {att.index} at size {att.size}, not this "
            f"bundle's ({cp.origin} entry {receipt.leaf_index} at size {cp.size})"
        )
    return log.origin


def _logged_window(
    checked_att: Attestation | None, attested_by: str, times: list[int], quorum: int
) -> LoggedWindow:
    """When the entry was logged, as attested: the attestation's window, narrowed by the
    witnesses: the ``quorum``-th earliest cosignature time (k witnesses saw the tree that
    holds the entry by then)."""
    window = LoggedWindow(None, None, "")
    if checked_att is not None:
        after = checked_att.logged_after or None
        window = LoggedWindow(after, checked_att.logged_by, f"the log {attested_by}")
    if quorum > 0 and len(times) >= quorum:
        window = window.narrowed(sorted(times)[quorum - 1], f"{quorum} witness(es)")
    return window


def verify_one(bundle: Bundle, trust: TrustPolicy, run: Run, depth: int, cache: Cache) -> Checked:
    """Steps 1-6 of ``bundle``; ``depth`` 0 records each step in ``run``.

    Raises:
        CredexError: the first failing step's error.
    """
    rep = run.report

    def fail(number: int, err: CredexError) -> None:
        if depth == 0:  # nested bundles fail as their parent's step 7 or 8
            run.fail(number, err)

    # (1) decode
    try:
        st = Statement.from_bytes(bundle.statement, bundle.preimage)  # + envelope body
        if len(st.receipts) != 1:
            raise VerificationError(
                f"decode: expected exactly one receipt under label 394, got {len(st.receipts)}"
            )
        receipt = Receipt.from_bytes(st.receipts[0])
        parsed = cache.parsed_notes.get(bundle.checkpoint)
        if parsed is None:
            note = SignedNote.from_text(bundle.checkpoint)
            parsed = (note, note.checkpoint)
            if len(cache.parsed_notes) < 64:
                cache.parsed_notes[bundle.checkpoint] = parsed
        note, cp = parsed
        att = None if bundle.attestation is None else Attestation.from_bytes(bundle.attestation)
    except CredexError as e:
        fail(1, e)
        raise
    if depth == 0:
        rep.kind, rep.issuer, rep.subject = st.kind, st.claims.iss, st.claims.sub
        rep.leaf_hash, rep.leaf_index, rep.tree_size = (
            st.leaf_hash.hex(),
            receipt.leaf_index,
            receipt.tree_size,
        )
        rep.origin = cp.origin
        shape = " (hash envelope, body attached)" if st.preimage is not None else ""
        if st.is_envelope and not st.has_body:
            shape = " (hash envelope, no body)"
        run.ok(
            1,
            f"{st.kind} statement{shape} by {st.claims.iss}, leaf {st.leaf_hash.hex()[:16]}…",
        )
    # (2) issuer key, kind, region; and the key valid when the log logged the entry
    try:
        issuer = pick_issuer(trust, st, cache)
        attested_by = "" if att is None else _attested(att, st, receipt, cp, trust)
        times = _cosignature_times(bundle, note, cp.origin, trust, cache)
        window = _logged_window(att, attested_by, times, trust.quorum_for(cp.origin))
        keys_valid_when_logged([issuer], window, "issuer")
    except CredexError as e:
        fail(2, e)
        raise
    if depth == 0:
        span = f"[{_when(issuer.valid_from)}, {_when(issuer.valid_until)})"
        logged = ""
        if window.after is not None or window.by is not None:
            logged = f"; logged after {window.after or '-'} and by {window.by or '-'} (attested)"
        run.ok(
            2,
            f"issuer {issuer.issuer_id} key valid when it signed ({cst_second(st.claims.iat)}) "
            f"in {span}, "
            f"authorised for {st.kind}{logged}",
        )
    # (3) statement signature
    try:
        verify_statement_signature(st, issuer.public_key)
    except CredexError as e:
        fail(3, e)
        raise
    if depth == 0:
        run.ok(3, "Ed25519 signature over the COSE Sig_structure verifies")
    # (4) inclusion: recompute the root from the leaf and the receipt's path
    try:
        log = _pick_log(trust, receipt, cache)
        root = receipt.root_for(st.leaf_hash)
    except CredexError as e:
        fail(4, e)
        raise
    if depth == 0:
        run.ok(
            4,
            f"leaf {receipt.leaf_index} of {receipt.tree_size}: path of "
            f"{len(receipt.path)} hashes gives root {root.hex()[:16]}…",
        )
    # (5) receipt signed by the log key
    try:
        rkey = (log.public_key, receipt.protected, root, receipt.signature)
        if rkey not in cache.receipts:
            receipt.verify_signature(log.public_key, root)
            cache.receipts.add(rkey)
    except CredexError as e:
        fail(5, e)
        raise
    if depth == 0:
        run.ok(5, f"receipt signed by log {log.origin}")
    # (6) checkpoint: same log, same size and root, log signature, witness quorum
    try:
        if cp.origin != log.origin:
            raise WrongLogError(
                f"checkpoint: origin {cp.origin!r} is not the receipt's log {log.origin!r}"
            )
        nkey = (bundle.checkpoint, log.note_key_name, log.public_key)
        if nkey not in cache.notes:
            verify_note_signature(note, log.note_key_name, log.public_key)
            cache.notes.add(nkey)
        if cp.size != receipt.tree_size:
            raise CheckpointError(
                f"checkpoint: tree size differs from the receipt's: expected "
                f"{receipt.tree_size}, got {cp.size}"
            )
        if cp.root != root:
            raise CheckpointError(
                f"checkpoint: root differs from the receipt's: expected {root.hex()}, "
                f"got {cp.root.hex()}"
            )
        quorum = trust.quorum_for(cp.origin)
        # a retired or dropped log key vouches only for what witnesses cosigned before
        # it left (at least one cosignature, whatever the quorum)
        until = log.valid_until
        required = quorum if until is None else max(quorum, 1)
        cosigned = sum(1 for t in times if until is None or t < until)
        if cosigned < required and until is not None:
            raise KeyValidityError(
                f"checkpoint: log key {log.kid.hex()[:16]}… of {log.origin} left the trust "
                f"material at {until}: expected {required} witness cosignatures from before "
                f"then, got {cosigned}"
            )
        if cosigned < quorum:
            raise CheckpointError(
                f"checkpoint: witness quorum not met: expected {quorum}, got {cosigned}"
            )
    except CredexError as e:
        fail(6, e)
        raise
    if depth == 0:
        run.ok(
            6,
            f"checkpoint {cp.origin} size {cp.size} signed by the log; "
            f"{cosigned} of {quorum} required witness cosignatures",
        )
    return Checked(st, receipt, cp, att, attested_by)

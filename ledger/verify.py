"""Offline bundle verification, step by step (docs/spec.md §3, FORMATS.md order).

Steps, numbered as in docs/spec.md and in every message:

    1 decode       bundle, statement, record, receipt and checkpoint parse strictly; a
                   hash envelope's body (bundle "preimage") must hash to its payload
    2 issuer       the statement's kid is a trusted issuer key, valid at iat, for the kind
    3 signature    the issuer's signature over the statement
    4 inclusion    the receipt's inclusion path leads from the leaf to a root
    5 receipt      the log (a trusted log key) signed that root in the receipt
    6 checkpoint   the log signed a checkpoint of the same size and root; witness quorum
    7 status       lifecycle statements (each a verified bundle referencing this record);
                   a hash envelope whose body the bundle lacks stops here (BodyNotHeldError)
    8 derivation   sources and policy of a derived record (verified recursively)

``run_verification`` returns a report (never raises a ``CredexError``: the first failing
step is recorded with its error); ``verify_bundle`` raises that error. Pure: the trust
material comes in, no clock, no files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from credex.ledger.bundle import Bundle
from credex.ledger.checkpoint import SignedNote, verify_cosignature, verify_note_signature
from credex.ledger.dates import cst_second, cst_time
from credex.ledger.errors import (
    BodyNotHeldError,
    CheckpointError,
    CredexError,
    KeyValidityError,
    KindNotAuthorisedError,
    PolicyError,
    SignatureError,
    UntrustedKeyError,
    VerificationError,
    WrongLogError,
)
from credex.ledger.lifecycle import LifecycleTargetError, Status, status_at
from credex.ledger.manifest.checks import authorised_repairers, check_recognition
from credex.ledger.receipt import Receipt
from credex.ledger.statement import Statement, verify_statement_signature
from credex.ledger.trust import TrustedIssuer, TrustedLog, TrustPolicy
from credex.ledger.verify_report import STEPS, Run, StepResult, VerificationReport

__all__ = [
    "STEPS",
    "StepResult",
    "VerificationReport",
    "Verifier",
    "run_verification",
    "verify_bundle",
]  # the report types are ``credex.ledger.verify_report``'s, re-exported here


def _when(t: int | None) -> str:
    """A key window's end as people read it (China Standard Time; None or 0: open)."""
    if t is None:
        return "∞"
    return "-∞" if t == 0 else cst_second(t)


def _pick_issuer(trust: TrustPolicy, st: Statement) -> TrustedIssuer:
    candidates = trust.issuers_for_kid(st.kid)
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
    return authorised[0]


def _pick_log(trust: TrustPolicy, receipt: Receipt) -> TrustedLog:
    log = trust.log_for_kid(receipt.log_kid)
    if log is None:
        raise WrongLogError(
            f"receipt: signed by log key {receipt.log_kid.hex()[:16]}…, "
            "which is not a trusted log (a bundle for a different log?)"
        )
    return log


@dataclass(slots=True)
class _Cache:
    """Signature checks already done on identical bytes (a bank verifying many bundles
    under one checkpoint checks the log's signatures once). Only successes are kept."""

    receipts: set[tuple[bytes, bytes, bytes, bytes]] = field(default_factory=set)
    parsed_notes: dict[str, SignedNote] = field(default_factory=dict)
    notes: set[tuple[str, str, bytes]] = field(default_factory=set)
    cosigned: dict[tuple[str, str, bytes], bool] = field(default_factory=dict)


def _verify_one(
    bundle: Bundle, trust: TrustPolicy, run: Run, depth: int, cache: _Cache
) -> Statement:
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
        note = cache.parsed_notes.get(bundle.checkpoint) or SignedNote.from_text(bundle.checkpoint)
        if len(cache.parsed_notes) < 64:
            cache.parsed_notes[bundle.checkpoint] = note
        cp = note.checkpoint
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
    # (2) issuer key and kind authorised
    try:
        issuer = _pick_issuer(trust, st)
    except CredexError as e:
        fail(2, e)
        raise
    if depth == 0:
        window = f"[{_when(issuer.valid_from)}, {_when(issuer.valid_until)})"
        run.ok(
            2,
            f"issuer {issuer.issuer_id} key valid when it signed ({cst_second(st.claims.iat)}) "
            f"in {window}, authorised for {st.kind}",
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
        log = _pick_log(trust, receipt)
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
        cosigned = 0
        for w in trust.witnesses_for(cp.origin):
            wkey = (bundle.checkpoint, w.name, w.public_key)
            if wkey not in cache.cosigned:
                try:
                    verify_cosignature(note, w.name, w.public_key)
                    cache.cosigned[wkey] = True
                except SignatureError:
                    cache.cosigned[wkey] = False
            cosigned += cache.cosigned[wkey]
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
    return st


#: states refused when no purpose is given; a purpose applies its own rules (lifecycle)
_REFUSED_WITHOUT_PURPOSE: Final = frozenset({"repaired", "withdrawn", "corrected", "superseded"})


def _status_of(
    bundle: Bundle,
    st: Statement,
    trust: TrustPolicy,
    run: Run,
    depth: int,
    cache: _Cache,
    as_of: int | None,
) -> Status:
    """The record's ``Status`` from the verified lifecycle statements its bundle carries.

    Statements are ordered by (iat, log index): the index is each status bundle's
    receipt's ``leaf_index`` (docs/spec.md step 7). Repairs, resolutions and outcomes by
    an issuer other than the record's count when the trust is a manifest whose
    delegations authorise it (``authorised_repairers``)."""
    subs = [_verify_one(sub, trust, run, depth + 1, cache) for sub in bundle.status]
    positions: dict[bytes, int] = {}
    for sub_st in subs:
        if not sub_st.record.refs or sub_st.record.refs[0] != st.leaf_hash:
            raise VerificationError(
                f"status: lifecycle statement {sub_st.leaf_hash.hex()[:16]}… "
                "does not reference this record (refs[0])"
            )
        # _verify_one checked exactly one receipt, so this parse cannot fail
        positions[sub_st.leaf_hash] = Receipt.from_bytes(sub_st.receipts[0]).leaf_index
    # no clock here: without as_of, "now" is the latest signed time the bundle carries
    when = as_of if as_of is not None else max([st.claims.iat, *(s.claims.iat for s in subs)])
    try:
        return status_at(
            st,
            subs,
            when,
            authorised_repairers=authorised_repairers(trust),
            positions=positions,
        )
    except LifecycleTargetError as e:
        raise VerificationError(f"status: {e}") from e


def _status(
    bundle: Bundle,
    st: Statement,
    trust: TrustPolicy,
    run: Run,
    depth: int,
    cache: _Cache,
    purpose: str | None = None,
    as_of: int | None = None,
) -> str:
    """(7) The record's legal status, refused if not usable for ``purpose`` (or, without
    a purpose, repaired, withdrawn, corrected or superseded)."""
    status = _status_of(bundle, st, trust, run, depth, cache, as_of)
    if purpose is not None:
        why = status.refusal(purpose)
        if why is not None:
            raise PolicyError(f"status: not usable for {purpose}: {why}")
    elif status.state in _REFUSED_WITHOUT_PURPOSE:
        raise VerificationError(
            f"status: the record is {status.state} as of the checkpoint: {status.reasons[0]}"
        )
    return status.state


def _source_status(
    number: int,
    bundle: Bundle,
    st: Statement,
    trust: TrustPolicy,
    run: Run,
    cache: _Cache,
    purpose: str | None,
    as_of: int | None,
) -> None:
    """(8) Source ``number``'s status by the step 7 rule, with the same purpose and
    as_of; the error names the source (its position in refs, kind and leaf)."""
    status = _status_of(bundle, st, trust, run, 1, cache, as_of)
    what = f"source {number} ({st.record.kind} {st.leaf_hash.hex()[:16]}…)"
    why = status.reasons[0] if status.reasons else status.state
    if purpose is not None:
        status.refusal(purpose)  # an unknown purpose is named as at step 7
        if not status.usable_for[purpose]:
            raise PolicyError(
                f"derivation: {what} is not usable for {purpose}: it is {status.state} "
                f"as of {cst_time(status.as_of)}: {why}"
            )
    elif status.state in _REFUSED_WITHOUT_PURPOSE:
        raise VerificationError(f"derivation: {what} is {status.state} as of its checkpoint: {why}")


class Verifier:
    """Verifies bundles against one trust policy, remembering log signatures it has
    already checked on identical bytes (safe: only successful checks are cached)."""

    def __init__(
        self, trust: TrustPolicy, *, purpose: str | None = None, as_of: int | None = None
    ) -> None:
        self.trust = trust
        self.purpose = purpose
        self.as_of = as_of
        self._cache = _Cache()

    def run(self, data: bytes) -> VerificationReport:
        """Verify a bundle's bytes; the report narrates each step and names the first
        failure. Never raises a ``CredexError``."""
        report = VerificationReport()
        run = Run(report)
        trust, cache = self.trust, self._cache
        try:
            try:
                bundle = Bundle.from_bytes(data)
            except CredexError as e:
                run.fail(1, e)
                raise
            st = _verify_one(bundle, trust, run, 0, cache)
            # (7) status
            try:
                if not st.has_body:  # status needs the record: an envelope without its body
                    raise BodyNotHeldError(
                        "status: the record body is not in this bundle: it is kept off-log "
                        f"by {st.claims.iss}; ask the issuing node"
                    )
                report.status = _status(bundle, st, trust, run, 0, cache, self.purpose, self.as_of)
            except CredexError as e:
                if report.failed_step is None:
                    run.fail(7, e)
                raise
            run.ok(7, f"{len(bundle.status)} lifecycle statements; status {report.status}")
            # (8) derivation: sources and policy verified recursively (steps 1-6 each),
            # each source's status by the step 7 rule (same purpose and as_of), then refs
            # (sources in order, policy last) and the conversion replayed
            detail = "not a derived record"
            try:
                is_derived = st.record.kind.startswith("derived.")
                if not is_derived and (bundle.sources or bundle.policy is not None):
                    raise VerificationError(
                        "derivation: sources or policy given for a record that is not derived"
                    )
                if is_derived:
                    if bundle.policy is None or not bundle.sources:
                        raise VerificationError(
                            "derivation: a derived record's bundle must carry its sources "
                            "and its policy"
                        )
                    sources = [_verify_one(sub, trust, run, 1, cache) for sub in bundle.sources]
                    for n, (sub, src) in enumerate(zip(bundle.sources, sources, strict=True)):
                        _source_status(n, sub, src, trust, run, cache, self.purpose, self.as_of)
                    policy_st = _verify_one(bundle.policy, trust, run, 1, cache)
                    # the policy engine is loaded only when a derived record is verified
                    from credex.ledger.derive import verify_derivation

                    verify_derivation(st.record, sources, policy_st)
                    if getattr(trust, "recognition_for", None) is not None:
                        check_recognition(trust, st, sources, policy_st)  # manifest agreements
                    detail = (
                        f"{len(sources)} source(s) and policy "
                        f"{policy_st.leaf_hash.hex()[:16]}… verified; conversion replays"
                    )
            except CredexError as e:
                if report.failed_step is None:
                    run.fail(8, e)
                raise
            run.ok(8, detail)
        except CredexError:
            pass
        return report

    def verify(self, data: bytes) -> VerificationReport:
        """Like ``run`` but raises the first failing step's error (see verify_bundle)."""
        report = self.run(data)
        if report.error is not None:
            raise report.error
        return report


def run_verification(
    data: bytes, trust: TrustPolicy, *, purpose: str | None = None, as_of: int | None = None
) -> VerificationReport:
    """Verify one bundle with a fresh ``Verifier``; never raises a ``CredexError``.

    ``purpose`` ("punitive" / "eligibility") refuses a record not usable for it at
    ``as_of`` (default: the latest signed time in the bundle)."""
    return Verifier(trust, purpose=purpose, as_of=as_of).run(data)


def verify_bundle(
    data: bytes, trust: TrustPolicy, *, purpose: str | None = None, as_of: int | None = None
) -> VerificationReport:
    """Verify a bundle.

    Raises:
        CredexError: the first failing step's error (FormatError, PolicyError,
            SignatureError, InclusionProofError, CheckpointError, ...); its ``step``
            attribute holds the step number.
    """
    return Verifier(trust, purpose=purpose, as_of=as_of).verify(data)

"""Verify a subject report (``credex.ledger.subject_report``) offline against a trust.

The report's signature must be by a trusted log key (the compiling node's); each part's
checkpoint must be signed by its log and meet its witness quorum; then
``subject_report.check_part`` checks the subject proof, the chain of listed entries,
every in-force bundle (each verified with ``credex.ledger.verify.Verifier``, all eight
steps, as of the report's ``as_of``) and every lifecycle statement given as evidence of
a withheld reason (steps 1-6). Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from credex.ledger.bundle import Bundle
from credex.ledger.checkpoint import SignedNote, verify_note_signature
from credex.ledger.errors import CheckpointError, WrongLogError
from credex.ledger.subject_report import (
    BundleCheck,
    CheckedPart,
    StatusCheck,
    SubjectReport,
    check_part,
)
from credex.ledger.trust import TrustPolicy, cosigner_count
from credex.ledger.verify import Verifier
from credex.ledger.verify_report import Run, VerificationReport
from credex.ledger.verify_steps import Cache, verify_one

__all__ = ["CheckedReport", "verify_checkpoint", "verify_report"]


@dataclass(frozen=True, slots=True)
class CheckedReport:
    subject: str
    as_of: int
    signed_by: str
    parts: tuple[CheckedPart, ...]
    #: trusted logs (of a trust file or manifest) with no part in this report
    not_covered: tuple[str, ...] = ()


def verify_checkpoint(text: str, trust: TrustPolicy) -> SignedNote:
    """A signed note, checked: signed by its trusted log, with the witness quorum.

    Raises:
        WrongLogError: no trusted log has that origin.
        SignatureError / CheckpointError: a bad signature, or too few cosignatures.
    """
    note = SignedNote.from_text(text)
    origin = note.checkpoint.origin
    log = trust.log_for_origin(origin)
    if log is None:
        raise WrongLogError(f"report: checkpoint of {origin!r}, which is not a trusted log")
    verify_note_signature(note, log.note_key_name, log.public_key)
    counted = cosigner_count(note, trust, origin)
    quorum = trust.quorum_for(origin)
    if counted < quorum:
        raise CheckpointError(
            f"report: checkpoint {origin} size {note.checkpoint.size}: witness quorum not "
            f"met: expected {quorum}, got {counted}"
        )
    return note


def verify_report(
    data: bytes,
    trust: TrustPolicy,
    served: Mapping[str, Sequence[bytes]] | None = None,
) -> CheckedReport:
    """Verify every part of a report (``served``: a lookup's completeness proof, checked
    against the bundles the node served, by origin; see ``check_part``).

    Raises:
        CredexError: the first failure (format, signature, checkpoint, proof,
            ``ReportIncompleteError``, ``ReportSubjectError``, or a bundle's own error).
    """
    report = SubjectReport.from_bytes(data)
    signer = trust.log_for_kid(report.kid)
    if signer is None:
        raise WrongLogError(
            f"report: signed by log key {report.kid.hex()[:16]}…, which is not a trusted log"
        )
    report.verify_signature(signer.public_key)
    verifier = Verifier(trust, as_of=report.as_of)

    def check(data: bytes) -> BundleCheck:
        r = verifier.verify(data)
        valid_from = (r.record or {}).get("valid_from", 0)
        return BundleCheck(
            r.origin,
            r.leaf_index,
            r.tree_size,
            bytes.fromhex(r.leaf_hash),
            r.kind,
            r.issuer,
            r.subject,
            r.status,
            valid_from if type(valid_from) is int else 0,
        )

    cache = Cache()

    def check_status(data: bytes) -> StatusCheck:
        # steps 1-6 (a lifecycle statement has no status of its own): issuer trusted for
        # the kind, signature, inclusion, receipt, checkpoint with its witness quorum
        c = verify_one(Bundle.from_bytes(data), trust, Run(VerificationReport()), 1, cache)
        return StatusCheck(c.checkpoint.origin, c.receipt.leaf_index, c.statement)

    parts = tuple(
        check_part(
            report.subject,
            p,
            verify_checkpoint(p.checkpoint, trust),
            check,
            None if served is None else served.get(p.origin, ()),
            verify_status=check_status,
            as_of=report.as_of,
        )
        for p in report.parts
    )
    covered = {p.origin for p in parts}
    missing = tuple(o for o in _trusted_origins(trust) if o not in covered)
    return CheckedReport(report.subject, report.as_of, signer.origin, parts, missing)


def _trusted_origins(trust: TrustPolicy) -> list[str]:
    """The origins of every current log the trust names (a trust file's ``logs``, a
    manifest's members), sorted; empty when the trust cannot list them."""
    logs = getattr(trust, "logs", None)
    if logs is None:
        origins = getattr(trust, "_origins", {})
        return sorted(origins)
    return sorted({g.origin for g in logs if g.valid_until is None})

"""The one credex error hierarchy.

Every failure credex reports is a ``CredexError``; the CLI (and later the gRPC edge)
translates it once into an exit code or a status code. Messages are lowercase, shaped
``component: what failed: expected X, got Y``, and never carry key material, personal
identifiers or record bodies: hashes, indices and key ids only.

::

    CredexError
    ├── FormatError                  malformed input                    -> INVALID_ARGUMENT
    │   ├── CborError                   not CBOR, truncated, trailing bytes
    │   │   └── NonDeterministicCborError   valid CBOR, not RFC 8949 §4.2.1 deterministic
    │   ├── CoseError                   wrong tag, structure, algorithm or header
    │   │   └── NotEnvelopedError           a person's record signed in the clear (not RFC 9995)
    │   ├── RecordError                 bad record: version, fields, body
    │   │   ├── UnknownKindError
    │   │   ├── PolicyDefinitionError   a conversion policy malformed, not total or monotonic
    │   │   │   └── RuleDefinitionError     a rule policy malformed, not total, unknown kinds
    │   │   ├── ConversionError         a source record a valid policy cannot convert
    │   │   └── EvaluationError         evidence a valid rule cannot evaluate
    │   ├── IdentifierError             USCC / resident ID / HK number invalid
    │   ├── DateFormatError             a date that does not parse
    │   ├── OversizeError               input over a documented limit
    │   │   └── StreamLimitError        a stream over its limits   -> RESOURCE_EXHAUSTED
    │   ├── NoteError                   malformed signed note / checkpoint text
    │   ├── PreimageMismatchError       a hash envelope's body does not hash to its payload
    │   ├── CsvHeaderError              a CSV header that cannot be used
    │   └── IndexFormatError            malformed verifiable-index key, value or proof
    ├── VerificationError            a check on untrusted data failed    -> INVALID_ARGUMENT
    │   ├── SignatureError
    │   ├── InclusionProofError
    │   ├── ConsistencyProofError
    │   ├── CheckpointError             checkpoint does not match receipt / log
    │   ├── InconsistentLogError        two views that cannot both be true (carries evidence)
    │   ├── DerivationMismatchError     a derived record that does not follow (step 8)
    │   ├── IndexProofError             a verifiable-index lookup / prefix proof does not hold
    │   ├── IndexRootMismatchError      a checkpoint's index root does not rebuild from its log
    │   ├── ReportIncompleteError       a subject report's entries are not the proven ones
    │   ├── ReportSubjectError          a subject report's bundle of another subject / entry
    │   └── ReportReasonError           a withheld reason its evidence contradicts
    ├── PolicyError                  valid, but not trusted by policy    -> PERMISSION_DENIED
    │   ├── UntrustedKeyError           key not in the trust material
    │   ├── KeyValidityError            key used outside its validity window
    │   ├── KindNotAuthorisedError      issuer not authorised for the kind
    │   ├── WrongLogError               material from a log that is not the trusted one
    │   ├── RegionMismatchError         a record whose region is not its issuer's region
    │   ├── LogTimeError                an iat or key window that does not fit the logged time
    │   ├── StatusNotProvenError        a purpose asked of a bundle that cannot prove its status
    │   ├── LookupNotAuthorisedError    a subject lookup without a valid authorisation
    │   ├── RecognitionRefusedError     a recognition no manifest agreement covers
    │   ├── CommitmentRefusedError      a commitment the pre-commitment check refuses
    │   ├── CallerNotAuthorisedError    an RPC caller whose certificate or role may not call
    │   ├── UnauthenticatedError        an RPC that needs a client certificate -> UNAUTHENTICATED
    │   └── LifecycleError              a lifecycle statement the rules refuse
    │       ├── LifecycleTargetError        its target is not a record it may be about
    │       ├── RegimeError                 no publication regime applies
    │       ├── RepairTooEarlyError         before the minimum publication period
    │       ├── NoOpenObjectionError        a resolution with no objection open
    │       ├── LifecycleStateError         a state change that cannot happen now
    │       └── UnauthorisedLifecycleError  an issuer not entitled to change the status
    │           └── UnauthorisedRepairError
    ├── RecordWithheldError          repaired / withdrawn / expired: no longer shared
    │                                                                  -> FAILED_PRECONDITION
    ├── OutOfRangeError              index >= size, old > new          -> OUT_OF_RANGE
    │   └── WitnessConflictError        tlog-witness 409: old size is not the witness's
    ├── NotFoundError                                                  -> NOT_FOUND
    │   ├── BodyNotHeldError            an enveloped record's body is not at hand
    │   ├── BodyErasedError             the node erased that body (the leaf stays)
    │   └── IndexVersionError           an index version that is pruned or was never committed
    ├── ConfigError                  node home missing, unreadable, exists
    ├── StorageError                                                   -> INTERNAL
    │   ├── LogMovedError               another handle appended first (retried once)
    │   └── IndexConflictError          an index commit that does not build on the stored latest
    └── PeerError                    transient, retryable (client side)
        └── PeerUnavailableError

Every class has a stable ``code``; the gRPC edge (``credex.node.rpc.errors``) maps each
family to a status code and sends the code as a trailer, so a client rebuilds the same
class. A test walks this tree and checks both.
"""

from __future__ import annotations

__all__ = [
    "BodyErasedError",
    "BodyNotHeldError",
    "CallerNotAuthorisedError",
    "CborError",
    "CheckpointError",
    "CommitmentRefusedError",
    "ConfigError",
    "ConsistencyProofError",
    "ConversionError",
    "CoseError",
    "CredexError",
    "CsvHeaderError",
    "DateFormatError",
    "DerivationMismatchError",
    "EvaluationError",
    "FormatError",
    "IdentifierError",
    "InclusionProofError",
    "InconsistentLogError",
    "IndexConflictError",
    "IndexFormatError",
    "IndexProofError",
    "IndexRootMismatchError",
    "IndexVersionError",
    "KeyValidityError",
    "KindNotAuthorisedError",
    "LifecycleError",
    "LifecycleStateError",
    "LifecycleTargetError",
    "LogMovedError",
    "LogTimeError",
    "LookupNotAuthorisedError",
    "NoOpenObjectionError",
    "NonDeterministicCborError",
    "NotEnvelopedError",
    "NotFoundError",
    "NoteError",
    "OutOfRangeError",
    "OversizeError",
    "PeerError",
    "PeerUnavailableError",
    "PolicyDefinitionError",
    "PolicyError",
    "PreimageMismatchError",
    "RecognitionRefusedError",
    "RecordError",
    "RecordWithheldError",
    "RegimeError",
    "RegionMismatchError",
    "RepairTooEarlyError",
    "ReportIncompleteError",
    "ReportReasonError",
    "ReportSubjectError",
    "RuleDefinitionError",
    "SignatureError",
    "StatusNotProvenError",
    "StorageError",
    "StreamLimitError",
    "UnauthenticatedError",
    "UnauthorisedLifecycleError",
    "UnauthorisedRepairError",
    "UnknownKindError",
    "UntrustedKeyError",
    "VerificationError",
    "WitnessConflictError",
    "WrongLogError",
]


class CredexError(Exception):
    """Base of every error credex raises on purpose."""

    #: short machine-readable code, stable across versions (used in --json output)
    code: str = "error"
    #: the numbered verification step (docs/spec.md) this error failed, if any
    step: int | None = None

    def diagnostics(self) -> str:
        """The one line shown to a person."""
        return str(self)


class FormatError(CredexError):
    code = "format"


class CborError(FormatError):
    code = "cbor"


class NonDeterministicCborError(CborError):
    code = "cbor_nondeterministic"


class CoseError(FormatError):
    code = "cose"


class NotEnvelopedError(CoseError):
    """A statement whose record must be logged as an RFC 9995 hash envelope (a person's
    record: ``envelope.should_envelope``) but is an ordinary COSE_Sign1 carrying the
    record itself. Refused wherever a statement enters (docs/spec.md §4)."""

    code = "not_enveloped"


class RecordError(FormatError):
    code = "record"


class UnknownKindError(RecordError):
    code = "unknown_kind"


class IdentifierError(FormatError):
    code = "identifier"


class DateFormatError(FormatError):
    code = "date"


class OversizeError(FormatError):
    code = "oversize"


class StreamLimitError(OversizeError):
    """A streaming call (SubmitStatements) over its per-stream limit on statements, bytes
    or time: the gRPC edge answers RESOURCE_EXHAUSTED; what was acknowledged stays."""

    code = "stream_limit"


class NoteError(FormatError):
    code = "note"


class PreimageMismatchError(FormatError):
    """A body given for a hash envelope (RFC 9995) whose SHA-256 is not the payload."""

    code = "preimage_mismatch"


class VerificationError(CredexError):
    code = "verification"


class SignatureError(VerificationError):
    code = "signature"


class InclusionProofError(VerificationError):
    code = "inclusion_proof"


class ConsistencyProofError(VerificationError):
    code = "consistency_proof"


class CheckpointError(VerificationError):
    code = "checkpoint"


class InconsistentLogError(VerificationError):
    """Two signed views of one log that cannot both be true.

    Carries the evidence (both checkpoints as signed-note text, and the proof that
    failed, if any) so it can be stored and checked by anyone later.
    """

    code = "inconsistent_log"

    def __init__(
        self,
        message: str,
        *,
        old_checkpoint: str = "",
        new_checkpoint: str = "",
        proof: tuple[bytes, ...] = (),
    ) -> None:
        super().__init__(message)
        self.old_checkpoint = old_checkpoint
        self.new_checkpoint = new_checkpoint
        self.proof = proof


class PolicyError(CredexError):
    code = "policy"


class UntrustedKeyError(PolicyError):
    code = "untrusted_key"


class KeyValidityError(PolicyError):
    code = "key_validity"


class KindNotAuthorisedError(PolicyError):
    code = "kind_not_authorised"


class WrongLogError(PolicyError):
    code = "wrong_log"


class RegionMismatchError(PolicyError):
    """A record whose ``region`` (the issuing region) is not the region of the issuer
    that signed it in the trust material (manifest member or trust file entry)."""

    code = "region_mismatch"


class LogTimeError(PolicyError):
    """A statement's time does not fit what a log attests: an ``iat`` outside the clock
    skew at intake, a peer entry dated in the future, or a key used outside its window at
    the time the log logged the entry (a backdated statement; ``credex.ledger.logtime``)."""

    code = "log_time"


class StatusNotProvenError(PolicyError):
    """A bundle verified for a purpose that does not prove its status: no status
    attestation, or one that does not cover exactly the lifecycle statements it carries
    (docs/spec.md step 7)."""

    code = "status_not_proven"


class OutOfRangeError(CredexError):
    code = "out_of_range"


class NotFoundError(CredexError):
    code = "not_found"


class BodyNotHeldError(NotFoundError):
    """The record of a hash envelope was asked for, but its body (preimage) is not here:
    it is kept off-log by the issuing node."""

    code = "body_not_held"


class BodyErasedError(NotFoundError):
    """The node erased the body of an enveloped record (repair, window end, ...); the
    leaf and the tree are unchanged."""

    code = "body_erased"


class ConfigError(CredexError):
    code = "config"


class StorageError(CredexError):
    code = "storage"


class PeerError(CredexError):
    code = "peer"


class PeerUnavailableError(PeerError):
    code = "peer_unavailable"


class LookupNotAuthorisedError(PolicyError):
    """A subject lookup by a caller that is not a registered bank, or without an
    authorisation reference and a known purpose."""

    code = "lookup_not_authorised"


class RecordWithheldError(CredexError):
    """The record is repaired, withdrawn, corrected, superseded or past its publication
    window: its leaf stays in the log, but nodes no longer share it (DOMAIN §3)."""

    code = "record_withheld"


class LogMovedError(StorageError):
    """An append found the stored log longer than this handle's view: another process
    appended to the same database first. ``AppendOnlyLog`` adopts the stored tree and
    retries once."""

    code = "log_moved"


class CsvHeaderError(FormatError):
    """A CSV file whose header cannot be used (empty, missing or duplicate columns)."""

    code = "csv_header"


class PolicyDefinitionError(RecordError):
    """A conversion policy that is malformed, not total, not monotonic or names unknown
    fields."""

    code = "policy_definition"


class ConversionError(RecordError):
    """A source record that a (valid) policy cannot convert: wrong scheme or kind, a value
    outside the source scale, a band that contradicts its score."""

    code = "conversion"


class DerivationMismatchError(VerificationError):
    """A derived record that does not follow from its sources and policy."""

    code = "derivation_mismatch"


class RecognitionRefusedError(PolicyError):
    """A recognition (derived record) that no agreement in the manifest covers."""

    code = "recognition_refused"


class CallerNotAuthorisedError(PolicyError):
    """An RPC caller whose certificate is not registered or whose role may not call the
    method."""

    code = "caller_not_authorised"


class UnauthenticatedError(PolicyError):
    """An RPC that needs a client certificate was called without one (the public port)."""

    code = "unauthenticated"


class LifecycleError(PolicyError):
    """A lifecycle statement (objection, resolution, repair, withdrawal, outcome) that the
    lifecycle rules refuse (DOMAIN.md §3)."""

    code = "lifecycle"


class LifecycleTargetError(LifecycleError):
    code = "lifecycle_target"


class RegimeError(LifecycleError):
    code = "lifecycle_regime"


class RepairTooEarlyError(LifecycleError):
    code = "repair_too_early"


class UnauthorisedLifecycleError(LifecycleError):
    code = "lifecycle_unauthorised"


class UnauthorisedRepairError(UnauthorisedLifecycleError):
    code = "repair_unauthorised"


class NoOpenObjectionError(LifecycleError):
    code = "no_open_objection"


class LifecycleStateError(LifecycleError):
    code = "lifecycle_state"


class WitnessConflictError(OutOfRangeError):
    """tlog-witness 409: the old size is not the size the witness last cosigned.

    ``witness_size`` is that size (0 if it never cosigned this origin); the client retries
    with it and a consistency proof from there.
    """

    code = "witness_conflict"

    def __init__(self, message: str, *, witness_size: int = 0) -> None:
        super().__init__(message)
        self.witness_size = witness_size


class IndexFormatError(FormatError):
    """A verifiable-index key, value, prefix or proof that is not of the documented shape
    (docs/index.md): wrong sizes, extra or missing fields, bits out of order."""

    code = "index_format"


class ReportIncompleteError(VerificationError):
    """A subject report whose entries are not the ones its index proof commits to: one
    dropped, added, repeated or out of order, or an in-force record without its bundle."""

    code = "report_incomplete"


class ReportSubjectError(VerificationError):
    """A subject report carrying a bundle about another subject, on another checkpoint,
    or for no entry it lists."""

    code = "report_subject"


class ReportReasonError(VerificationError):
    """A subject report whose reason for withholding a record contradicts the evidence it
    carries for it (the status proof and the lifecycle statements it lists), or evidence
    for an entry it does not withhold."""

    code = "report_reason"


class IndexProofError(VerificationError):
    """A verifiable-index lookup or prefix proof that does not prove its claim against the
    given root: another key, another root, a forged sibling, a hidden key."""

    code = "index_proof"


class IndexRootMismatchError(VerificationError):
    """A checkpoint whose ``credex-index/v1`` line is not the index root rebuilt from the
    log's own entries (docs/spec.md §5): the log signed a false index. Carries the signed
    note and the rebuilt root as evidence."""

    code = "index_root_mismatch"

    def __init__(self, message: str, *, checkpoint: str = "", rebuilt: bytes = b"") -> None:
        super().__init__(message)
        self.checkpoint = checkpoint
        self.rebuilt = rebuilt


class IndexVersionError(NotFoundError):
    """An index version the store does not hold: pruned, or never committed."""

    code = "index_version"


class IndexConflictError(StorageError):
    """An index commit prepared on a version that is no longer the stored latest (another
    writer committed first); prepare again on the new latest."""

    code = "index_conflict"


class RuleDefinitionError(PolicyDefinitionError):
    """A rule policy (``policy.rule``) that is malformed, not total, refers to an unknown
    kind or field, or holds a float."""

    code = "rule_definition"


class EvaluationError(RecordError):
    """Evidence a valid rule cannot evaluate (another subject, a kind the rule does not
    read, too many records)."""

    code = "evaluation"


class CommitmentRefusedError(PolicyError):
    """A credit commitment the check before acceptance refuses (核查—承诺): nothing is
    logged."""

    code = "commitment_refused"

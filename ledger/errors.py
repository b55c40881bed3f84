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
    │   ├── RecordError                 bad record: version, fields, body
    │   │   └── UnknownKindError
    │   ├── IdentifierError             USCC / resident ID / HK number invalid
    │   ├── DateFormatError             a date that does not parse
    │   ├── OversizeError               input over a documented limit
    │   ├── NoteError                   malformed signed note / checkpoint text
    │   ├── PreimageMismatchError       a hash envelope's body does not hash to its payload
    │   └── IndexFormatError            malformed verifiable-index key, value or proof
    ├── VerificationError            a check on untrusted data failed    -> INVALID_ARGUMENT
    │   ├── SignatureError
    │   ├── InclusionProofError
    │   ├── ConsistencyProofError
    │   ├── CheckpointError             checkpoint does not match receipt / log
    │   ├── InconsistentLogError        two views that cannot both be true (carries evidence)
    │   └── IndexProofError             a verifiable-index lookup / prefix proof does not hold
    ├── PolicyError                  valid, but not trusted by policy    -> PERMISSION_DENIED
    │   ├── UntrustedKeyError           key not in the trust material
    │   ├── KeyValidityError            key used outside its validity window
    │   ├── KindNotAuthorisedError      issuer not authorised for the kind
    │   └── WrongLogError               material from a log that is not the trusted one
    │   └── LookupNotAuthorisedError    a subject lookup without a valid authorisation
    ├── RecordWithheldError          repaired / withdrawn / expired: no longer shared
    │                                                                  -> FAILED_PRECONDITION
    ├── OutOfRangeError              index >= size, old > new          -> OUT_OF_RANGE
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
"""

from __future__ import annotations

__all__ = [
    "BodyErasedError",
    "BodyNotHeldError",
    "CborError",
    "CheckpointError",
    "ConfigError",
    "ConsistencyProofError",
    "CoseError",
    "CredexError",
    "DateFormatError",
    "FormatError",
    "IdentifierError",
    "InclusionProofError",
    "InconsistentLogError",
    "IndexConflictError",
    "IndexFormatError",
    "IndexProofError",
    "IndexVersionError",
    "KeyValidityError",
    "KindNotAuthorisedError",
    "LogMovedError",
    "LookupNotAuthorisedError",
    "NonDeterministicCborError",
    "NotFoundError",
    "NoteError",
    "OutOfRangeError",
    "OversizeError",
    "PeerError",
    "PeerUnavailableError",
    "PolicyError",
    "PreimageMismatchError",
    "RecordError",
    "RecordWithheldError",
    "SignatureError",
    "StorageError",
    "UnknownKindError",
    "UntrustedKeyError",
    "VerificationError",
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


class IndexFormatError(FormatError):
    """A verifiable-index key, value, prefix or proof that is not of the documented shape
    (docs/index.md): wrong sizes, extra or missing fields, bits out of order."""

    code = "index_format"


class IndexProofError(VerificationError):
    """A verifiable-index lookup or prefix proof that does not prove its claim against the
    given root: another key, another root, a forged sibling, a hidden key."""

    code = "index_proof"


class IndexVersionError(NotFoundError):
    """An index version the store does not hold: pruned, or never committed."""

    code = "index_version"


class IndexConflictError(StorageError):
    """An index commit prepared on a version that is no longer the stored latest (another
    writer committed first); prepare again on the new latest."""

    code = "index_conflict"

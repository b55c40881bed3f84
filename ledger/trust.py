"""Trust material: which log keys, issuer keys and witnesses a verifier accepts.

The single-log trust file (``credex trust export``) is JSON, format ``credex-trust/1``::

    {"format": "credex-trust/1",
     "logs": [{"origin", "note_key_name", "public_key" (64 hex), "kid" (64 hex),
               "note_verifier_key"}],
     "issuers": [{"issuer_id", "region", "public_key", "kid", "valid_from",
                  "valid_until" (or null), "kinds": [...]}],
     "witnesses": [{"name", "public_key"}], "quorum": 0}

``TrustPolicy`` is the seam the verifier uses; the federation manifest implements the
same protocol later. Parsing checks every key length and that each ``kid`` matches its
key; this module does not read files.

An issuer's ``region`` binds what it signs: a record's ``region`` (the issuing region)
must be the region of the trusted issuer that signed it (``require_region``; verify
step 2, intake, sync, conflicts). A key trusted for Hangzhou cannot speak for Ningbo.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from credex.ledger import strict_json
from credex.ledger.checkpoint import SignedNote, note_verifier_key, verify_cosignature
from credex.ledger.encoding import hex32
from credex.ledger.errors import FormatError, RegionMismatchError, SignatureError
from credex.ledger.keys import compute_kid

__all__ = [
    "MAX_TRUST_BYTES",
    "TRUST_FORMAT",
    "TrustPolicy",
    "TrustStore",
    "TrustedIssuer",
    "TrustedLog",
    "TrustedWitness",
    "cosigner_count",
    "issuer_regions",
    "require_region",
]

TRUST_FORMAT: Final = "credex-trust/1"
#: a trust file's size limit (a federation of hundreds of issuers fits in a fraction)
MAX_TRUST_BYTES: Final = 1024 * 1024


@dataclass(frozen=True, slots=True)
class TrustedLog:
    """A log key. ``valid_until`` (None: current) is set for a key a federation retired
    or dropped: it then vouches only for checkpoints that witnesses cosigned before that
    time (``credex.ledger.verify`` step 6), never for anything it signs later."""

    origin: str
    note_key_name: str
    public_key: bytes
    valid_until: int | None = None

    @property
    def kid(self) -> bytes:
        return compute_kid(self.public_key)


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    """An issuer key, valid for ``valid_from <= iat < valid_until``, for ``kinds``."""

    issuer_id: str
    region: str
    public_key: bytes
    valid_from: int
    valid_until: int | None
    kinds: frozenset[str]

    @property
    def kid(self) -> bytes:
        return compute_kid(self.public_key)

    def valid_at(self, t: int) -> bool:
        return self.valid_from <= t and (self.valid_until is None or t < self.valid_until)


@dataclass(frozen=True, slots=True)
class TrustedWitness:
    name: str
    public_key: bytes


class TrustPolicy(Protocol):
    """What ``credex.ledger.verify`` asks of trust material."""

    def issuers_for_kid(self, kid: bytes) -> Sequence[TrustedIssuer]: ...
    def log_for_kid(self, kid: bytes) -> TrustedLog | None: ...
    def log_for_origin(self, origin: str) -> TrustedLog | None: ...
    def witnesses_for(self, origin: str) -> Sequence[TrustedWitness]: ...
    def quorum_for(self, origin: str) -> int: ...


def require_region(issuers: Sequence[TrustedIssuer], region: str, what: str) -> list[TrustedIssuer]:
    """The ``issuers`` (trusted keys that may have signed a record) whose region is the
    record's ``region``.

    Raises:
        RegionMismatchError: none: the record claims another region than its issuer's
            (``what`` names the component, e.g. ``issuer``, ``submit``, ``sync``).
    """
    bound = [i for i in issuers if i.region == region]
    if issuers and not bound:
        i = issuers[0]
        raise RegionMismatchError(
            f"{what}: record region is not its issuer's: expected {i.region} "
            f"(the region of {i.issuer_id}), got {region}"
        )
    return bound


def issuer_regions(trust: TrustPolicy, kid: bytes, issuer_id: str) -> frozenset[str]:
    """The regions of the trusted keys ``kid`` registered to ``issuer_id`` (empty when
    the trust material does not know the key)."""
    return frozenset(i.region for i in trust.issuers_for_kid(kid) if i.issuer_id == issuer_id)


def _text(obj: dict[str, Any], key: str, what: str) -> str:
    v = obj.get(key)
    if not isinstance(v, str) or not v:
        raise FormatError(f"trust: {what} needs a non-empty text {key!r}")
    return v


@dataclass(frozen=True, slots=True)
class TrustStore:
    logs: tuple[TrustedLog, ...]
    issuers: tuple[TrustedIssuer, ...]
    witnesses: tuple[TrustedWitness, ...] = ()
    quorum: int = 0

    def issuers_for_kid(self, kid: bytes) -> Sequence[TrustedIssuer]:
        return [i for i in self.issuers if i.kid == kid]

    def log_for_kid(self, kid: bytes) -> TrustedLog | None:
        return next((g for g in self.logs if g.kid == kid), None)

    def log_for_origin(self, origin: str) -> TrustedLog | None:
        return next((g for g in self.logs if g.origin == origin), None)

    def witnesses_for(self, origin: str) -> Sequence[TrustedWitness]:
        return self.witnesses

    def quorum_for(self, origin: str) -> int:
        return self.quorum

    def to_json_value(self) -> dict[str, Any]:
        return {
            "format": TRUST_FORMAT,
            "logs": [
                {
                    "origin": g.origin,
                    "note_key_name": g.note_key_name,
                    "public_key": g.public_key.hex(),
                    "kid": g.kid.hex(),
                    "note_verifier_key": note_verifier_key(g.note_key_name, g.public_key),
                }
                for g in self.logs
            ],
            "issuers": [
                {
                    "issuer_id": i.issuer_id,
                    "region": i.region,
                    "public_key": i.public_key.hex(),
                    "kid": i.kid.hex(),
                    "valid_from": i.valid_from,
                    "valid_until": i.valid_until,
                    "kinds": sorted(i.kinds),
                }
                for i in self.issuers
            ],
            "witnesses": [
                {"name": w.name, "public_key": w.public_key.hex()} for w in self.witnesses
            ],
            "quorum": self.quorum,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_json_value(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> TrustStore:
        """Parse a ``credex-trust/1`` document (strict JSON: ``credex.ledger.strict_json``).

        Raises:
            OversizeError: over ``MAX_TRUST_BYTES``.
            FormatError: not JSON, a duplicate key, wrong format tag, an unknown field, a
                bad key, a kid not matching its key, a log, issuer key or witness listed
                twice (a witness listed twice would count twice toward the quorum).
        """
        doc = strict_json.loads(text, "trust", max_bytes=MAX_TRUST_BYTES)
        if not isinstance(doc, dict) or doc.get("format") != TRUST_FORMAT:
            raise FormatError(f"trust: expected format {TRUST_FORMAT!r}")
        _known(doc, _DOC_KEYS, "document")
        logs: list[TrustedLog] = []
        for g in _objects(doc, "logs"):
            _known(g, _LOG_KEYS, "log")
            pk = hex32(g.get("public_key"), "log public_key", "trust")
            if "kid" in g and hex32(g["kid"], "log kid", "trust") != compute_kid(pk):
                raise FormatError("trust: log kid does not match its public key")
            logs.append(TrustedLog(_text(g, "origin", "log"), _text(g, "note_key_name", "log"), pk))
        _unique((g.origin for g in logs), "log origin")
        _unique((g.public_key for g in logs), "log key")
        issuers: list[TrustedIssuer] = []
        for i in _objects(doc, "issuers"):
            _known(i, _ISSUER_KEYS, "issuer")
            pk = hex32(i.get("public_key"), "issuer public_key", "trust")
            if "kid" in i and hex32(i["kid"], "issuer kid", "trust") != compute_kid(pk):
                raise FormatError("trust: issuer kid does not match its public key")
            vf, vu, kinds = i.get("valid_from"), i.get("valid_until"), i.get("kinds")
            if type(vf) is not int or (vu is not None and type(vu) is not int):
                raise FormatError("trust: issuer valid_from/valid_until must be integers")
            if not 0 <= vf < 2**63 or (vu is not None and not vf <= vu < 2**63):
                raise FormatError(
                    "trust: issuer window out of range: expected 0 <= valid_from <= valid_until"
                )
            if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
                raise FormatError("trust: issuer kinds must be a list of text")
            issuers.append(
                TrustedIssuer(
                    _text(i, "issuer_id", "issuer"),
                    _text(i, "region", "issuer"),
                    pk,
                    vf,
                    vu,
                    frozenset(kinds),
                )
            )
        _unique(((i.issuer_id, i.public_key) for i in issuers), "issuer key")
        witnesses = []
        for w in _objects(doc, "witnesses"):
            _known(w, _WITNESS_KEYS, "witness")
            witnesses.append(
                TrustedWitness(
                    _text(w, "name", "witness"),
                    hex32(w.get("public_key"), "witness key", "trust"),
                )
            )
        _unique((w.name for w in witnesses), "witness name")
        _unique((w.public_key for w in witnesses), "witness key")
        quorum = doc.get("quorum", 0)
        if type(quorum) is not int or not 0 <= quorum <= len(witnesses):
            raise FormatError("trust: quorum must be an integer between 0 and the witness count")
        return cls(tuple(logs), tuple(issuers), tuple(witnesses), quorum)


_DOC_KEYS: Final = frozenset({"format", "logs", "issuers", "witnesses", "quorum"})
_LOG_KEYS: Final = frozenset({"origin", "note_key_name", "public_key", "kid", "note_verifier_key"})
_ISSUER_KEYS: Final = frozenset(
    {"issuer_id", "region", "public_key", "kid", "valid_from", "valid_until", "kinds"}
)
_WITNESS_KEYS: Final = frozenset({"name", "public_key"})


def _known(obj: dict[str, Any], keys: frozenset[str], what: str) -> None:
    unknown = set(obj) - keys
    if unknown:
        raise FormatError(f"trust: unknown {what} field: {sorted(unknown)[0][:40]!r}")


def _objects(doc: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = doc.get(key, [])
    if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
        raise FormatError(f"trust: {key} must be a list of objects")
    return items


def _unique(values: Iterable[object], what: str) -> None:
    seen: set[object] = set()
    for v in values:
        if v in seen:
            raise FormatError(f"trust: {what} listed twice: each may appear once")
        seen.add(v)


def cosigner_count(note: SignedNote, trust: TrustPolicy, origin: str) -> int:
    """How many of ``trust``'s witnesses for ``origin`` validly cosigned ``note``: each
    distinct witness key counted once, however often it is listed, every cosignature
    verified (what a quorum is compared with)."""
    counted: set[bytes] = set()
    for w in trust.witnesses_for(origin):
        if w.public_key in counted:
            continue
        try:
            verify_cosignature(note, w.name, w.public_key)
        except SignatureError:
            continue
        counted.add(w.public_key)
    return len(counted)

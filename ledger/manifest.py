"""The federation manifest: a signed, versioned, hash-chained list of members (docs/manifest.md).

One version is a tagged COSE_Sign (RFC 9052 §4.1) with one signature per admin::

    98([protected = bstr .cbor {3: "application/vnd.credex.manifest+cbor"},
        unprotected = {},
        payload = bstr .cbor body,
        signatures = [+ [bstr .cbor {1: -8, 4: admin kid}, {}, bstr(64)]]])   ; sorted by kid
    signature = Ed25519(["Signature", protected, signer protected, h'', payload])

    body = {"v": 1, "federation": tstr, "version": uint, "prev": bstr(32) / null,
            "issued_at": uint, "members": [+ member], "quorum": {"k": uint, "n": uint},
            "admins": [+ bstr(32)], "admin_threshold": uint, "recognitions": [* recognition],
            ? "delegations": [+ delegation]}       ; absent when there are none

A version's hash is SHA-256 of its payload (the body bytes), so collecting one more
admin signature never changes it; version n+1 names version n's hash in ``prev`` and is
accepted only with signatures of ``admin_threshold`` of version n's admins *and* of its
own (python-tuf's root rotation). ``verify_manifest_chain`` checks a chain and returns a
``Manifest``, which is a ``TrustPolicy``: issuer keys with their windows over every
version (a key a later version drops stays valid for iat before that version), current
and retired log keys, and for each origin the *other* members' witness keys with the
quorum k. Its repair delegations (``Manifest.repair_authorised``) feed the
``authorised_repairers`` hook of ``credex.ledger.lifecycle.status_at``.

This module is pure: bytes in, values or exceptions out. It does not read files, keep
keys, or decide which first version to pin (the caller passes the pin or root admins).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import itertools
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol, runtime_checkable

import cbor2

from credex.ledger import encoding
from credex.ledger.errors import (
    CoseError,
    FormatError,
    PolicyError,
    RecognitionRefusedError,
    VerificationError,
)
from credex.ledger.keys import SigningKey, compute_kid, verify_ed25519
from credex.ledger.statement import ALG_EDDSA, Statement
from credex.ledger.trust import TrustedIssuer, TrustedLog, TrustedWitness

__all__ = [
    "CHAIN_FORMAT",
    "COSE_SIGN_TAG",
    "MANIFEST_CONTENT_TYPE",
    "MANIFEST_VERSION",
    "MAX_CHAIN_BYTES",
    "MAX_CHAIN_PEM_BYTES",
    "MAX_MANIFEST_BYTES",
    "AdminSignature",
    "Delegation",
    "DelegationTrust",
    "IssuerKey",
    "Manifest",
    "ManifestBody",
    "Member",
    "Recognition",
    "RecognitionRefusedError",
    "RecognitionTrust",
    "RetiredLogKey",
    "SignedManifest",
    "add_delegation",
    "add_member",
    "add_recognition",
    "authorised_repairers",
    "check_recognition",
    "decode_chain",
    "encode_chain",
    "remove_delegation",
    "remove_recognition",
    "require_recognition",
    "retire_log_key",
    "rotate_issuer_key",
    "verify_manifest_chain",
]

COSE_SIGN_TAG: Final = 98
MANIFEST_VERSION: Final = 1
MANIFEST_CONTENT_TYPE: Final = "application/vnd.credex.manifest+cbor"
CHAIN_FORMAT: Final = "credex-manifest-chain/1"
MAX_MANIFEST_BYTES: Final = 1024 * 1024
MAX_CHAIN_BYTES: Final = 64 * 1024 * 1024
_BODY_PROTECTED: Final = encoding.encode({3: MANIFEST_CONTENT_TYPE})
_REGION_RE: Final = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_NAME_RE: Final = re.compile(r"^[^\s+]+$")
_ENDPOINT_RE: Final = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$")
_UINT64_MAX: Final = 2**64 - 1


# --- field checks ---------------------------------------------------------------------------
def _fail(msg: str) -> FormatError:
    return FormatError(f"manifest: {msg}")


def _uint(v: Any, what: str) -> int:
    if type(v) is not int or not 0 <= v <= _UINT64_MAX:
        raise _fail(f"{what} must be a uint")
    return v


def _key(v: Any, what: str) -> bytes:
    if not isinstance(v, bytes) or len(v) != 32:
        got = len(v) if isinstance(v, bytes) else type(v).__name__
        raise _fail(f"{what} must be a 32-byte bstr: got {got}")
    return v


def _text(v: Any, what: str, pattern: re.Pattern[str] | None = None) -> str:
    if not isinstance(v, str) or not v:
        raise _fail(f"{what} must be non-empty text")
    if pattern is not None and not pattern.match(v):
        raise _fail(f"{what} is malformed: {v!r}")
    return v


def _map(v: Any, keys: Collection[str], what: str) -> dict[str, Any]:
    if not isinstance(v, dict) or set(v) != set(keys):
        got = sorted(map(str, v)) if isinstance(v, dict) else type(v).__name__
        raise _fail(f"{what} must be a map with keys {sorted(keys)}: got {got}")
    return v


def _list(v: Any, what: str) -> list[Any]:
    if not isinstance(v, list):
        raise _fail(f"{what} must be an array")
    return v


def _kinds(v: Any, what: str) -> tuple[str, ...]:
    kinds = tuple(_text(k, f"{what} kind") for k in _list(v, f"{what} kinds"))
    if not kinds:
        raise _fail(f"{what} kinds must not be empty")
    return kinds


# --- the body -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class IssuerKey:
    """One issuer key: valid for ``valid_from <= iat < valid_until`` and for ``kinds``."""

    issuer_id: str
    key: bytes
    valid_from: int
    valid_until: int | None
    kinds: tuple[str, ...]

    def __post_init__(self) -> None:
        _text(self.issuer_id, "issuer_id", _NAME_RE)
        _key(self.key, f"issuer {self.issuer_id} key")
        _uint(self.valid_from, "issuer valid_from")
        if self.valid_until is not None and _uint(self.valid_until, "issuer valid_until") <= (
            self.valid_from
        ):
            raise _fail(f"issuer {self.issuer_id}: valid_until must be after valid_from")
        kinds = tuple(sorted(set(self.kinds)))
        if not kinds or not all(isinstance(k, str) and k for k in kinds):
            raise _fail(f"issuer {self.issuer_id}: kinds must be non-empty text")
        object.__setattr__(self, "kinds", kinds)

    def to_value(self) -> dict[str, Any]:
        return {
            "issuer_id": self.issuer_id,
            "key": self.key,
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
            "kinds": list(self.kinds),
        }

    @classmethod
    def from_value(cls, v: Any) -> IssuerKey:
        m = _map(v, ("issuer_id", "key", "valid_from", "valid_until", "kinds"), "issuer")
        until = m["valid_until"]
        return cls(
            _text(m["issuer_id"], "issuer_id"),
            _key(m["key"], "issuer key"),
            _uint(m["valid_from"], "issuer valid_from"),
            None if until is None else _uint(until, "issuer valid_until"),
            _kinds(m["kinds"], "issuer"),
        )

    def _order(self) -> tuple[str, int, bytes]:
        return (self.issuer_id, self.valid_from, self.key)


@dataclass(frozen=True, slots=True)
class RetiredLogKey:
    """A log key replaced by a rotation: it keeps verifying what it signed before."""

    key: bytes
    note_name: str
    retired_at: int

    def to_value(self) -> dict[str, Any]:
        return {"key": self.key, "note_name": self.note_name, "retired_at": self.retired_at}

    @classmethod
    def from_value(cls, v: Any) -> RetiredLogKey:
        m = _map(v, ("key", "note_name", "retired_at"), "retired log key")
        return cls(
            _key(m["key"], "retired log key"),
            _text(m["note_name"], "retired log key note_name", _NAME_RE),
            _uint(m["retired_at"], "retired log key retired_at"),
        )


_MEMBER_KEYS: Final = (
    "region",
    "origin",
    "endpoint",
    "tls_cert_sha256",
    "log_key",
    "log_note_name",
    "retired_log_keys",
    "witness_name",
    "witness_key",
    "issuers",
)

#: member keys that may be absent (added after version 1 of the format)
_MEMBER_OPTIONAL: Final = ("mtls_endpoint", "tls_chain_pem")
_PEM_CERT_RE: Final = re.compile(
    rb"-----BEGIN CERTIFICATE-----\r?\n(.+?)-----END CERTIFICATE-----", re.DOTALL
)
MAX_CHAIN_PEM_BYTES: Final = 16 * 1024


def _endpoint(v: Any, what: str) -> None:
    _text(v, what, _ENDPOINT_RE)
    port = int(v.rsplit(":", 1)[1])
    if not 0 < port < 65536:
        raise _fail(f"{what} port out of range: {port}")


def _check_chain(pem: bytes, sha256: bytes, region: str) -> None:
    """The chain's first certificate must be the one ``tls_cert_sha256`` pins."""
    if len(pem) > MAX_CHAIN_PEM_BYTES:
        raise _fail(f"member {region} tls_chain_pem too large")
    blocks = _PEM_CERT_RE.findall(pem)
    if len(blocks) < 2:
        raise _fail(f"member {region} tls_chain_pem must hold the certificate and its ca")
    try:
        der = base64.b64decode(b"".join(blocks[0].split()), validate=True)
    except ValueError as e:
        raise _fail(f"member {region} tls_chain_pem is not pem") from e
    if hashlib.sha256(der).digest() != sha256:
        raise _fail(f"member {region} tls_chain_pem does not match tls_cert_sha256")


@dataclass(frozen=True, slots=True)
class Member:
    """One region node of the federation."""

    region: str
    origin: str
    endpoint: str
    tls_cert_sha256: bytes
    log_key: bytes
    log_note_name: str
    witness_name: str
    witness_key: bytes
    issuers: tuple[IssuerKey, ...] = ()
    retired_log_keys: tuple[RetiredLogKey, ...] = ()
    #: the node's mTLS endpoint (Submit, Witness); absent in older versions
    mtls_endpoint: str | None = None
    #: the node's TLS certificate (its SHA-256 is ``tls_cert_sha256``) followed by the
    #: node CA certificate, PEM: peers verify the server with the CA and register the
    #: certificate as a ``peer`` client; absent in older versions
    tls_chain_pem: bytes | None = None

    def __post_init__(self) -> None:
        _text(self.region, "member region", _REGION_RE)
        _text(self.origin, f"member {self.region} origin", _NAME_RE)
        _endpoint(self.endpoint, f"member {self.region} endpoint")
        if self.mtls_endpoint is not None:
            _endpoint(self.mtls_endpoint, f"member {self.region} mtls_endpoint")
        if self.tls_chain_pem is not None:
            _check_chain(self.tls_chain_pem, self.tls_cert_sha256, self.region)
        _key(self.tls_cert_sha256, f"member {self.region} tls_cert_sha256")
        _key(self.log_key, f"member {self.region} log_key")
        _text(self.log_note_name, f"member {self.region} log_note_name", _NAME_RE)
        _text(self.witness_name, f"member {self.region} witness_name", _NAME_RE)
        _key(self.witness_key, f"member {self.region} witness_key")
        object.__setattr__(self, "issuers", tuple(sorted(self.issuers, key=IssuerKey._order)))
        object.__setattr__(
            self, "retired_log_keys", tuple(sorted(self.retired_log_keys, key=lambda r: r.key))
        )
        seen: set[tuple[str, bytes]] = set()
        for i in self.issuers:
            if (i.issuer_id, i.key) in seen:
                raise _fail(f"member {self.region}: issuer {i.issuer_id} lists one key twice")
            seen.add((i.issuer_id, i.key))

    @property
    def log_keys(self) -> tuple[tuple[bytes, str], ...]:
        """(key, note name) of the current and every retired log key."""
        retired = ((r.key, r.note_name) for r in self.retired_log_keys)
        return ((self.log_key, self.log_note_name), *retired)

    def to_value(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "origin": self.origin,
            "endpoint": self.endpoint,
            "tls_cert_sha256": self.tls_cert_sha256,
            "log_key": self.log_key,
            "log_note_name": self.log_note_name,
            "retired_log_keys": [r.to_value() for r in self.retired_log_keys],
            "witness_name": self.witness_name,
            "witness_key": self.witness_key,
            "issuers": [i.to_value() for i in self.issuers],
            **({} if self.mtls_endpoint is None else {"mtls_endpoint": self.mtls_endpoint}),
            **({} if self.tls_chain_pem is None else {"tls_chain_pem": self.tls_chain_pem}),
        }

    @classmethod
    def from_value(cls, v: Any) -> Member:
        optional = {k: v[k] for k in _MEMBER_OPTIONAL if isinstance(v, dict) and k in v}
        if optional:
            v = {k: x for k, x in v.items() if k not in _MEMBER_OPTIONAL}
        m = _map(v, _MEMBER_KEYS, "member")
        chain = optional.get("tls_chain_pem")
        if chain is not None and not isinstance(chain, bytes):
            raise _fail("member tls_chain_pem must be a bstr")
        mtls = optional.get("mtls_endpoint")
        return cls(
            region=_text(m["region"], "member region"),
            origin=_text(m["origin"], "member origin"),
            endpoint=_text(m["endpoint"], "member endpoint"),
            tls_cert_sha256=_key(m["tls_cert_sha256"], "member tls_cert_sha256"),
            log_key=_key(m["log_key"], "member log_key"),
            log_note_name=_text(m["log_note_name"], "member log_note_name"),
            witness_name=_text(m["witness_name"], "member witness_name"),
            witness_key=_key(m["witness_key"], "member witness_key"),
            issuers=tuple(IssuerKey.from_value(i) for i in _list(m["issuers"], "issuers")),
            retired_log_keys=tuple(
                RetiredLogKey.from_value(r)
                for r in _list(m["retired_log_keys"], "retired_log_keys")
            ),
            mtls_endpoint=None if mtls is None else _text(mtls, "member mtls_endpoint"),
            tls_chain_pem=chain,
        )


#: recognition keys that may be absent: each is omitted at its default (any issuer, any
#: policy, from 0, open-ended), so a version-1 ``{region, recognises, kinds}`` agreement
#: keeps its exact bytes
_RECOGNITION_KEYS: Final = ("region", "recognises", "kinds")
_RECOGNITION_OPTIONAL: Final = ("issuers", "policies", "valid_from", "valid_until")


def _split_optional(
    v: Any, keys: Collection[str], optional_keys: Collection[str], what: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the required keys of map ``v``, checked exactly; the optional keys present)."""
    optional = {k: v[k] for k in optional_keys if isinstance(v, dict) and k in v}
    if optional:
        v = {k: x for k, x in v.items() if k not in optional_keys}
    return _map(v, keys, what), optional


def _window(optional: dict[str, Any], what: str) -> tuple[int, int | None]:
    """(valid_from, valid_until) of an agreement or delegation; absent: (0, None)."""
    until = optional.get("valid_until")
    return (
        _uint(optional.get("valid_from", 0), f"{what} valid_from"),
        None if until is None else _uint(until, f"{what} valid_until"),
    )


def _with_window(out: dict[str, Any], valid_from: int, valid_until: int | None) -> dict[str, Any]:
    """``out`` with the window keys, each left out at its default (so bytes stay stable)."""
    if valid_from:
        out["valid_from"] = valid_from
    if valid_until is not None:
        out["valid_until"] = valid_until
    return out


@dataclass(frozen=True, slots=True)
class Recognition:
    """A recognition agreement: region ``region`` accepts records of ``kinds`` from region
    ``recognises``, signed by ``issuers`` (empty: any issuer of that region), converted
    under ``policies`` (policy leaf hashes; empty: any policy), for derived records with
    ``valid_from <= iat < valid_until`` (``None``: open-ended)."""

    region: str
    recognises: str
    kinds: tuple[str, ...]
    issuers: tuple[str, ...] = ()
    policies: tuple[bytes, ...] = ()
    valid_from: int = 0
    valid_until: int | None = None

    def __post_init__(self) -> None:
        _text(self.region, "recognition region", _REGION_RE)
        _text(self.recognises, "recognition recognises", _REGION_RE)
        if self.region == self.recognises:
            raise _fail(f"recognition: {self.region} cannot recognise its own region")
        kinds = tuple(sorted(set(self.kinds)))
        if not kinds or not all(isinstance(k, str) and k for k in kinds):
            raise _fail(f"recognition {self.region} <- {self.recognises}: kinds must be non-empty")
        object.__setattr__(self, "kinds", kinds)
        issuers = tuple(sorted(set(self.issuers)))
        for i in issuers:
            _text(i, "recognition issuer", _NAME_RE)
        object.__setattr__(self, "issuers", issuers)
        policies = tuple(sorted(set(self.policies)))
        for h in policies:
            _key(h, "recognition policy")
        object.__setattr__(self, "policies", policies)
        _uint(self.valid_from, "recognition valid_from")
        if self.valid_until is not None and _uint(self.valid_until, "recognition valid_until") <= (
            self.valid_from
        ):
            raise _fail(
                f"recognition {self.region} <- {self.recognises}: valid_until must be "
                "after valid_from"
            )

    def matches(
        self,
        region: str,
        source_region: str,
        kind: str,
        issuer: str,
        policy_leaf_hash: bytes,
        at: int,
    ) -> bool:
        """Whether this agreement covers one recognition (windows are half-open)."""
        return (
            self.region == region
            and self.recognises == source_region
            and kind in self.kinds
            and (not self.issuers or issuer in self.issuers)
            and (not self.policies or policy_leaf_hash in self.policies)
            and self.valid_from <= at
            and (self.valid_until is None or at < self.valid_until)
        )

    def to_value(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "region": self.region,
            "recognises": self.recognises,
            "kinds": list(self.kinds),
        }
        if self.issuers:
            out["issuers"] = list(self.issuers)
        if self.policies:
            out["policies"] = list(self.policies)
        return _with_window(out, self.valid_from, self.valid_until)

    @classmethod
    def from_value(cls, v: Any) -> Recognition:
        m, optional = _split_optional(v, _RECOGNITION_KEYS, _RECOGNITION_OPTIONAL, "recognition")
        return cls(
            _text(m["region"], "recognition region"),
            _text(m["recognises"], "recognition recognises"),
            _kinds(m["kinds"], "recognition"),
            tuple(
                _text(i, "recognition issuer")
                for i in _list(optional.get("issuers", []), "recognition issuers")
            ),
            tuple(
                _key(h, "recognition policy")
                for h in _list(optional.get("policies", []), "recognition policies")
            ),
            *_window(optional, "recognition"),
        )

    def _order(self) -> tuple[Any, ...]:
        return (
            self.region,
            self.recognises,
            self.valid_from,
            self.kinds,
            self.issuers,
            self.policies,
            -1 if self.valid_until is None else self.valid_until,
        )

    def describe(self) -> str:
        """One line: ``cn-zj-hangzhou <- cn-zj-ningbo score.city [from, until) ...``."""
        until = "∞" if self.valid_until is None else str(self.valid_until)
        issuers = ", ".join(self.issuers) or "any issuer"
        policies = ", ".join(h.hex()[:16] + "…" for h in self.policies) or "any policy"
        return (
            f"{self.region} <- {self.recognises}  {', '.join(self.kinds)}  "
            f"[{self.valid_from}, {until})  {issuers}; {policies}"
        )


#: delegation keys that may be absent (omitted at their default: from 0, open-ended)
_DELEGATION_KEYS: Final = ("region", "issuer", "kinds")
_DELEGATION_OPTIONAL: Final = ("valid_from", "valid_until")


@dataclass(frozen=True, slots=True)
class Delegation:
    """A repair delegation: region ``region`` lets issuer ``issuer`` (of any member) make
    the lifecycle statements that otherwise only the finding's issuer may make -- repair
    (信用修复), resolve an objection, record a commitment's outcome -- about ``region``'s
    records of ``kinds``, for statements with ``valid_from <= iat < valid_until``
    (``None``: open-ended). Withdrawal stays the record's own issuer's."""

    region: str
    issuer: str
    kinds: tuple[str, ...]
    valid_from: int = 0
    valid_until: int | None = None

    def __post_init__(self) -> None:
        _text(self.region, "delegation region", _REGION_RE)
        _text(self.issuer, "delegation issuer", _NAME_RE)
        kinds = tuple(sorted(set(self.kinds)))
        if not kinds or not all(isinstance(k, str) and k for k in kinds):
            raise _fail(f"delegation {self.region} -> {self.issuer}: kinds must be non-empty")
        object.__setattr__(self, "kinds", kinds)
        _uint(self.valid_from, "delegation valid_from")
        if self.valid_until is not None and _uint(self.valid_until, "delegation valid_until") <= (
            self.valid_from
        ):
            raise _fail(
                f"delegation {self.region} -> {self.issuer}: valid_until must be after valid_from"
            )

    def matches(self, region: str, issuer: str, kind: str, at: int) -> bool:
        """Whether this delegation covers ``issuer`` acting on a ``kind`` record of
        ``region`` at ``at`` (half-open window)."""
        return (
            self.region == region
            and self.issuer == issuer
            and kind in self.kinds
            and self.valid_from <= at
            and (self.valid_until is None or at < self.valid_until)
        )

    def to_value(self) -> dict[str, Any]:
        out: dict[str, Any] = {"region": self.region, "issuer": self.issuer}
        out["kinds"] = list(self.kinds)
        return _with_window(out, self.valid_from, self.valid_until)

    @classmethod
    def from_value(cls, v: Any) -> Delegation:
        m, optional = _split_optional(v, _DELEGATION_KEYS, _DELEGATION_OPTIONAL, "delegation")
        return cls(
            _text(m["region"], "delegation region"),
            _text(m["issuer"], "delegation issuer"),
            _kinds(m["kinds"], "delegation"),
            *_window(optional, "delegation"),
        )

    def _order(self) -> tuple[Any, ...]:
        return (
            self.region,
            self.issuer,
            self.valid_from,
            self.kinds,
            -1 if self.valid_until is None else self.valid_until,
        )

    def describe(self) -> str:
        """One line: ``cn-zj-ningbo -> cn-zj-hangzhou/platform penalty.admin [from, until)``."""
        until = "∞" if self.valid_until is None else str(self.valid_until)
        return (
            f"{self.region} -> {self.issuer}  {', '.join(self.kinds)}  [{self.valid_from}, {until})"
        )


_BODY_KEYS: Final = (
    "v",
    "federation",
    "version",
    "prev",
    "issued_at",
    "members",
    "quorum",
    "admins",
    "admin_threshold",
    "recognitions",
)


@dataclass(frozen=True, slots=True)
class ManifestBody:
    """The signed content of one manifest version. Validated on construction; members,
    issuers, admins and kinds are kept in their canonical (sorted) order."""

    federation: str
    version: int
    prev: bytes | None
    issued_at: int
    members: tuple[Member, ...]
    quorum: int
    admins: tuple[bytes, ...]
    admin_threshold: int
    recognitions: tuple[Recognition, ...] = ()
    delegations: tuple[Delegation, ...] = ()

    def __post_init__(self) -> None:
        _text(self.federation, "federation", _NAME_RE)
        if _uint(self.version, "version") < 1:
            raise _fail("version must be at least 1")
        if (self.version == 1) != (self.prev is None):
            raise _fail("prev must be null exactly in version 1")
        if self.prev is not None:
            _key(self.prev, "prev")
        _uint(self.issued_at, "issued_at")
        _uint(self.quorum, "quorum k")
        members = tuple(sorted(self.members, key=lambda m: m.region))
        object.__setattr__(self, "members", members)
        if not members:
            raise _fail("at least one member is required")
        _unique((m.region for m in members), "member region")
        _unique((m.origin for m in members), "member origin")
        _unique((k for m in members for k, _ in m.log_keys), "log key")
        _unique((m.witness_key for m in members), "witness key")
        _unique((m.witness_name for m in members), "witness name")
        owner: dict[bytes, str] = {}
        ids: dict[str, str] = {}
        for m in members:
            for i in m.issuers:
                if owner.setdefault(i.key, i.issuer_id) != i.issuer_id:
                    raise _fail(f"one issuer key is listed under two issuer ids: {i.issuer_id}")
                if ids.setdefault(i.issuer_id, m.region) != m.region:
                    raise _fail(f"issuer {i.issuer_id} is listed under two members")
        admins = tuple(sorted(set(self.admins)))
        if len(admins) != len(self.admins) or not admins:
            raise _fail("admins must be one or more distinct keys")
        for a in admins:
            _key(a, "admin key")
        object.__setattr__(self, "admins", admins)
        if not 1 <= _uint(self.admin_threshold, "admin_threshold") <= len(admins):
            raise _fail(
                f"admin_threshold out of range: expected 1..{len(admins)}, "
                f"got {self.admin_threshold}"
            )
        regions = {m.region for m in members}
        for r in self.recognitions:
            for name in (r.region, r.recognises):
                if name not in regions:
                    raise _fail(f"recognition names a region that is not a member: {name}")
        recognitions = tuple(sorted(self.recognitions, key=Recognition._order))
        for r1, r2 in itertools.pairwise(recognitions):
            if r1 == r2:
                raise _fail(f"duplicate recognition: {r1.describe()}")
        object.__setattr__(self, "recognitions", recognitions)
        issuer_ids = {i.issuer_id for m in members for i in m.issuers}
        for d in self.delegations:
            if d.region not in regions:
                raise _fail(f"delegation names a region that is not a member: {d.region}")
            if d.issuer not in issuer_ids:
                raise _fail(f"delegation names an issuer no member lists: {d.issuer}")
        delegations = tuple(sorted(self.delegations, key=Delegation._order))
        for d1, d2 in itertools.pairwise(delegations):
            if d1 == d2:
                raise _fail(f"duplicate delegation: {d1.describe()}")
        object.__setattr__(self, "delegations", delegations)

    @property
    def quorum_n(self) -> int:
        """Witnesses available to each member's log: every other member."""
        return len(self.members) - 1

    def member(self, region: str) -> Member | None:
        return next((m for m in self.members if m.region == region), None)

    def to_value(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "v": MANIFEST_VERSION,
            "federation": self.federation,
            "version": self.version,
            "prev": self.prev,
            "issued_at": self.issued_at,
            "members": [m.to_value() for m in self.members],
            "quorum": {"k": self.quorum, "n": self.quorum_n},
            "admins": list(self.admins),
            "admin_threshold": self.admin_threshold,
            "recognitions": [r.to_value() for r in self.recognitions],
        }
        if self.delegations:  # absent when empty: a body without them keeps its bytes
            out["delegations"] = [d.to_value() for d in self.delegations]
        return out

    def to_bytes(self) -> bytes:
        return encoding.encode(self.to_value())

    @property
    def hash(self) -> bytes:
        """SHA-256 of the body bytes: what the next version names in ``prev``."""
        return hashlib.sha256(self.to_bytes()).digest()

    @classmethod
    def from_bytes(cls, data: bytes) -> ManifestBody:
        """Strictly parse a body (deterministic CBOR, exact keys, canonical order).

        Raises:
            FormatError: not deterministic CBOR, unknown version, missing or extra keys,
                bad values, duplicates, or members/keys not in canonical order.
        """
        v = encoding.decode(data, what="manifest", max_size=MAX_MANIFEST_BYTES)
        if isinstance(v, dict) and v.get("v") != MANIFEST_VERSION:
            raise _fail(f"unsupported version: expected {MANIFEST_VERSION}, got {v.get('v')!r}")
        delegations: list[Any] = []
        if isinstance(v, dict) and "delegations" in v:
            delegations = _list(v["delegations"], "delegations")
            if not delegations:
                raise _fail("delegations must be absent, not empty")
            v = {k: x for k, x in v.items() if k != "delegations"}
        m = _map(v, _BODY_KEYS, "body")
        q = _map(m["quorum"], ("k", "n"), "quorum")
        prev = m["prev"]
        body = cls(
            federation=_text(m["federation"], "federation"),
            version=_uint(m["version"], "version"),
            prev=None if prev is None else _key(prev, "prev"),
            issued_at=_uint(m["issued_at"], "issued_at"),
            members=tuple(Member.from_value(x) for x in _list(m["members"], "members")),
            quorum=_uint(q["k"], "quorum k"),
            admins=tuple(_key(a, "admin key") for a in _list(m["admins"], "admins")),
            admin_threshold=_uint(m["admin_threshold"], "admin_threshold"),
            recognitions=tuple(
                Recognition.from_value(r) for r in _list(m["recognitions"], "recognitions")
            ),
            delegations=tuple(Delegation.from_value(d) for d in delegations),
        )
        if _uint(q["n"], "quorum n") != body.quorum_n:
            raise _fail(f"quorum n must be the member count - 1: expected {body.quorum_n}")
        if body.to_bytes() != data:
            raise _fail("members, issuers, admins or kinds are not in canonical order")
        return body

    def next_version(self, issued_at: int, **changes: Any) -> ManifestBody:
        """Version n+1: this one with ``changes``, naming this version's hash."""
        return dataclasses.replace(
            self, version=self.version + 1, prev=self.hash, issued_at=issued_at, **changes
        )


def _unique(values: Iterable[Any], what: str) -> None:
    seen: set[Any] = set()
    for v in values:
        if v in seen:
            shown = v.hex()[:16] + "…" if isinstance(v, bytes) else repr(v)
            raise _fail(f"duplicate {what}: {shown}")
        seen.add(v)


# --- editing (pure: each returns the next version's body) -----------------------------------
def add_member(body: ManifestBody, member: Member, issued_at: int) -> ManifestBody:
    """The next version with ``member`` added (or replacing the member of its region)."""
    others = tuple(m for m in body.members if m.region != member.region)
    return body.next_version(issued_at, members=(*others, member))


def _replace_member(
    body: ManifestBody, region: str, issued_at: int, **changes: Any
) -> ManifestBody:
    old = body.member(region)
    if old is None:
        raise _fail(f"no member with region {region!r}")
    new = dataclasses.replace(old, **changes)
    return add_member(body, new, issued_at)


def rotate_issuer_key(
    body: ManifestBody,
    region: str,
    issuer_id: str,
    new_key: bytes,
    at: int,
    issued_at: int,
    kinds: Sequence[str] | None = None,
) -> ManifestBody:
    """Close every open window of ``issuer_id`` at ``at`` and add ``new_key`` from ``at``.

    The old keys stay listed (with their closed windows), so bundles signed before
    ``at`` keep verifying. ``kinds`` default to the union of the old keys' kinds.
    """
    member = body.member(region)
    if member is None:
        raise _fail(f"no member with region {region!r}")
    old = [i for i in member.issuers if i.issuer_id == issuer_id]
    if not old and not kinds:
        raise _fail(f"member {region} has no issuer {issuer_id!r} (give kinds to add one)")
    if any(i.key == new_key for i in old):
        raise _fail(f"issuer {issuer_id}: the new key is already listed")
    kept: list[IssuerKey] = []
    for i in member.issuers:
        if i.issuer_id == issuer_id and (i.valid_until is None or i.valid_until > at):
            if i.valid_from >= at:
                raise _fail(f"issuer {issuer_id}: a key starts at or after the rotation time")
            i = dataclasses.replace(i, valid_until=at)
        kept.append(i)
    new_kinds = tuple(kinds) if kinds else tuple(sorted({k for i in old for k in i.kinds}))
    kept.append(IssuerKey(issuer_id, new_key, at, None, new_kinds))
    return _replace_member(body, region, issued_at, issuers=tuple(kept))


def retire_log_key(
    body: ManifestBody, region: str, new_key: bytes, at: int, issued_at: int
) -> ManifestBody:
    """The next version with ``region``'s log key replaced; the old key is kept as a
    retired key so checkpoints and receipts it signed keep verifying."""
    member = body.member(region)
    if member is None:
        raise _fail(f"no member with region {region!r}")
    retired = RetiredLogKey(member.log_key, member.log_note_name, at)
    return _replace_member(
        body,
        region,
        issued_at,
        log_key=new_key,
        retired_log_keys=(*member.retired_log_keys, retired),
    )


def add_recognition(body: ManifestBody, agreement: Recognition, issued_at: int) -> ManifestBody:
    """The next version with one more recognition agreement.

    Raises:
        FormatError: the agreement is already listed, or names a region that is not a
            member.
    """
    if agreement in body.recognitions:
        raise _fail(f"recognition already listed: {agreement.describe()}")
    return body.next_version(issued_at, recognitions=(*body.recognitions, agreement))


def remove_recognition(body: ManifestBody, agreement: Recognition, issued_at: int) -> ManifestBody:
    """The next version without ``agreement``. Derived records signed while it was listed
    keep verifying: the chain closes its window at this version's ``issued_at``.

    Raises:
        FormatError: no such agreement in ``body``.
    """
    if agreement not in body.recognitions:
        raise _fail(f"no such recognition: {agreement.describe()}")
    kept = tuple(r for r in body.recognitions if r != agreement)
    return body.next_version(issued_at, recognitions=kept)


def add_delegation(body: ManifestBody, delegation: Delegation, issued_at: int) -> ManifestBody:
    """The next version with one more repair delegation.

    Raises:
        FormatError: the delegation is already listed, or names a region that is not a
            member or an issuer no member lists.
    """
    if delegation in body.delegations:
        raise _fail(f"delegation already listed: {delegation.describe()}")
    return body.next_version(issued_at, delegations=(*body.delegations, delegation))


def remove_delegation(body: ManifestBody, delegation: Delegation, issued_at: int) -> ManifestBody:
    """The next version without ``delegation``. Statements signed while it was listed
    stay authorised: the chain closes its window at this version's ``issued_at``.

    Raises:
        FormatError: no such delegation in ``body``.
    """
    if delegation not in body.delegations:
        raise _fail(f"no such delegation: {delegation.describe()}")
    kept = tuple(d for d in body.delegations if d != delegation)
    return body.next_version(issued_at, delegations=kept)


# --- signing --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AdminSignature:
    """One COSE_Signature: ``[bstr .cbor {1: -8, 4: kid}, {}, signature]``."""

    kid: bytes
    signature: bytes

    @property
    def protected(self) -> bytes:
        return encoding.encode({1: ALG_EDDSA, 4: self.kid})

    def to_value(self) -> list[Any]:
        return [self.protected, {}, self.signature]


def _sig_structure(payload: bytes, signer_protected: bytes) -> bytes:
    """RFC 9052 §4.4 Sig_structure for COSE_Sign, no external AAD."""
    return encoding.encode(["Signature", _BODY_PROTECTED, signer_protected, b"", payload])


@dataclass(frozen=True, slots=True)
class SignedManifest:
    """One manifest version: the body bytes and the admin signatures collected so far.
    Its ``hash`` does not depend on the signatures."""

    payload: bytes
    signatures: tuple[AdminSignature, ...] = ()

    def __post_init__(self) -> None:
        sigs = tuple(sorted(self.signatures, key=lambda s: s.kid))
        _unique((s.kid for s in sigs), "admin signature")
        object.__setattr__(self, "signatures", sigs)

    @property
    def hash(self) -> bytes:
        return hashlib.sha256(self.payload).digest()

    @property
    def body(self) -> ManifestBody:
        """The parsed body (not yet authenticated: see ``verify_manifest_chain``)."""
        return ManifestBody.from_bytes(self.payload)

    @classmethod
    def create(cls, body: ManifestBody, keys: Sequence[SigningKey] = ()) -> SignedManifest:
        out = cls(body.to_bytes())
        for k in keys:
            out = out.sign(k)
        return out

    def sign(self, key: SigningKey) -> SignedManifest:
        """This version with ``key``'s signature added (replacing an earlier one by it)."""
        sig = AdminSignature(key.kid, b"")
        sig = AdminSignature(key.kid, key.sign(_sig_structure(self.payload, sig.protected)))
        kept = tuple(s for s in self.signatures if s.kid != key.kid)
        return SignedManifest(self.payload, (*kept, sig))

    def valid_signers(self, admins: Iterable[bytes]) -> set[bytes]:
        """The keys among ``admins`` with a signature here.

        Raises:
            SignatureError: a signature by one of ``admins`` does not verify.
        """
        by_kid = {s.kid: s for s in self.signatures}
        out: set[bytes] = set()
        for a in admins:
            s = by_kid.get(compute_kid(a))
            if s is None:
                continue
            verify_ed25519(
                a,
                _sig_structure(self.payload, s.protected),
                s.signature,
                what=f"manifest: signature by admin {s.kid.hex()[:16]}…",
            )
            out.add(a)
        return out

    def to_bytes(self) -> bytes:
        return encoding.encode(
            cbor2.CBORTag(
                COSE_SIGN_TAG,
                [_BODY_PROTECTED, {}, self.payload, [s.to_value() for s in self.signatures]],
            )
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> SignedManifest:
        """Strictly parse the COSE_Sign envelope (the body is parsed by ``body``).

        Raises:
            CborError / OversizeError: not deterministic CBOR or too large.
            CoseError: wrong tag, headers, algorithm, or signature shape.
        """
        v = encoding.decode(data, what="manifest", max_size=MAX_MANIFEST_BYTES)
        if not isinstance(v, cbor2.CBORTag) or v.tag != COSE_SIGN_TAG:
            got = v.tag if isinstance(v, cbor2.CBORTag) else type(v).__name__
            raise CoseError(f"manifest: wrong cose tag: expected 98 (COSE_Sign), got {got}")
        arr = v.value
        if not isinstance(arr, list) or len(arr) != 4:
            raise CoseError("manifest: cose_sign must be an array of 4 items")
        protected, unprotected, payload, sigs = arr
        if protected != _BODY_PROTECTED or unprotected != {}:
            raise CoseError(f"manifest: headers must be {{3: {MANIFEST_CONTENT_TYPE!r}}} and {{}}")
        if not isinstance(payload, bytes) or not isinstance(sigs, list):
            raise CoseError("manifest: payload must be a bstr and signatures an array")
        out: list[AdminSignature] = []
        for s in sigs:
            if not isinstance(s, list) or len(s) != 3 or s[1] != {}:
                raise CoseError("manifest: each signature must be [protected, {}, signature]")
            if not isinstance(s[0], bytes) or not isinstance(s[2], bytes) or len(s[2]) != 64:
                raise CoseError("manifest: signature must be a 64-byte bstr")
            hdr = encoding.decode(s[0], what="manifest signature header")
            if not isinstance(hdr, dict) or set(hdr) != {1, 4} or hdr[1] != ALG_EDDSA:
                raise CoseError("manifest: signature header must be {1: -8 (EdDSA), 4: kid}")
            if not isinstance(hdr[4], bytes) or len(hdr[4]) != 32:
                raise CoseError("manifest: signature kid must be a 32-byte bstr")
            out.append(AdminSignature(hdr[4], s[2]))
        signed = cls(payload, tuple(out))
        if signed.to_bytes() != data:
            raise CoseError("manifest: signatures are not sorted by kid")
        return signed


# --- the chain ------------------------------------------------------------------------------
def encode_chain(versions: Sequence[SignedManifest]) -> bytes:
    """The export file: ``{"format": "credex-manifest-chain/1", "versions": [+ bstr]}``."""
    return encoding.encode({"format": CHAIN_FORMAT, "versions": [v.to_bytes() for v in versions]})


def decode_chain(data: bytes) -> list[SignedManifest]:
    """Parse an export file, or a single manifest version (a chain of one).

    Raises:
        FormatError: not a chain file or a manifest version.
    """
    v = encoding.decode(data, what="manifest chain", max_size=MAX_CHAIN_BYTES)
    if isinstance(v, cbor2.CBORTag):
        return [SignedManifest.from_bytes(data)]
    m = _map(v, ("format", "versions"), "chain file")
    if m["format"] != CHAIN_FORMAT:
        raise _fail(f"chain file format: expected {CHAIN_FORMAT!r}, got {m['format']!r}")
    items = _list(m["versions"], "chain versions")
    if not items or not all(isinstance(x, bytes) for x in items):
        raise _fail("chain versions must be one or more bstr")
    return [SignedManifest.from_bytes(x) for x in items]


def _require(signed: SignedManifest, admins: Sequence[bytes], threshold: int, whose: str) -> None:
    n = len(signed.valid_signers(admins))
    if n < threshold:
        raise PolicyError(
            f"manifest: not enough admin signatures: expected {threshold} of {whose}, got {n}"
        )


def verify_manifest_chain(
    versions: Sequence[SignedManifest],
    *,
    pinned_hash: bytes | None = None,
    root_admins: Sequence[bytes] | None = None,
    root_threshold: int = 1,
) -> Manifest:
    """Check a chain of versions 1..n and return it as trust material.

    Version 1 is the trust root: its hash must equal ``pinned_hash`` if given, and it
    must carry ``root_threshold`` signatures of ``root_admins`` if given. With neither,
    the caller trusts the file it was handed (as with a ``credex-trust/1`` file). Every
    version must carry ``admin_threshold`` valid signatures of its own admins; version
    n+1 must also name version n's hash, keep its federation name and carry
    ``admin_threshold`` valid signatures of version n's admins. Signatures by admins
    are checked before the body they sign is parsed.

    Raises:
        FormatError / CoseError: a malformed version.
        SignatureError: an admin signature that does not verify (tampered bytes).
        PolicyError: too few admin signatures.
        VerificationError: empty chain, wrong first hash, version numbers or prev hashes
            that do not chain, a changed federation name or a clock going backwards.
    """
    if not versions:
        raise VerificationError("manifest: the chain is empty")
    first = versions[0]
    if pinned_hash is not None and first.hash != pinned_hash:
        raise VerificationError(
            f"manifest: version 1 is not the pinned one: expected {pinned_hash.hex()}, "
            f"got {first.hash.hex()}"
        )
    if root_admins is not None:
        _require(first, root_admins, root_threshold, "the root admins")
    prev = first.body
    if prev.version != 1:
        raise VerificationError(f"manifest: the chain must start at version 1, got {prev.version}")
    _require(first, prev.admins, prev.admin_threshold, "version 1's admins")
    bodies = [prev]
    for signed in versions[1:]:
        n = prev.version + 1
        try:
            _require(signed, prev.admins, prev.admin_threshold, f"version {prev.version}'s admins")
        except PolicyError as e:
            raise PolicyError(f"{e} (version {n})") from e
        body = signed.body
        if body.version != n:
            raise VerificationError(
                f"manifest: versions do not follow: expected {n}, got {body.version}"
            )
        if body.prev != prev.hash:
            got = body.prev.hex() if body.prev else "null"
            raise VerificationError(
                f"manifest: version {n} does not chain: prev expected {prev.hash.hex()}, got {got}"
            )
        if body.federation != prev.federation:
            raise VerificationError(
                f"manifest: version {n} renames the federation: expected "
                f"{prev.federation!r}, got {body.federation!r}"
            )
        if body.issued_at < prev.issued_at:
            raise VerificationError(f"manifest: version {n} is issued before version {n - 1}")
        _require(signed, body.admins, body.admin_threshold, f"version {n}'s own admins")
        bodies.append(body)
        prev = body
    return Manifest(tuple(versions), tuple(bodies))


class Manifest:
    """A verified manifest chain, as a ``TrustPolicy``. Build with ``verify_manifest_chain``.

    - issuers: every key of the latest version with its window; a key that a later
      version no longer lists keeps its last window, closed at that version's
      ``issued_at`` (old bundles stay verifiable, new ones are refused).
    - logs: every member's current and retired log keys, in every version.
    - witnesses for an origin: the latest version's *other* members' witness keys (a
      log's own witness never counts toward its quorum); quorum: k.
    """

    def __init__(self, versions: tuple[SignedManifest, ...], bodies: tuple[ManifestBody, ...]):
        self.versions = versions
        self.bodies = bodies
        latest = bodies[-1]
        current: dict[tuple[str, bytes], TrustedIssuer] = {}
        issuers: dict[tuple[str, bytes], TrustedIssuer] = {}
        logs: dict[bytes, TrustedLog] = {}
        for body in bodies:
            listed: dict[tuple[str, bytes], TrustedIssuer] = {}
            for m in body.members:
                for i in m.issuers:
                    listed[(i.issuer_id, i.key)] = TrustedIssuer(
                        i.issuer_id,
                        m.region,
                        i.key,
                        i.valid_from,
                        i.valid_until,
                        frozenset(i.kinds),
                    )
                for key, name in m.log_keys:
                    logs[compute_kid(key)] = TrustedLog(m.origin, name, key)
            for k, old in list(issuers.items()):  # dropped by this version: closed at issued_at
                if k not in listed and k in current:
                    until = body.issued_at
                    if old.valid_until is not None:
                        until = min(until, old.valid_until)
                    issuers[k] = dataclasses.replace(old, valid_until=max(until, old.valid_from))
            issuers.update(listed)
            current = listed
        self._issuers: dict[bytes, list[TrustedIssuer]] = {}
        for t in issuers.values():
            self._issuers.setdefault(t.kid, []).append(t)
        self._logs = logs
        self._origins = {
            m.origin: TrustedLog(m.origin, m.log_note_name, m.log_key) for m in latest.members
        }
        self._witnesses = [
            (m.origin, TrustedWitness(m.witness_name, m.witness_key)) for m in latest.members
        ]
        self._recognitions = _effective_recognitions(bodies)
        self._delegations = _effective_delegations(bodies)

    @property
    def latest(self) -> ManifestBody:
        return self.bodies[-1]

    @property
    def federation(self) -> str:
        return self.latest.federation

    @property
    def hash(self) -> bytes:
        """The latest version's hash."""
        return self.versions[-1].hash

    def issuers_for_kid(self, kid: bytes) -> Sequence[TrustedIssuer]:
        return self._issuers.get(kid, [])

    def log_for_kid(self, kid: bytes) -> TrustedLog | None:
        return self._logs.get(kid)

    def log_for_origin(self, origin: str) -> TrustedLog | None:
        return self._origins.get(origin)

    def witnesses_for(self, origin: str) -> Sequence[TrustedWitness]:
        return [w for o, w in self._witnesses if o != origin]

    def quorum_for(self, origin: str) -> int:
        return self.latest.quorum

    @property
    def recognitions(self) -> tuple[Recognition, ...]:
        """Every agreement with its effective window: the latest version's as listed,
        and those a later version dropped, closed at that version's ``issued_at``."""
        return self._recognitions

    def recognition_for(
        self,
        region: str,
        source_region: str,
        kind: str,
        issuer: str,
        policy_leaf_hash: bytes,
        at: int,
    ) -> Recognition | None:
        """The agreement under which ``region`` may recognise a ``kind`` record of
        ``source_region`` signed by ``issuer``, converted under the policy with leaf hash
        ``policy_leaf_hash``, at time ``at``; ``None`` if there is none."""
        return next(
            (
                r
                for r in self._recognitions
                if r.matches(region, source_region, kind, issuer, policy_leaf_hash, at)
            ),
            None,
        )

    @property
    def delegations(self) -> tuple[Delegation, ...]:
        """Every repair delegation with its effective window, as ``recognitions``."""
        return self._delegations

    def delegation_for(self, region: str, issuer: str, kind: str, at: int) -> Delegation | None:
        """The delegation letting ``issuer`` act on ``region``'s ``kind`` records at ``at``;
        ``None`` if there is none."""
        return next((d for d in self._delegations if d.matches(region, issuer, kind, at)), None)

    def repair_authorised(self, target: Statement, stmt: Statement) -> bool:
        """``status_at``'s ``authorised_repairers``: True when a delegation of
        ``target``'s region covers ``stmt``'s issuer for ``target``'s kind at ``stmt``'s
        iat (the finding's own issuer needs none: 谁认定、谁修复)."""
        found = self.delegation_for(
            target.record.region, stmt.claims.iss, target.record.kind, stmt.claims.iat
        )
        return found is not None


def _effective_delegations(bodies: Sequence[ManifestBody]) -> tuple[Delegation, ...]:
    """The delegations of a chain as trust: the latest version's as listed; one a later
    version drops keeps its window, closed at that version's ``issued_at``."""
    closed: list[Delegation] = []
    current: tuple[Delegation, ...] = ()
    for body in bodies:
        for d in current:
            if d in body.delegations:
                continue
            until = body.issued_at if d.valid_until is None else min(d.valid_until, body.issued_at)
            if until > d.valid_from:
                closed.append(dataclasses.replace(d, valid_until=until))
        current = body.delegations
    return (*current, *sorted(closed, key=Delegation._order))


def _effective_recognitions(bodies: Sequence[ManifestBody]) -> tuple[Recognition, ...]:
    """The agreements of a chain as trust (see ``Manifest.recognitions``)."""
    closed: list[Recognition] = []
    current: tuple[Recognition, ...] = ()
    for body in bodies:
        for r in current:
            if r in body.recognitions:
                continue
            until = body.issued_at if r.valid_until is None else min(r.valid_until, body.issued_at)
            if until > r.valid_from:  # a window that never opened is dropped
                closed.append(dataclasses.replace(r, valid_until=until))
        current = body.recognitions
    return (*current, *sorted(closed, key=Recognition._order))


# --- recognition checks (pure) --------------------------------------------------------------


@runtime_checkable
class RecognitionTrust(Protocol):
    """Trust material that carries recognition agreements (``Manifest``)."""

    def recognition_for(
        self,
        region: str,
        source_region: str,
        kind: str,
        issuer: str,
        policy_leaf_hash: bytes,
        at: int,
    ) -> Recognition | None: ...


def require_recognition(
    trust: RecognitionTrust,
    region: str,
    source_region: str,
    kind: str,
    issuer: str,
    policy_leaf_hash: bytes,
    at: int,
) -> Recognition | None:
    """The agreement covering one recognition; ``None`` when the source is ``region``'s
    own (converting a region's own records is not a recognition).

    Raises:
        RecognitionRefusedError: ``region`` recognises from another region with no
            agreement covering kind, issuer, policy and time.
    """
    if region == source_region:
        return None
    found = trust.recognition_for(region, source_region, kind, issuer, policy_leaf_hash, at)
    if found is None:
        raise RecognitionRefusedError(
            f"recognition: {region} has no agreement to recognise {kind} from "
            f"{source_region} under policy {policy_leaf_hash.hex()[:16]}… at {at} "
            f"(source issuer {issuer})"
        )
    return found


def check_recognition(
    trust: object,
    derived: Statement,
    sources: Sequence[Statement],
    policy: Statement,
) -> None:
    """Verification step 8's agreement check for verified statements: every source of
    ``derived`` from another region must be covered by an agreement of ``trust`` for the
    derived record's region, the source's kind and issuer, the policy and the derived
    statement's ``iat``. Trust without agreements (a ``credex-trust/1`` file) checks
    nothing.

    Raises:
        RecognitionRefusedError: a source no agreement covers.
    """
    if not isinstance(trust, RecognitionTrust):
        return
    for source in sources:
        require_recognition(
            trust,
            derived.record.region,
            source.record.region,
            source.record.kind,
            source.claims.iss,
            policy.leaf_hash,
            derived.claims.iat,
        )


# --- repair delegations (pure) --------------------------------------------------------------
@runtime_checkable
class DelegationTrust(Protocol):
    """Trust material that carries repair delegations (``Manifest``)."""

    def repair_authorised(self, target: Statement, stmt: Statement) -> bool: ...


def authorised_repairers(trust: object) -> Callable[[Statement, Statement], bool] | None:
    """The ``authorised_repairers`` callable for ``status_at`` from trust material: a
    manifest's delegations, or ``None`` for trust without them (a ``credex-trust/1``
    file: only the finding's own issuer may repair)."""
    if isinstance(trust, DelegationTrust):
        return trust.repair_authorised
    return None

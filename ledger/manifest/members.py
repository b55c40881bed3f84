"""Members of a federation: a region's node, its keys and its issuers (docs/manifest.md).

``Member`` (region, origin, endpoints, TLS certificate pin and chain, log and witness
keys), ``IssuerKey`` (a key with its validity window and kinds) and ``RetiredLogKey``.
Each validates itself on construction and round-trips through ``to_value`` /
``from_value`` with exact keys. Pure.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from typing import Any, Final

from credex.ledger.manifest._fields import (
    NAME_RE,
    REGION_RE,
    array,
    endpoint,
    exact_map,
    fail,
    key32,
    kinds_of,
    text,
    uint,
)

__all__ = [
    "MAX_CHAIN_PEM_BYTES",
    "IssuerKey",
    "Member",
    "RetiredLogKey",
]


@dataclass(frozen=True, slots=True)
class IssuerKey:
    """One issuer key: valid for ``valid_from <= iat < valid_until`` and for ``kinds``."""

    issuer_id: str
    key: bytes
    valid_from: int
    valid_until: int | None
    kinds: tuple[str, ...]

    def __post_init__(self) -> None:
        text(self.issuer_id, "issuer_id", NAME_RE)
        key32(self.key, f"issuer {self.issuer_id} key")
        uint(self.valid_from, "issuer valid_from")
        if self.valid_until is not None and uint(self.valid_until, "issuer valid_until") <= (
            self.valid_from
        ):
            raise fail(f"issuer {self.issuer_id}: valid_until must be after valid_from")
        kinds = tuple(sorted(set(self.kinds)))
        if not kinds or not all(isinstance(k, str) and k for k in kinds):
            raise fail(f"issuer {self.issuer_id}: kinds must be non-empty text")
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
        m = exact_map(v, ("issuer_id", "key", "valid_from", "valid_until", "kinds"), "issuer")
        until = m["valid_until"]
        return cls(
            text(m["issuer_id"], "issuer_id"),
            key32(m["key"], "issuer key"),
            uint(m["valid_from"], "issuer valid_from"),
            None if until is None else uint(until, "issuer valid_until"),
            kinds_of(m["kinds"], "issuer"),
        )

    def sort_key(self) -> tuple[str, int, bytes]:
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
        m = exact_map(v, ("key", "note_name", "retired_at"), "retired log key")
        return cls(
            key32(m["key"], "retired log key"),
            text(m["note_name"], "retired log key note_name", NAME_RE),
            uint(m["retired_at"], "retired log key retired_at"),
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


def _check_chain(pem: bytes, sha256: bytes, region: str) -> None:
    """The chain's first certificate must be the one ``tls_cert_sha256`` pins."""
    if len(pem) > MAX_CHAIN_PEM_BYTES:
        raise fail(f"member {region} tls_chain_pem too large")
    blocks = _PEM_CERT_RE.findall(pem)
    if len(blocks) < 2:
        raise fail(f"member {region} tls_chain_pem must hold the certificate and its ca")
    try:
        der = base64.b64decode(b"".join(blocks[0].split()), validate=True)
    except ValueError as e:
        raise fail(f"member {region} tls_chain_pem is not pem") from e
    if hashlib.sha256(der).digest() != sha256:
        raise fail(f"member {region} tls_chain_pem does not match tls_cert_sha256")


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
        text(self.region, "member region", REGION_RE)
        text(self.origin, f"member {self.region} origin", NAME_RE)
        endpoint(self.endpoint, f"member {self.region} endpoint")
        if self.mtls_endpoint is not None:
            endpoint(self.mtls_endpoint, f"member {self.region} mtls_endpoint")
        if self.tls_chain_pem is not None:
            _check_chain(self.tls_chain_pem, self.tls_cert_sha256, self.region)
        key32(self.tls_cert_sha256, f"member {self.region} tls_cert_sha256")
        key32(self.log_key, f"member {self.region} log_key")
        text(self.log_note_name, f"member {self.region} log_note_name", NAME_RE)
        text(self.witness_name, f"member {self.region} witness_name", NAME_RE)
        key32(self.witness_key, f"member {self.region} witness_key")
        object.__setattr__(self, "issuers", tuple(sorted(self.issuers, key=IssuerKey.sort_key)))
        object.__setattr__(
            self, "retired_log_keys", tuple(sorted(self.retired_log_keys, key=lambda r: r.key))
        )
        seen: set[tuple[str, bytes]] = set()
        for i in self.issuers:
            if (i.issuer_id, i.key) in seen:
                raise fail(f"member {self.region}: issuer {i.issuer_id} lists one key twice")
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

    def to_json(self) -> dict[str, Any]:
        """The member as JSON (keys and hashes in hex; no TLS chain)."""
        return {
            "region": self.region,
            "origin": self.origin,
            "endpoint": self.endpoint,
            "mtls_endpoint": self.mtls_endpoint,
            "tls_cert_sha256": self.tls_cert_sha256.hex(),
            "log_key": self.log_key.hex(),
            "log_note_name": self.log_note_name,
            "retired_log_keys": [
                {"key": r.key.hex(), "note_name": r.note_name, "retired_at": r.retired_at}
                for r in self.retired_log_keys
            ],
            "witness_name": self.witness_name,
            "witness_key": self.witness_key.hex(),
            "issuers": [
                {
                    "issuer_id": i.issuer_id,
                    "public_key": i.key.hex(),
                    "valid_from": i.valid_from,
                    "valid_until": i.valid_until,
                    "kinds": list(i.kinds),
                }
                for i in self.issuers
            ],
        }

    @classmethod
    def from_value(cls, v: Any) -> Member:
        optional = {k: v[k] for k in _MEMBER_OPTIONAL if isinstance(v, dict) and k in v}
        if optional:
            v = {k: x for k, x in v.items() if k not in _MEMBER_OPTIONAL}
        m = exact_map(v, _MEMBER_KEYS, "member")
        chain = optional.get("tls_chain_pem")
        if chain is not None and not isinstance(chain, bytes):
            raise fail("member tls_chain_pem must be a bstr")
        mtls = optional.get("mtls_endpoint")
        return cls(
            region=text(m["region"], "member region"),
            origin=text(m["origin"], "member origin"),
            endpoint=text(m["endpoint"], "member endpoint"),
            tls_cert_sha256=key32(m["tls_cert_sha256"], "member tls_cert_sha256"),
            log_key=key32(m["log_key"], "member log_key"),
            log_note_name=text(m["log_note_name"], "member log_note_name"),
            witness_name=text(m["witness_name"], "member witness_name"),
            witness_key=key32(m["witness_key"], "member witness_key"),
            issuers=tuple(IssuerKey.from_value(i) for i in array(m["issuers"], "issuers")),
            retired_log_keys=tuple(
                RetiredLogKey.from_value(r)
                for r in array(m["retired_log_keys"], "retired_log_keys")
            ),
            mtls_endpoint=None if mtls is None else text(mtls, "member mtls_endpoint"),
            tls_chain_pem=chain,
        )

"""The federation manifest at a node: its files, the admin key, proposing and logging versions.

::

    HOME/federation/manifest-<n>.cbor    accepted versions 1..n (COSE_Sign, docs/manifest.md)
    HOME/federation/proposed-<n>.cbor    a version still collecting admin signatures
    HOME/keys/federation-admin.key       this operator's admin key (0600, hex seed)
    HOME/keys/witness.key                this node's witness key, if no other is given

The pure manifest (layout, signing, chain rules, trust policy) is ``credex.ledger.manifest``;
this module reads and writes files and logs each accepted version into the node's own log
as a ``federation.manifest`` record. It never prints and never logs key material.
"""

from __future__ import annotations

import hashlib
import os
import re
import ssl
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from credex.ledger.encoding import hex32
from credex.ledger.errors import ConfigError, FormatError, PolicyError
from credex.ledger.keys import SigningKey
from credex.ledger.manifest import (
    IssuerKey,
    Manifest,
    ManifestBody,
    Member,
    SignedManifest,
    verify_manifest_chain,
)
from credex.ledger.record import Record, Subject
from credex.node.files import locked, read_secret, write_atomic, write_secret
from credex.node.home import NodeHome
from credex.node.local import IssueResult, LocalNode

__all__ = [
    "ADMIN_KEY_FILE",
    "FEDERATION_DIR",
    "WITNESS_KEY_FILE",
    "Proposal",
    "admin_key",
    "chain_lock",
    "install",
    "install_held",
    "load_chain",
    "load_manifest",
    "local_member",
    "log_version",
    "member_from_info",
    "node_tls_chain",
    "peer_client_name",
    "propose",
    "read_proposal",
    "register_peer_clients",
    "require_cert_covers",
    "submit_signed",
    "tls_cert_sha256",
    "witness_public_key",
]

FEDERATION_DIR: Final = "federation"
ADMIN_KEY_FILE: Final = "federation-admin.key"
WITNESS_KEY_FILE: Final = "witness.key"
_VERSION_RE: Final = re.compile(r"^manifest-([1-9][0-9]*)\.cbor\Z")


def _dir(home: NodeHome) -> Path:
    return home.path / FEDERATION_DIR


def admin_key(home: NodeHome, *, create: bool = False) -> SigningKey:
    """This node's federation admin key (created with ``create`` if missing).

    Raises:
        ConfigError: no admin key (and not ``create``), or a key file readable by others.
    """
    path = home.keys_dir / ADMIN_KEY_FILE
    if create and not path.exists():
        write_secret(path, os.urandom(32))
    if not path.exists():
        raise ConfigError("federation: this node has no admin key (keys/federation-admin.key)")
    return SigningKey(read_secret(path))


def witness_public_key(home: NodeHome) -> bytes:
    """The node's witness public key from ``keys/witness.key``, created if missing."""
    path = home.keys_dir / WITNESS_KEY_FILE
    if not path.exists():
        write_secret(path, os.urandom(32))
    return SigningKey(read_secret(path)).public_key


def tls_cert_sha256(pem: str) -> bytes:
    """SHA-256 of the DER certificate in ``pem`` (the fingerprint the manifest pins).

    Raises:
        FormatError: not a PEM certificate.
    """
    try:
        der = ssl.PEM_cert_to_DER_cert(pem.strip() + "\n")
    except ValueError as e:
        raise FormatError("federation: tls certificate is not pem") from e
    return hashlib.sha256(der).digest()


def local_member(
    home: NodeHome,
    *,
    endpoint: str,
    tls_sha256: bytes,
    witness_key: bytes | None = None,
    mtls_endpoint: str | None = None,
    tls_chain_pem: bytes | None = None,
) -> Member:
    """This node as a member: its log key (note name = origin, as the node signs),
    witness key, and every registered issuer key with its window and kinds; with
    ``mtls_endpoint`` and ``tls_chain_pem`` (node certificate + node CA) when given."""
    issuers = tuple(
        IssuerKey(e.issuer_id, e.public_key, e.valid_from, e.valid_until, tuple(e.kinds))
        for e in home.issuers()
    )
    return Member(
        region=home.region,
        origin=home.origin,
        endpoint=endpoint,
        tls_cert_sha256=tls_sha256,
        log_key=home.log_key().public_key,
        log_note_name=home.origin,
        witness_name=home.origin,
        witness_key=witness_key if witness_key is not None else witness_public_key(home),
        issuers=issuers,
        mtls_endpoint=mtls_endpoint,
        tls_chain_pem=tls_chain_pem,
    )


def node_tls_chain(
    home: NodeHome, now: int, endpoints: Sequence[str | None] = ()
) -> tuple[bytes, bytes]:
    """(SHA-256 of the node certificate, certificate + CA PEM), creating TLS material;
    the certificate is made to cover the hosts of ``endpoints`` (HOST:PORT) first, since
    the manifest pins it from now on."""
    from credex.node.rpc.tls import NodeTls, endpoint_host

    tls = NodeTls(home.path, name=home.region)
    hosts = [h for e in endpoints if e and (h := endpoint_host(e)) is not None]
    tls.ensure(now=now, san=hosts)
    cert = tls.server_cert_pem()
    return tls_cert_sha256(cert.decode("ascii")), cert + tls.ca_pem()


def require_cert_covers(home: NodeHome, names: Sequence[str], now: int) -> None:
    """Refuse to re-issue the node certificate for ``names`` once a manifest pins it.

    Raises:
        ConfigError: this node is a member, and its certificate does not cover every
            name: a new one would no longer match the fingerprint the others pinned.
    """
    from credex.node.rpc.tls import NodeTls

    if not names or not load_chain(home):
        return
    tls = NodeTls(home.path, name=home.region)
    if tls.covers(names):
        return
    member = next((m for m in load_manifest(home).latest.members if m.origin == home.origin), None)
    if member is None:
        return
    raise ConfigError(
        f"serve: the node certificate does not cover {', '.join(names)}, and the federation "
        "manifest pins it: a new certificate would cut this node off from the others. Name "
        "every host before joining (credex node info --san NAME), or have an admin replace "
        "this member (credex federation add-member --replace) with the new certificate"
    )


def peer_client_name(member: Member) -> str:
    """The name a member's node certificate is registered under here (``peer-<region>``)."""
    return f"peer-{member.region}"


def register_peer_clients(home: NodeHome, manifest: Manifest, now: int) -> list[str]:
    """Register every other member's node certificate as a ``peer`` client (mTLS).

    Members without ``tls_chain_pem`` are skipped; a certificate already registered (by
    fingerprint) is left alone. Returns the names registered now.
    """
    from credex.node.rpc.tls import NodeTls

    tls = NodeTls(home.path, name=home.region)
    known = {c.fingerprint for c in tls.clients()}
    names = {c.name for c in tls.clients()}
    added: list[str] = []
    for m in manifest.latest.members:
        if m.origin == home.origin or m.tls_chain_pem is None:
            continue
        if m.tls_cert_sha256.hex() in known or peer_client_name(m) in names:
            continue
        tls.register_external(peer_client_name(m), "peer", m.tls_chain_pem, now=now)
        added.append(peer_client_name(m))
    return added


def member_from_info(
    info: Mapping[str, Any], *, endpoint: str | None = None, mtls_endpoint: str | None = None
) -> Member:
    """A member from another node's ``credex node info --json``: origin, region,
    log_public_key, witness_public_key, tls_cert_pem (or tls_cert_sha256), endpoint (or
    listen), mtls_endpoint (or mtls_listen), ca_pem (with tls_cert_pem: the member's
    ``tls_chain_pem``), issuers [{issuer_id, public_key, valid_from, valid_until, kinds}].

    Raises:
        FormatError: a missing or malformed field.
    """
    if not isinstance(info, Mapping):
        raise FormatError("federation: node info must be a json object")
    for name in ("origin", "region", "log_public_key", "witness_public_key"):
        if not isinstance(info.get(name), str):
            raise FormatError(f"federation: node info is missing {name!r}")
    if isinstance(info.get("tls_cert_pem"), str):
        tls = tls_cert_sha256(info["tls_cert_pem"])
    elif isinstance(info.get("tls_cert_sha256"), str):
        tls = hex32(info["tls_cert_sha256"], "tls_cert_sha256", "federation")
    else:
        raise FormatError("federation: node info is missing 'tls_cert_pem'")
    where = endpoint or info.get("endpoint") or info.get("listen")
    if not isinstance(where, str):
        raise FormatError("federation: node info has no endpoint (pass --endpoint HOST:PORT)")
    mtls = mtls_endpoint or info.get("mtls_endpoint") or info.get("mtls_listen")
    if mtls is not None and not isinstance(mtls, str):
        raise FormatError("federation: node info mtls_listen must be text")
    chain: bytes | None = None
    if isinstance(info.get("tls_cert_pem"), str) and isinstance(info.get("ca_pem"), str):
        chain = (info["tls_cert_pem"].strip() + "\n" + info["ca_pem"].strip() + "\n").encode()
    issuers = []
    raw = info.get("issuers", [])
    if not isinstance(raw, list):
        raise FormatError("federation: node info issuers must be a list")
    for i in raw:
        if not isinstance(i, Mapping) or not isinstance(i.get("issuer_id"), str):
            raise FormatError("federation: each node info issuer needs an issuer_id")
        vf, vu, kinds = i.get("valid_from", 0), i.get("valid_until"), i.get("kinds")
        if type(vf) is not int or (vu is not None and type(vu) is not int):
            raise FormatError("federation: issuer valid_from/valid_until must be integers")
        if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
            raise FormatError("federation: issuer kinds must be a list of text")
        key = hex32(i.get("public_key"), "issuer public_key", "federation")
        issuers.append(IssuerKey(i["issuer_id"], key, vf, vu, tuple(kinds)))
    origin = info["origin"]
    return Member(
        region=info["region"],
        origin=origin,
        endpoint=where,
        tls_cert_sha256=tls,
        log_key=hex32(info["log_public_key"], "log_public_key", "federation"),
        log_note_name=str(info.get("log_note_name") or origin),
        witness_name=str(info.get("witness_name") or origin),
        witness_key=hex32(info["witness_public_key"], "witness_public_key", "federation"),
        issuers=tuple(issuers),
        mtls_endpoint=mtls,
        tls_chain_pem=chain,
    )


# --- the chain on disk ----------------------------------------------------------------------
def load_chain(home: NodeHome) -> list[SignedManifest]:
    """The accepted versions, in order (empty if this node has no manifest yet).

    Raises:
        ConfigError: a gap in the version files.
    """
    found: dict[int, Path] = {}
    d = _dir(home)
    if d.is_dir():
        for p in d.iterdir():
            m = _VERSION_RE.match(p.name)
            if m:
                found[int(m.group(1))] = p
    if sorted(found) != list(range(1, len(found) + 1)):
        raise ConfigError(f"federation: manifest versions are not contiguous: {sorted(found)}")
    return [SignedManifest.from_bytes(found[n].read_bytes()) for n in sorted(found)]


def load_manifest(home: NodeHome) -> Manifest:
    """The node's verified manifest (its first version is trusted as installed).

    Raises:
        ConfigError: no manifest yet.
        CredexError: the chain does not verify (see ``verify_manifest_chain``).
    """
    chain = load_chain(home)
    if not chain:
        raise ConfigError("federation: no manifest at this node (run credex federation init)")
    return verify_manifest_chain(chain)


@dataclass(frozen=True, slots=True)
class Proposal:
    """A new version: ``installed`` once it has every signature it needs, else ``path``
    is the file other admins sign (``credex federation sign``)."""

    signed: SignedManifest
    body: ManifestBody
    installed: bool
    path: Path
    logged: IssueResult | None = None


@contextmanager
def chain_lock(home: NodeHome) -> Iterator[None]:
    """Hold this home's manifest chain: one installer at a time (a command such as
    ``federation import`` and the server's follow loop may both install)."""
    _dir(home).mkdir(parents=True, exist_ok=True)
    with locked(_dir(home) / "chain"):
        yield


def install(home: NodeHome, signed: SignedManifest, now: int) -> Proposal:
    """Accept a fully signed next version: verify it extends the chain, write it, log it
    (under ``chain_lock``).

    Raises:
        PolicyError: not enough admin signatures yet.
        CredexError: it does not extend this node's chain.
    """
    with chain_lock(home):
        return install_held(home, signed, now)


def install_held(home: NodeHome, signed: SignedManifest, now: int) -> Proposal:
    """``install`` for a caller that holds ``chain_lock``."""
    chain = load_chain(home)
    manifest = verify_manifest_chain([*chain, signed])
    body = signed.body
    path = _dir(home) / f"manifest-{body.version}.cbor"
    write_atomic(path, signed.to_bytes())
    (_dir(home) / f"proposed-{body.version}.cbor").unlink(missing_ok=True)
    logged = log_version(home, signed, now)
    register_peer_clients(home, manifest, now)
    return Proposal(signed, body, True, path, logged)


def propose(home: NodeHome, body: ManifestBody, now: int) -> Proposal:
    """Sign ``body`` with this node's admin key; install it if that is enough, else write
    ``proposed-<n>.cbor`` for the other admins.

    Raises:
        PolicyError: this node's admin key is not an admin of the current version.
    """
    key = admin_key(home)
    chain = load_chain(home)
    if chain:
        current = chain[-1].body
        if key.public_key not in current.admins:
            raise PolicyError(
                f"federation: this node's admin key is not an admin of version {current.version}"
            )
    signed = SignedManifest.create(body, [key])
    return submit_signed(home, signed, now)


def submit_signed(home: NodeHome, signed: SignedManifest, now: int) -> Proposal:
    """Install ``signed`` if it has enough signatures, else store it as a proposal."""
    try:
        return install(home, signed, now)
    except PolicyError as e:
        if "not enough admin signatures" not in str(e):
            raise
    body = signed.body
    path = _dir(home) / f"proposed-{body.version}.cbor"
    write_atomic(path, signed.to_bytes())
    return Proposal(signed, body, False, path)


def read_proposal(data: bytes) -> SignedManifest:
    """A proposed version as sent by another admin (one COSE_Sign)."""
    return SignedManifest.from_bytes(data)


def log_version(home: NodeHome, signed: SignedManifest, now: int) -> IssueResult:
    """Log the version into this node's log as a ``federation.manifest`` record.

    The record's subject is a placeholder keyed-hash id derived from the version hash
    (records need a subject; a manifest is about no organisation or person).
    """
    body = signed.body
    record = Record(
        "federation.manifest",
        home.region,
        Subject("person", f"hmac:00000000:{signed.hash.hex()}"),
        {"federation": body.federation, "version": body.version, "hash": signed.hash},
        body.issued_at,
    )
    with LocalNode(home) as node:
        return node.issue([record], iat=now)[0]

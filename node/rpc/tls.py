"""TLS material of a node: its own CA, its server certificate and its registered clients.

::

    HOME/keys/tls-ca.key       the node CA's ECDSA P-256 key (PKCS#8 PEM, mode 0600)
    HOME/keys/tls-server.key   the node certificate's key (PKCS#8 PEM, mode 0600)
    HOME/tls/ca.pem            the node CA certificate (self-signed)
    HOME/tls/server.pem        the node certificate, issued by the node CA; SAN DNS localhost,
                               IP 127.0.0.1 and any extra names; EKU serverAuth + clientAuth,
                               so a node also uses it as its client identity towards peers
    HOME/clients.json          registered clients: name, role, SHA-256 fingerprint of the
                               certificate DER, created_at, the certificate PEM and, for
                               external certificates, the PEM of their trust roots

A client is either issued here (``issue_client``: a key and certificate signed by the
node CA, handed to a bank, an issuer tool or a peer), or registered by an existing
certificate (``register_external``: a peer's node certificate issued by the peer's own
CA). Authorisation is always by fingerprint pinning against ``clients.json``; the TLS
client-root bundle (``client_roots_pem``) only lets the handshake succeed: it holds the
node CA, every external certificate's issuer chain and every self-signed external
certificate.

This module does file I/O and X.509 work with the ``cryptography`` package. It does not
speak gRPC (``credex.node.rpc.server`` does), print, or log key material.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from credex.ledger.errors import ConfigError, FormatError, NotFoundError
from credex.node.files import locked, read_private, write_atomic, write_private

__all__ = [
    "CA_VALIDITY_DAYS",
    "CERT_VALIDITY_DAYS",
    "ROLES",
    "ClientEntry",
    "NodeTls",
    "cert_fingerprint",
    "cert_names",
    "endpoint_host",
]

ROLES: Final = ("bank", "issuer", "peer")
CA_VALIDITY_DAYS: Final = 3650
CERT_VALIDITY_DAYS: Final = 825
_CLOCK_SKEW: Final = dt.timedelta(minutes=5)
_NAME_RE: Final = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}\Z")
_DEFAULT_SANS: Final = ("localhost", "127.0.0.1")


def cert_fingerprint(cert_pem: bytes) -> str:
    """SHA-256 of the first certificate's DER in ``cert_pem``, lowercase hex.

    Raises:
        FormatError: ``cert_pem`` holds no parseable PEM certificate.
    """
    return _load_certs(cert_pem)[0].fingerprint(hashes.SHA256()).hex()


def _load_certs(pem: bytes) -> list[x509.Certificate]:
    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError as e:
        raise FormatError("tls: not a pem certificate") from e
    if not certs:
        raise FormatError("tls: not a pem certificate")
    return certs


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _read_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    data = read_private(path, "tls")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except ValueError as e:
        raise ConfigError(f"tls: key file {path.name} is not a pem private key") from e
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ConfigError(f"tls: key file {path.name} is not an ecdsa key")
    return key


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _san(names: Sequence[str]) -> x509.SubjectAlternativeName:
    general: list[x509.GeneralName] = []
    for name in names:
        try:
            general.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            general.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(general)


def _san_names(cert: x509.Certificate) -> set[str]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    out: set[str] = set(ext.get_values_for_type(x509.DNSName))
    out |= {str(ip) for ip in ext.get_values_for_type(x509.IPAddress)}
    return out


def cert_names(cert_pem: bytes) -> set[str]:
    """The DNS names and IP addresses the first certificate in ``cert_pem`` covers."""
    return _san_names(_load_certs(cert_pem)[0])


def endpoint_host(endpoint: str) -> str | None:
    """The host of ``HOST:PORT`` a certificate must cover (None for a wildcard)."""
    host = endpoint.rpartition(":")[0].strip("[]")
    return None if host in ("", "0.0.0.0", "::") else host


@dataclass(frozen=True, slots=True)
class ClientEntry:
    """One registered client: who, in which role, pinned by certificate fingerprint."""

    name: str
    role: str
    fingerprint: str
    created_at: int
    cert_pem: bytes
    #: trust roots added to the TLS client-root bundle for an external certificate
    roots_pem: bytes = b""
    external: bool = False

    def to_json_value(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "fingerprint": self.fingerprint,
            "created_at": self.created_at,
            "external": self.external,
            "cert": self.cert_pem.decode("ascii"),
            "roots": self.roots_pem.decode("ascii"),
        }

    @classmethod
    def from_json_value(cls, v: dict[str, Any]) -> ClientEntry:
        return cls(
            v["name"],
            v["role"],
            v["fingerprint"],
            v["created_at"],
            v["cert"].encode("ascii"),
            v.get("roots", "").encode("ascii"),
            bool(v.get("external", False)),
        )


class NodeTls:
    """The TLS files of one node home (``path``). Create material with ``ensure``."""

    def __init__(self, path: Path, *, name: str) -> None:
        self.path = path
        #: the node's name in certificates (its region id)
        self.name = name

    @property
    def ca_key_path(self) -> Path:
        return self.path / "keys" / "tls-ca.key"

    @property
    def server_key_path(self) -> Path:
        return self.path / "keys" / "tls-server.key"

    @property
    def ca_cert_path(self) -> Path:
        return self.path / "tls" / "ca.pem"

    @property
    def server_cert_path(self) -> Path:
        return self.path / "tls" / "server.pem"

    @property
    def clients_path(self) -> Path:
        return self.path / "clients.json"

    # creation ----------------------------------------------------------------------------
    def ensure(self, *, now: int, san: Sequence[str] = ()) -> None:
        """Create the CA and the node certificate if missing; re-issue the certificate
        (same key) when ``san`` names a host it does not cover yet."""
        if not self.ca_key_path.exists():
            self._create_ca(now)
        if not self.server_key_path.exists():
            write_private(
                self.server_key_path,
                _key_pem(ec.generate_private_key(ec.SECP256R1())),
                "tls",
            )
        wanted = [*_DEFAULT_SANS, *san]
        if self.server_cert_path.exists():
            have = _san_names(_load_certs(self.server_cert_path.read_bytes())[0])
            if set(wanted) <= have:
                return
            wanted = sorted(have | set(wanted))
        key = _read_private_key(self.server_key_path)
        cert = self._issue(
            key.public_key(),
            common_name=f"{self.name} node",
            now=now,
            san=wanted,
            usages=[ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH],
        )
        write_atomic(self.server_cert_path, _pem(cert))

    def _create_ca(self, now: int) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        write_private(self.ca_key_path, _key_pem(key), "tls")
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "credex"),
                x509.NameAttribute(NameOID.COMMON_NAME, f"{self.name} node ca"),
            ]
        )
        start = dt.datetime.fromtimestamp(now, dt.UTC) - _CLOCK_SKEW
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + dt.timedelta(days=CA_VALIDITY_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256())
        )
        write_atomic(self.ca_cert_path, _pem(cert))

    def _issue(
        self,
        public_key: ec.EllipticCurvePublicKey,
        *,
        common_name: str,
        now: int,
        san: Sequence[str],
        usages: list[x509.ObjectIdentifier],
    ) -> x509.Certificate:
        ca_key = _read_private_key(self.ca_key_path)
        ca = _load_certs(self.ca_cert_path.read_bytes())[0]
        start = dt.datetime.fromtimestamp(now, dt.UTC) - _CLOCK_SKEW
        builder = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "credex"),
                        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                    ]
                )
            )
            .issuer_name(ca.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + dt.timedelta(days=CERT_VALIDITY_DAYS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
            )
        )
        if san:
            builder = builder.add_extension(_san(san), critical=False)
        return builder.sign(ca_key, hashes.SHA256())

    # reading -----------------------------------------------------------------------------
    def covers(self, names: Sequence[str]) -> bool:
        """Whether the node certificate exists and covers every name in ``names``."""
        if not self.server_cert_path.exists():
            return False
        return set(names) <= _san_names(_load_certs(self.server_cert_path.read_bytes())[0])

    def ca_pem(self) -> bytes:
        return self._read_cert(self.ca_cert_path)

    def server_cert_pem(self) -> bytes:
        return self._read_cert(self.server_cert_path)

    def server_key_pem(self) -> bytes:
        return _key_pem(_read_private_key(self.server_key_path))

    def _read_cert(self, path: Path) -> bytes:
        try:
            return path.read_bytes()
        except FileNotFoundError as e:
            raise ConfigError(
                f"tls: {path.name} missing (run credex serve once, or credex client add)"
            ) from e

    # clients -----------------------------------------------------------------------------
    def clients(self) -> list[ClientEntry]:
        try:
            raw = json.loads(self.clients_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except ValueError as e:
            raise ConfigError("tls: clients.json is not valid json") from e
        return [ClientEntry.from_json_value(v) for v in raw]

    def client_by_fingerprint(self, fingerprint: str) -> ClientEntry | None:
        for c in self.clients():
            if c.fingerprint == fingerprint:
                return c
        return None

    def client_roots_pem(self) -> bytes:
        """The node CA, then every external client's roots (deduplicated)."""
        out = [self.ca_pem()]
        seen = {cert_fingerprint(out[0])}
        for c in self.clients():
            if not c.external:
                continue
            for cert in _load_certs(c.roots_pem):
                pem = _pem(cert)
                fp = cert_fingerprint(pem)
                if fp not in seen:
                    seen.add(fp)
                    out.append(pem)
        return b"".join(out)

    def _check_new(self, name: str, role: str, fingerprint: str | None = None) -> None:
        if not _NAME_RE.match(name):
            raise ConfigError(
                f"tls: client name must be lowercase letters, digits, '.', '_' or '-', got {name!r}"
            )
        if role not in ROLES:
            raise ConfigError(f"tls: role must be one of {', '.join(ROLES)}, got {role!r}")
        for c in self.clients():
            if c.name == name:
                raise ConfigError(f"tls: client already registered: {name}")
            if fingerprint is not None and c.fingerprint == fingerprint:
                raise ConfigError(f"tls: certificate already registered as {c.name}")

    def _add(self, entry: ClientEntry) -> None:
        with locked(self.clients_path):  # a command and the server may both register
            raw = [c.to_json_value() for c in self.clients()]
            raw.append(entry.to_json_value())
            write_atomic(
                self.clients_path,
                (json.dumps(raw, indent=2, ensure_ascii=False) + "\n").encode(),
                mode=0o600,
            )

    def issue_client(self, name: str, role: str, *, now: int) -> tuple[bytes, bytes, ClientEntry]:
        """Issue a client key and certificate from the node CA and register it.

        Returns:
            (key PEM, certificate PEM, the registered entry). The key is not kept here.

        Raises:
            ConfigError: bad name or role, name taken, or the node has no TLS material.
        """
        self._check_new(name, role)
        self.ensure(now=now)
        key = ec.generate_private_key(ec.SECP256R1())
        cert = self._issue(
            key.public_key(),
            common_name=name,
            now=now,
            san=(),
            usages=[ExtendedKeyUsageOID.CLIENT_AUTH],
        )
        pem = _pem(cert)
        entry = ClientEntry(name, role, cert_fingerprint(pem), now, pem)
        self._add(entry)
        return _key_pem(key), pem, entry

    def register_external(
        self, name: str, role: str, cert_pem: bytes, *, now: int, roots_pem: bytes = b""
    ) -> ClientEntry:
        """Register a certificate issued elsewhere (e.g. a peer node's certificate).

        ``cert_pem`` is the client certificate, optionally followed by its issuer chain;
        ``roots_pem`` adds more trust roots (e.g. the peer's CA). A self-signed client
        certificate is its own root. Authorisation pins the first certificate's
        fingerprint; the chain only lets the TLS handshake verify it.

        Raises:
            FormatError: not a PEM certificate.
            ConfigError: bad name or role, name or certificate already registered.
        """
        certs = _load_certs(cert_pem)
        if roots_pem:
            certs += _load_certs(roots_pem)
        leaf = certs[0]
        fp = leaf.fingerprint(hashes.SHA256()).hex()
        self._check_new(name, role, fp)
        self.ensure(now=now)
        roots = certs[1:] if leaf.issuer != leaf.subject else certs
        if not roots:
            raise ConfigError(
                "tls: certificate is not self-signed: pass its issuer chain too (--ca)"
            )
        entry = ClientEntry(
            name,
            role,
            fp,
            now,
            _pem(leaf),
            b"".join(_pem(c) for c in roots),
            external=True,
        )
        self._add(entry)
        return entry

    def require_client(self, name: str) -> ClientEntry:
        for c in self.clients():
            if c.name == name:
                return c
        raise NotFoundError(f"tls: no client named {name!r}")

"""Who the other members are, from this node's manifest, and clients to reach them.

``federation_manifest`` (the node's verified manifest, if it has one), ``member_for`` (the
member of an origin), ``member_ca_pem`` (a member's node CA from its TLS chain) and
``peer_clients`` (a ``PeerClient`` per other member over mTLS, with this node's own
certificate as client identity). Nothing here prints or keeps state.
"""

from __future__ import annotations

import re
from typing import Final

from credex.ledger.errors import (
    NotFoundError,
)
from credex.ledger.manifest import Manifest, Member
from credex.node.federation.manifests import (
    load_chain,
    load_manifest,
)
from credex.node.home import NodeHome
from credex.node.rpc.client import DEFAULT_TIMEOUT_S, PeerClient
from credex.node.rpc.tls import NodeTls
from credex.node.services.lookup import FoundRecord

__all__ = [
    "PeerForwarder",
    "federation_manifest",
    "member_ca_pem",
    "member_for",
    "peer_clients",
]

_PEM_RE: Final = re.compile(
    rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\r?\n?", re.DOTALL
)


def federation_manifest(home: NodeHome) -> Manifest | None:
    """The node's verified manifest, or None if it has none."""
    return load_manifest(home) if load_chain(home) else None


def member_ca_pem(member: Member) -> bytes:
    """The member's node CA (its ``tls_chain_pem`` after the node certificate).

    Raises:
        NotFoundError: the member lists no TLS chain.
    """
    if member.tls_chain_pem is None:
        raise NotFoundError(f"federation: member {member.region} lists no tls chain")
    return b"".join(_PEM_RE.findall(member.tls_chain_pem)[1:])


def member_for(manifest: Manifest, origin: str) -> Member:
    for m in manifest.latest.members:
        if m.origin == origin:
            return m
    raise NotFoundError(f"federation: {origin!r} is not a member")


def peer_clients(
    home: NodeHome, manifest: Manifest, *, timeout_s: float = DEFAULT_TIMEOUT_S
) -> dict[str, PeerClient]:
    """A ``PeerClient`` per other member with an mTLS endpoint and TLS chain, using this
    node's certificate as client identity. The caller closes them."""
    tls = NodeTls(home.path, name=home.region)
    cert, key = tls.server_cert_pem(), tls.server_key_pem()
    out: dict[str, PeerClient] = {}
    for m in manifest.latest.members:
        if m.origin == home.origin or m.tls_chain_pem is None or m.mtls_endpoint is None:
            continue
        out[m.origin] = PeerClient(
            m.endpoint,
            mtls_endpoint=m.mtls_endpoint,
            ca_pem=member_ca_pem(m),
            client_cert=cert,
            client_key=key,
            timeout_s=timeout_s,
        )
    return out


class PeerForwarder:
    """Asks a member node over mTLS, as a peer (this node's own certificate, registered
    at every member from the manifest), for the records it serves on a subject."""

    def __init__(self, home: NodeHome, timeout_s: float = 5.0) -> None:
        self._home = home
        self._timeout_s = timeout_s

    def __call__(
        self, origin: str, subject: str, purpose: str, authorisation: str
    ) -> list[FoundRecord]:
        manifest = federation_manifest(self._home)
        if manifest is None:
            raise NotFoundError("lookup: this node has no federation manifest")
        clients = peer_clients(self._home, manifest, timeout_s=self._timeout_s)
        try:
            client = clients.get(origin)
            if client is None:
                raise NotFoundError(f"lookup: {origin} is not a member with an mTLS endpoint")
            answer = client.lookup(subject=subject, purpose=purpose, authorisation=authorisation)
        finally:
            for c in clients.values():
                c.close()
        return [
            FoundRecord(r.origin, r.leaf_index, r.kind, r.bundle, r.withheld)
            for r in answer.records
        ]

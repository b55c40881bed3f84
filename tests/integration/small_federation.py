"""Three real member nodes in one test process: homes, TLS servers, one signed manifest.

``small_federation(root)`` makes Ningbo (A, the admin), Hangzhou (B) and Xiamen (C) with
the real clock, one manifest (quorum 1 of the other two, every member with mTLS endpoint
and TLS chain) installed everywhere, each following the others, and each node's server
running (``credex.node.demo.federation.FederationMember``: the real ``create_server``,
with mirrors and the manifest witness). ``rounds`` runs what a ``--follow`` round does at
every member, in order: fetch manifest versions, sync every peer, collect cosignatures.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from credex.ledger.manifest import Manifest, ManifestBody
from credex.node.demo.federation import FederationMember, free_port
from credex.node.federation import manifests as fed
from credex.node.federation.follow import add_peers_from_manifest, sync_peer
from credex.node.federation.members import peer_clients
from credex.node.federation.travel import fetch_versions
from credex.node.home import NodeHome

__all__ = ["ORG", "Small", "now", "small_federation"]

ORG = "91330200MA0YX00163"
MEMBERS = (
    ("cn-zj-ningbo", "credex.ningbo.example/log"),
    ("cn-zj-hangzhou", "credex.hangzhou.example/log"),
    ("cn-fj-xiamen", "credex.xiamen.example/log"),
)


def now() -> int:
    return int(time.time())


@dataclass
class Small:
    members: list[FederationMember]

    @property
    def a(self) -> FederationMember:
        return self.members[0]

    @property
    def b(self) -> FederationMember:
        return self.members[1]

    @property
    def c(self) -> FederationMember:
        return self.members[2]

    def manifest(self, m: FederationMember) -> Manifest:
        return fed.load_manifest(m.home)

    def rounds(self, n: int = 2) -> None:
        """``n`` follow rounds at every member; a refused sync or witness fails."""
        for _ in range(n):
            for m in self.members:
                manifest = self.manifest(m)
                clients = peer_clients(m.home, manifest)
                try:
                    for origin, client in clients.items():
                        got = fetch_versions(m.home, client, origin, now())
                        assert got.error is None, got.error
                finally:
                    for c in clients.values():
                        c.close()
                manifest = self.manifest(m)
                for peer in self.members:
                    if peer is not m:
                        r = sync_peer(m.home, peer.origin, now(), manifest=manifest)
                        assert r.error is None, r.error
                assert m.collect(manifest) == {}

    def close(self) -> None:
        for m in self.members:
            m.close()


def small_federation(root: Path) -> Small:
    t = now()
    members = []
    for region, origin in MEMBERS:
        home = NodeHome.init(
            root / region,
            region=region,
            origin=origin,
            db=None,
            now=t,
            log_seed=os.urandom(32),
            subject_secret=b"\x02" * 32,  # shared: person pseudonyms match
            platform_seed=os.urandom(32),
        )
        members.append(
            FederationMember(home, f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}")
        )
    entries = []
    for m in members:
        sha, chain = fed.node_tls_chain(m.home, t)
        entries.append(
            fed.local_member(
                m.home, endpoint=m.public, tls_sha256=sha, mtls_endpoint=m.mtls, tls_chain_pem=chain
            )
        )
    admin = fed.admin_key(members[0].home, create=True)
    body = ManifestBody("yangtze", 1, None, t, tuple(entries), 1, (admin.public_key,), 1)
    proposal = fed.propose(members[0].home, body, t)
    for m in members[1:]:
        fed.install(m.home, proposal.signed, t)
    manifest = fed.load_manifest(members[0].home)
    for m in members:
        add_peers_from_manifest(m.home, manifest, t)
        m.start(manifest)
    return Small(members)

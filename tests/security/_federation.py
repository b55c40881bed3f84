"""Three real member nodes on 127.0.0.1 (in-process, real TLS), one signed manifest
(quorum 1 of the others), every member following the others. Node A is not started:
the test decides what answers on A's addresses.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from credex.adapters.sample import score_records
from credex.ledger.manifest import Manifest, ManifestBody
from credex.node import federation as federate
from credex.node.demo.federation import FederationMember, free_port
from credex.node.federation import manifests as fed
from credex.node.home import NodeHome
from credex.node.local import LocalNode
from tests.security._nodes import AS_OF, T0

__all__ = ["Trio", "issue", "trio"]

NODES = (
    ("cn-zj-ningbo", "credex.ningbo.example/log", 1),
    ("cn-zj-hangzhou", "credex.hangzhou.example/log", 2),
    ("cn-fj-xiamen", "credex.xiamen.example/log", 3),
)


@dataclass
class Trio:
    manifest: Manifest
    a: FederationMember
    b: FederationMember
    c: FederationMember


def issue(m: FederationMember, n: int, seed: int) -> None:
    """``n`` org scores into ``m``'s log (its LocalNode is opened if needed)."""
    m.node = m.node or LocalNode(m.home)
    records = score_records(m.home.region, m.home.subject_key(), n, seed=seed, as_of=AS_OF)
    m.node.issue(records, iat=T0)


@contextmanager
def trio(root: Path) -> Iterator[Trio]:
    now = int(time.time())
    members = []
    for region, origin, seed in NODES:
        home = NodeHome.init(
            root / region,
            region=region,
            origin=origin,
            db=None,
            now=T0,
            log_seed=bytes([seed]) * 32,
            subject_secret=b"\x02" * 32,
            platform_seed=bytes([seed + 16]) * 32,
        )
        members.append(
            FederationMember(home, f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}")
        )
    entries = []
    for m in members:
        sha, chain = fed.node_tls_chain(m.home, now)
        entries.append(
            fed.local_member(
                m.home, endpoint=m.public, tls_sha256=sha, mtls_endpoint=m.mtls, tls_chain_pem=chain
            )
        )
    admin = fed.admin_key(members[0].home, create=True)
    body = ManifestBody("yangtze", 1, None, T0, tuple(entries), 1, (admin.public_key,), 1)
    proposal = fed.propose(members[0].home, body, now)
    for m in members[1:]:
        fed.install(m.home, proposal.signed, now)
    manifest = fed.load_manifest(members[1].home)
    for m in members:
        federate.add_peers_from_manifest(m.home, manifest, now)
    a, b, c = members
    b.start(manifest)
    c.start(manifest)
    try:
        yield Trio(manifest, a, b, c)
    finally:
        for m in members:
            m.close()

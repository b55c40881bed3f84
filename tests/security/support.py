"""What the attack tests share: node homes, a real TLS server per node, clients.

Every server is a real ``credex.node.rpc.server.create_server`` on 127.0.0.1 port 0 with
real TLS and mTLS; stores are real SQLite files or PostgreSQL schemas (``store_url``).
Each node's clock is a plain callable the test controls (``Clock``), so times are exact
and nothing sleeps.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from credex.ledger.statement import Statement
from credex.node.home import NodeHome
from credex.node.local import LocalNode
from credex.node.rpc.client import PeerClient
from credex.node.rpc.server import NodeServer, ServerPorts, create_server
from credex.node.rpc.tls import NodeTls

__all__ = ["T0", "Clock", "Served", "db_of", "make_home", "serve"]

T0 = 1_780_272_000  # 2026-06-01T00:00:00Z


@dataclass
class Clock:
    """A node's clock: Unix seconds, moved by the test."""

    now: int = T0

    def __call__(self) -> int:
        return self.now


def db_of(store_url: str) -> str | None:
    """The ``db`` of a node home for a ``store_url`` (None: the home's own SQLite file)."""
    return None if store_url.startswith("sqlite") else store_url


def make_home(
    path: Path,
    region: str = "cn-zj-ningbo",
    origin: str = "credex.ningbo.example/log",
    *,
    db: str | None = None,
    seed: int = 1,
) -> NodeHome:
    return NodeHome.init(
        path,
        region=region,
        origin=origin,
        db=db,
        now=T0,
        log_seed=bytes([seed]) * 32,
        subject_secret=b"\x02" * 32,
        platform_seed=bytes([seed + 16]) * 32,
    )


@dataclass
class Served:
    """A node with its server running."""

    home: NodeHome
    node: LocalNode
    server: NodeServer
    ports: ServerPorts
    clock: Clock

    @property
    def tls(self) -> NodeTls:
        return NodeTls(self.home.path, name=self.home.region)

    def anonymous(self) -> PeerClient:
        """A client without a certificate: what anyone on the internet can do."""
        return PeerClient(f"127.0.0.1:{self.ports}", ca_pem=self.tls.ca_pem())

    def registered(self, name: str, role: str) -> PeerClient:
        """A client registered at this node (``credex client add NAME --role ROLE``)."""
        key, cert, _ = self.tls.issue_client(name, role, now=int(time.time()))
        return PeerClient(
            f"127.0.0.1:{self.ports}",
            ca_pem=self.tls.ca_pem(),
            client_cert=cert,
            client_key=key,
            mtls_endpoint=f"127.0.0.1:{self.ports.mtls}",
        )

    def leaves(self) -> list[Statement]:
        log = self.node.log
        return [Statement.from_bytes(e.leaf) for e in log.entries(0, log.size)]


@contextmanager
def serve(home: NodeHome, clock: Clock | None = None, **kw: object) -> Iterator[Served]:
    """Run ``home``'s node behind a real TLS server until the block ends."""
    clock = clock or Clock()
    node = LocalNode(home)
    try:
        server, ports = create_server(node, home=home, clock=clock, **kw)  # type: ignore[arg-type]
        try:
            yield Served(home, node, server, ports, clock)
        finally:
            server.stop(None).wait()
    finally:
        node.close()

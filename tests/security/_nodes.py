"""Real nodes for attack tests: a home, a TLS server on 127.0.0.1 port 0, clients.

Nothing here is a fake: ``create_server`` with real TLS and mTLS, a SQLite log file,
client certificates issued by the node CA.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from credex.adapters.sample import score_records
from credex.node.home import NodeHome
from credex.node.local import LocalNode
from credex.node.rpc.client import PeerClient
from credex.node.rpc.server import NodeServer, ServerPorts, create_server
from credex.node.rpc.tls import NodeTls

__all__ = ["AS_OF", "ORIGIN", "REGION", "T0", "Served", "init_home", "served", "statements"]

REGION = "cn-zj-ningbo"
ORIGIN = "credex.ningbo.example/log"
T0 = 1_780_272_000  # 2026-06-01T00:00:00Z
AS_OF = date(2026, 5, 31)


def init_home(
    path: Path, region: str = REGION, origin: str = ORIGIN, db: str | None = None
) -> NodeHome:
    return NodeHome.init(
        path,
        region=region,
        origin=origin,
        db=db,
        now=T0,
        log_seed=b"\x01" * 32,
        subject_secret=b"\x02" * 32,
        platform_seed=b"\x03" * 32,
    )


def statements(node: LocalNode, n: int, seed: int = 0) -> list[bytes]:
    """``n`` signed (not logged) org score statements of the node's platform issuer."""
    records = score_records(node.home.region, node.home.subject_key(), n, seed=seed, as_of=AS_OF)
    return [s.to_bytes() for s in node.sign(records, None, T0)]


@dataclass
class Served:
    home: NodeHome
    node: LocalNode
    server: NodeServer
    ports: ServerPorts
    tls: NodeTls

    @property
    def public(self) -> str:
        return f"127.0.0.1:{self.ports}"

    @property
    def mtls(self) -> str:
        return f"127.0.0.1:{self.ports.mtls}"

    def client(self, name: str | None = None, role: str = "issuer", **kw: Any) -> PeerClient:
        cert = key = None
        if name is not None:
            key, cert, _ = self.tls.issue_client(name, role, now=int(time.time()))
        return PeerClient(
            self.public,
            ca_pem=self.tls.ca_pem(),
            client_cert=cert,
            client_key=key,
            mtls_endpoint=self.mtls,
            **kw,
        )


@contextmanager
def served(home: NodeHome, **kw: Any) -> Iterator[Served]:
    """``home``'s node served over TLS (clock pinned to T0) until the block ends."""
    node = LocalNode(home)
    server, ports = create_server(node, home=home, clock=lambda: T0, **kw)
    try:
        yield Served(home, node, server, ports, NodeTls(home.path, name=home.region))
    finally:
        server.stop(None).wait()
        node.close()

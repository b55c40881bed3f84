"""A region's node: its home, its log, its services, its federation and its gRPC server.

Rooms (README, Development): ``home``, ``files`` and ``local`` at the door (the node home
on disk, ``LocalNode``: sign, log, checkpoint, bundle); ``services/`` (what the node does
for operators and banks); ``federation/`` (the manifest, peers, sync, mirrors,
witnessing); ``rpc/`` (the gRPC server, servicers, client, TLS); ``http/`` (the public
HTTP side: tlog-tiles, JSON API, explorer, metrics; templates and static files in
``web/``); ``config`` (``credex.toml``), ``logs`` (JSON log lines), ``telemetry`` (event
counters), ``gcpolicy`` (the garbage collector's schedule in credex processes);
``demo/`` and ``bench/`` (never imported by production code). Names are imported
lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from credex._exports import lazy_exports

if TYPE_CHECKING:
    from credex.node.home import (
        IssuerEntry,
        NodeHome,
    )
    from credex.node.local import (
        IssueResult,
        LocalNode,
        create_home,
        find_statement,
    )
    from credex.node.pen import open_node

__all__ = [
    "IssueResult",
    "IssuerEntry",
    "LocalNode",
    "NodeHome",
    "create_home",
    "find_statement",
    "open_node",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "IssueResult": "local",
        "IssuerEntry": "home",
        "LocalNode": "local",
        "NodeHome": "home",
        "create_home": "local",
        "find_statement": "local",
        "open_node": "pen",
    },
)

"""The gRPC edge of a node: ``server`` (``create_server``: two TLS ports), ``auth`` (who
may call what; the one interceptor), one servicer per proto service (``log_servicer``,
``submit_servicer``, ``witness_servicer``, ``query_servicer``), ``client``
(``PeerClient``), ``convert`` (protobuf <-> ledger values), ``errors`` (the one error
translator), ``tls`` (CA, certificates, registered clients), ``limits``. Names are
imported lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from credex._exports import lazy_exports

if TYPE_CHECKING:
    from credex.node.rpc.client import (
        PeerClient,
    )
    from credex.node.rpc.errors import (
        ERROR_MAP,
        abort_with,
        error_from_rpc,
    )
    from credex.node.rpc.limits import (
        DEFAULT_MAX_MESSAGE_BYTES,
    )
    from credex.node.rpc.server import (
        NodeServer,
        ServerPorts,
        create_server,
    )
    from credex.node.rpc.tls import (
        NodeTls,
    )

__all__ = [
    "DEFAULT_MAX_MESSAGE_BYTES",
    "ERROR_MAP",
    "NodeServer",
    "NodeTls",
    "PeerClient",
    "ServerPorts",
    "abort_with",
    "create_server",
    "error_from_rpc",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "DEFAULT_MAX_MESSAGE_BYTES": "limits",
        "ERROR_MAP": "errors",
        "NodeServer": "server",
        "NodeTls": "tls",
        "PeerClient": "client",
        "ServerPorts": "server",
        "abort_with": "errors",
        "create_server": "server",
        "error_from_rpc": "errors",
    },
)

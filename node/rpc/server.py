"""``create_server``: a credex node's gRPC server, always over TLS, on two ports.

gRPC's Python API can either require a verified client certificate on a port or not
request one at all (``require_client_auth=False`` never asks for a certificate), so a
node binds two ports on one ``grpc.Server``:

- the **public** port (server-authenticated TLS): the Log service, health checking and
  reflection are open to anyone; Submit, Witness and Query answer UNAUTHENTICATED;
- the **mTLS** port (Submit, Witness, Query): the TLS handshake requires a client
  certificate that chains to the node CA or to a registered external certificate's
  roots (re-read on each handshake after ``clients.json`` changes), then every credex.v1
  call is authorised by the certificate's SHA-256 fingerprint against ``clients.json``
  and the role table ``METHOD_ROLES`` (unregistered or wrong role: PERMISSION_DENIED).

One interceptor (``credex.node.rpc.auth.Guard``) wraps every handler: it authorises the
call, turns a request that does not parse into INVALID_ARGUMENT, and translates every
exception once through ``credex.node.rpc.errors.abort_with``. Limits (docs/grpc.md): messages of
``max_message_bytes`` (default 4 MiB) each way (more: RESOURCE_EXHAUSTED), at most
``max_workers`` RPCs running and ``max_concurrent_rpcs`` admitted (more:
RESOURCE_EXHAUSTED), ``max_concurrent_streams`` per HTTP/2 connection, and per
SubmitStatements stream ``submit_limits`` (statements, bytes, time; ``StreamLimits``).

This module does not install signal handlers or print (``credex serve`` does).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from credex.ledger.errors import (
    ConfigError,
)
from credex.ledger.manifest import Manifest
from credex.node.federation.holdings import Holdings
from credex.node.federation.mirrors import MirrorBundles
from credex.node.home import NodeHome
from credex.node.local import LocalNode
from credex.node.rpc.auth import (
    LOG_SERVICE,
    QUERY_SERVICE,
    SUBMIT_SERVICE,
    WITNESS_SERVICE,
    Guard,
    Registry,
)
from credex.node.rpc.backends import WitnessBackend
from credex.node.rpc.limits import DEFAULT_MAX_MESSAGE_BYTES, StreamLimits
from credex.node.rpc.log_servicer import LogServicer
from credex.node.rpc.query_servicer import QueryServicer
from credex.node.rpc.submit_servicer import SubmitServicer
from credex.node.rpc.tls import NodeTls
from credex.node.rpc.witness_servicer import WitnessServicer
from credex.node.services.checks import CheckPool, default_check_workers
from credex.node.services.intake import Intake
from credex.node.services.lookup import Forwarder, SubjectLookup
from credex.v1 import (
    log_pb2_grpc,
    query_pb2_grpc,
    submit_pb2_grpc,
    witness_pb2_grpc,
)

__all__ = [
    "NodeServer",
    "ServerPorts",
    "create_server",
]


class ServerPorts(int):
    """The bound public port (an ``int``, server TLS) carrying ``mtls``, the mTLS port.

    An ``int`` so that ``server, port = create_server(...)`` reads as the public port.
    """

    mtls: int

    def __new__(cls, public: int, mtls: int) -> ServerPorts:
        obj = super().__new__(cls, public)
        obj.mtls = mtls
        return obj

    @property
    def public(self) -> int:
        return int(self)

    def __str__(self) -> str:
        return str(int(self))

    def __repr__(self) -> str:
        return f"ServerPorts(public={int(self)}, mtls={self.mtls})"


@dataclass(slots=True)
class NodeServer:
    """A created server: stop it with ``stop`` (health turns NOT_SERVING first)."""

    server: grpc.Server
    ports: ServerPorts
    health: health.HealthServicer
    #: Submit's statement-check workers (None: checked in the server process)
    checks: CheckPool | None = None

    def stop(self, grace: float | None) -> threading.Event:
        """Stop accepting calls; in-flight ones get ``grace`` seconds (as ``grpc.Server``);
        the check workers are stopped once the server has.

        Returns the event set once the server has stopped (and its workers).
        """
        self.health.enter_graceful_shutdown()
        event: threading.Event = self.server.stop(grace)
        pool = self.checks
        if pool is None:
            return event
        done = threading.Event()

        def close() -> None:
            event.wait()
            pool.close()
            done.set()

        threading.Thread(target=close, name="credex-check-pool-close", daemon=True).start()
        return done

    def wait_for_termination(self, timeout: float | None = None) -> bool:
        return bool(self.server.wait_for_termination(timeout))


def create_server(
    node: LocalNode,
    *,
    home: NodeHome,
    listen: str = "127.0.0.1:0",
    mtls_listen: str = "127.0.0.1:0",
    witness: WitnessBackend | None = None,
    mirrors: MirrorBundles | None = None,
    forward: Forwarder | None = None,
    manifest: Callable[[], Manifest | None] | None = None,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    max_workers: int = 32,
    max_concurrent_rpcs: int = 256,
    max_concurrent_streams: int = 100,
    submit_limits: StreamLimits | None = None,
    check_workers: int | None = None,
    san: tuple[str, ...] = (),
    clock: Callable[[], int] = lambda: int(time.time()),
) -> tuple[NodeServer, ServerPorts]:
    """Create, bind and start the node's server (TLS material is created if missing).

    ``mirrors``: the peer logs mirrored here (served with ``origin``; None: none).
    ``check_workers``: processes checking submitted statements (``CheckPool``; None:
    ``default_check_workers()``, 0: checked in the server process).
    ``manifest``: the manifest in force (default: the home's files, read when needed),
    whose repair delegations judge every record's lifecycle statements, wherever logged.

    Returns:
        (the started server, its bound ports). ``listen`` / ``mtls_listen`` take
        ``HOST:PORT``; port 0 picks a free port.

    Raises:
        ConfigError: TLS material unreadable, or a port cannot be bound.
    """
    tls = NodeTls(home.path, name=home.region)
    tls.ensure(now=clock(), san=san)
    registry = Registry(tls)
    key, cert = tls.server_key_pem(), tls.server_cert_pem()
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="credex-rpc"),
        interceptors=[Guard(registry)],
        options=[
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max_message_bytes),
            ("grpc.max_concurrent_streams", max_concurrent_streams),
            ("grpc.so_reuseport", 0),
        ],
        maximum_concurrent_rpcs=max_concurrent_rpcs,
    )
    holdings = Holdings(node, mirrors=mirrors, manifest=manifest, clock=clock)
    log_servicer = LogServicer(
        node, clock=clock, mirrors=None if mirrors is None else holdings, holdings=holdings
    )
    log_pb2_grpc.add_LogServicer_to_server(log_servicer, server)  # type: ignore[no-untyped-call]
    workers = default_check_workers() if check_workers is None else check_workers
    checks = CheckPool(workers) if workers > 0 else None
    submit = SubmitServicer(Intake(node, clock, checks), submit_limits)
    submit_pb2_grpc.add_SubmitServicer_to_server(submit, server)  # type: ignore[no-untyped-call]
    lookup = SubjectLookup(
        node,
        holdings=holdings,
        clock=clock,
        publish_lock=log_servicer.publish_lock,
        forward=forward,
    )
    query_pb2_grpc.add_QueryServicer_to_server(QueryServicer(lookup), server)  # type: ignore[no-untyped-call]
    services = [LOG_SERVICE, SUBMIT_SERVICE, QUERY_SERVICE]
    if witness is not None:
        witness_pb2_grpc.add_WitnessServicer_to_server(WitnessServicer(witness), server)  # type: ignore[no-untyped-call]
        services.append(WITNESS_SERVICE)
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ("", *services):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        (*services, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )

    public_creds = grpc.ssl_server_credentials([(key, cert)])
    stamp: list[tuple[int, int] | None] = [registry.stamp()]

    def config() -> Any:
        return grpc.ssl_server_certificate_configuration(
            [(key, cert)], root_certificates=tls.client_roots_pem()
        )

    def fetch() -> Any:
        """Called on each mTLS handshake: new client roots only after clients.json changed."""
        now = registry.stamp()
        if now == stamp[0]:
            return None
        stamp[0] = now
        return config()

    mtls_creds = grpc.dynamic_ssl_server_credentials(
        config(), fetch, require_client_authentication=True
    )
    public_port = _bind(server, listen, public_creds)
    mtls_port = _bind(server, mtls_listen, mtls_creds)
    server.start()
    ports = ServerPorts(public_port, mtls_port)
    return NodeServer(server, ports, health_servicer, checks), ports


def _bind(server: grpc.Server, address: str, creds: Any) -> int:
    try:
        port = int(server.add_secure_port(address, creds))
    except RuntimeError as e:
        raise ConfigError(f"server: cannot listen on {address}") from e
    if port == 0:
        raise ConfigError(f"server: cannot listen on {address}")
    return port

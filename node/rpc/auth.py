"""Who may call what on a node's gRPC server, and the one interceptor that enforces it.

``OPEN_PREFIXES`` are open to any TLS client (the Log service, health, reflection);
``METHOD_ROLES`` names the client roles (``clients.json``) allowed per authenticated
method; any other method is denied. ``Guard`` wraps every handler: it authorises the
call by the client certificate's SHA-256 fingerprint (``Registry``, re-read when
``clients.json`` changes), turns a request that does not parse into ``FormatError``, and
translates every exception once through ``credex.node.rpc.errors.abort_with``. On the
public port a method that needs a client certificate answers UNAUTHENTICATED.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

import grpc
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]

from credex.ledger.errors import CallerNotAuthorisedError, FormatError, UnauthenticatedError
from credex.node.rpc.errors import WITNESS_ERROR_MAP, abort_with
from credex.node.rpc.query_servicer import CURRENT_CALLER
from credex.node.rpc.tls import ClientEntry, NodeTls, cert_fingerprint
from credex.node.services.lookup import Caller
from credex.v1 import log_pb2, query_pb2, submit_pb2, witness_pb2

__all__ = [
    "LOG_SERVICE",
    "METHOD_ROLES",
    "OPEN_PREFIXES",
    "QUERY_SERVICE",
    "SUBMIT_SERVICE",
    "WITNESS_SERVICE",
    "Guard",
    "Registry",
]

LOG_SERVICE: Final = log_pb2.DESCRIPTOR.services_by_name["Log"].full_name
SUBMIT_SERVICE: Final = submit_pb2.DESCRIPTOR.services_by_name["Submit"].full_name
WITNESS_SERVICE: Final = witness_pb2.DESCRIPTOR.services_by_name["Witness"].full_name
QUERY_SERVICE: Final = query_pb2.DESCRIPTOR.services_by_name["Query"].full_name

#: methods open to any TLS client (prefixes of the full method name)
OPEN_PREFIXES: Final = (
    f"/{LOG_SERVICE}/",
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/grpc.reflection.v1.ServerReflection/",
)
#: roles allowed per authenticated method; a method in neither table is denied
METHOD_ROLES: Final[Mapping[str, frozenset[str]]] = {
    f"/{SUBMIT_SERVICE}/SubmitStatements": frozenset({"issuer", "peer"}),
    f"/{WITNESS_SERVICE}/AddCheckpoint": frozenset({"peer"}),
    f"/{QUERY_SERVICE}/Lookup": frozenset({"bank", "issuer", "peer"}),
}


class _Malformed:
    """Stands in for a request message that did not parse."""


_MALFORMED: Final = _Malformed()
#: wrapped handlers a ``Guard`` keeps (one per registered method; far more than exist)
_MAX_WRAPPED: Final = 1024


def _lenient(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    if deserializer is None:
        return None

    def parse(data: bytes) -> Any:
        try:
            return deserializer(data)
        except DecodeError:
            return _MALFORMED

    return parse


def _checked(request: Any) -> Any:
    if request is _MALFORMED:
        raise FormatError("rpc: request message does not parse")
    return request


def _checked_stream(requests: Iterator[Any]) -> Iterator[Any]:
    for r in requests:
        yield _checked(r)


class Registry:
    """``clients.json`` by fingerprint, re-read when the file changes."""

    def __init__(self, tls: NodeTls) -> None:
        self._tls = tls
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._by_fp: dict[str, ClientEntry] = {}

    def stamp(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self._tls.clients_path)
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def lookup(self, fingerprint: str) -> ClientEntry | None:
        stamp = self.stamp()
        with self._lock:
            if stamp != self._stamp or not self._by_fp:
                self._by_fp = {c.fingerprint: c for c in self._tls.clients()}
                self._stamp = stamp
            return self._by_fp.get(fingerprint)


class Guard(grpc.ServerInterceptor):  # type: ignore[misc]
    """Authorise, then run the handler; every exception is translated here, once."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        #: the wrapped handler of each method, built on its first call (a method's
        #: handler never changes), not on every call
        self._wrapped: dict[str, Any] = {}

    def _authorise(self, method: str, context: Any) -> None:
        CURRENT_CALLER.set(None)
        if method.startswith(OPEN_PREFIXES):
            return
        roles = METHOD_ROLES.get(method)
        if roles is None:
            raise CallerNotAuthorisedError("rpc: method not allowed")
        certs = (context.auth_context() or {}).get("x509_pem_cert") or []
        if not certs:
            raise UnauthenticatedError(
                "rpc: client certificate required: call the node's mtls port"
            )
        client = self._registry.lookup(cert_fingerprint(certs[0]))
        if client is None:
            raise CallerNotAuthorisedError("rpc: client certificate not registered")
        if client.role not in roles:
            raise CallerNotAuthorisedError(f"rpc: role {client.role} may not call this method")
        CURRENT_CALLER.set(Caller(client.name, client.role, client.fingerprint))

    def intercept_service(self, continuation: Any, details: Any) -> Any:
        method: str = details.method
        wrapped = self._wrapped.get(method)
        if wrapped is not None:
            return wrapped
        handler = continuation(details)
        if handler is None:
            return None
        wrapped = self._wrap(handler, method)
        if len(self._wrapped) < _MAX_WRAPPED:  # (only registered methods get here)
            self._wrapped[method] = wrapped
        return wrapped

    def _wrap(self, handler: Any, method: str) -> Any:
        overrides = WITNESS_ERROR_MAP if method.startswith(f"/{WITNESS_SERVICE}/") else None
        authorise = self._authorise

        def unary_response(behavior: Callable[..., Any], stream_in: bool) -> Callable[..., Any]:
            def run(request: Any, context: Any) -> Any:
                try:
                    authorise(method, context)
                    req = _checked_stream(request) if stream_in else _checked(request)
                    return behavior(req, context)
                except Exception as e:
                    abort_with(context, e, method, overrides)

            return run

        def stream_response(behavior: Callable[..., Any], stream_in: bool) -> Callable[..., Any]:
            def run(request: Any, context: Any) -> Iterator[Any]:
                try:
                    authorise(method, context)
                    req = _checked_stream(request) if stream_in else _checked(request)
                    yield from behavior(req, context)
                except Exception as e:
                    abort_with(context, e, method, overrides)

            return run

        kw = {
            "request_deserializer": _lenient(handler.request_deserializer),
            "response_serializer": handler.response_serializer,
        }
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                unary_response(handler.unary_unary, False), **kw
            )
        if handler.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(
                unary_response(handler.stream_unary, True), **kw
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                stream_response(handler.unary_stream, False), **kw
            )
        return grpc.stream_stream_rpc_method_handler(
            stream_response(handler.stream_stream, True), **kw
        )

"""A real, misbehaving peer: a gRPC server with TLS on a federation member's addresses
that answers with what an attacker (or a broken node) would send.

``RogueLog`` is the real ``LogServicer`` of the member's node with ``GetCheckpoint``
rewritten by a function of the genuine note; ``RogueWitness`` answers ``AddCheckpoint``
with whatever text it is given. Everything else is the real thing: TLS with the
member's own certificate, the generated stubs, the wire.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent import futures
from contextlib import contextmanager
from typing import Any

import grpc

from credex.node.local import LocalNode
from credex.node.rpc.log_servicer import LogServicer
from credex.node.rpc.tls import NodeTls
from credex.v1 import log_pb2, log_pb2_grpc, witness_pb2, witness_pb2_grpc

__all__ = ["RogueLog", "RogueWitness", "rogue_server"]


class RogueLog(LogServicer):
    """The member's real Log service, except that ``GetCheckpoint`` serves
    ``rewrite(note_text)`` (and the size and root fields of the genuine note)."""

    def __init__(self, node: LocalNode, rewrite: Callable[[str], str]) -> None:
        super().__init__(node, clock=lambda: int(time.time()))
        self._rewrite = rewrite
        self.served = 0

    def GetCheckpoint(
        self, request: log_pb2.GetCheckpointRequest, context: Any
    ) -> log_pb2.GetCheckpointResponse:
        genuine = super().GetCheckpoint(request, context)
        self.served += 1
        return log_pb2.GetCheckpointResponse(
            checkpoint=self._rewrite(genuine.checkpoint),
            tree_size=genuine.tree_size,
            root_hash=genuine.root_hash,
        )


class RogueWitness(witness_pb2_grpc.WitnessServicer):
    """Answers every ``AddCheckpoint`` with ``answer(note_text)``."""

    def __init__(self, answer: Callable[[str], str]) -> None:
        self._answer = answer

    def AddCheckpoint(
        self, request: witness_pb2.AddCheckpointRequest, context: Any
    ) -> witness_pb2.AddCheckpointResponse:
        return witness_pb2.AddCheckpointResponse(cosignature=self._answer(request.checkpoint))


@contextmanager
def rogue_server(
    tls: NodeTls, public: str, mtls: str, log: RogueLog, witness: RogueWitness
) -> Iterator[grpc.Server]:
    """Serve ``log`` and ``witness`` with ``tls``'s certificate on both addresses (the
    mTLS address does not check client certificates: a rogue need not)."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    log_pb2_grpc.add_LogServicer_to_server(log, server)  # type: ignore[no-untyped-call]
    witness_pb2_grpc.add_WitnessServicer_to_server(witness, server)  # type: ignore[no-untyped-call]
    creds = grpc.ssl_server_credentials([(tls.server_key_pem(), tls.server_cert_pem())])
    for address in (public, mtls):
        if server.add_secure_port(address, creds) == 0:
            raise RuntimeError(f"rogue: cannot listen on {address}")
    server.start()
    try:
        yield server
    finally:
        server.stop(None).wait()

"""``WitnessServicer``: the Witness service (``credex.v1.Witness``, C2SP tlog-witness),
mTLS, role peer. It delegates to a ``WitnessBackend``; the interceptor maps its errors
with the tlog-witness overrides.
"""

from __future__ import annotations

from typing import Any

from credex.node.rpc import convert
from credex.node.rpc.backends import WitnessBackend
from credex.v1 import (
    witness_pb2,
    witness_pb2_grpc,
)

__all__ = [
    "WitnessServicer",
]


class WitnessServicer(witness_pb2_grpc.WitnessServicer):
    """The Witness service over a ``WitnessBackend``."""

    def __init__(self, backend: WitnessBackend) -> None:
        self._backend = backend

    def AddCheckpoint(
        self, request: witness_pb2.AddCheckpointRequest, context: Any
    ) -> witness_pb2.AddCheckpointResponse:
        old_size, proof, note_text = convert.add_checkpoint_from_proto(request)
        return convert.cosignature_to_proto(
            self._backend.add_checkpoint(old_size, proof, note_text)
        )

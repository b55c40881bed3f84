"""The gRPC limits a node and its clients share (docs/grpc.md).

Message sizes each way; per-RPC batch limits live beside the code that enforces them
(``credex.node.services.intake.MAX_SUBMIT_BATCH``, the Log servicer's entry caps).
"""

from __future__ import annotations

from typing import Final

__all__ = ["DEFAULT_MAX_MESSAGE_BYTES"]

#: bytes per gRPC message, each way (more: RESOURCE_EXHAUSTED)
DEFAULT_MAX_MESSAGE_BYTES: Final = 4 * 1024 * 1024

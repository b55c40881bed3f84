"""The gRPC limits a node and its clients share (docs/grpc.md).

Message sizes each way, and what one SubmitStatements stream may carry (``StreamLimits``:
statements, bytes, time in total and between requests); per-request batch limits live
beside the code that enforces them (``credex.node.services.intake.MAX_SUBMIT_BATCH``, the
Log servicer's entry caps).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = [
    "DEFAULT_MAX_MESSAGE_BYTES",
    "MAX_STREAM_BYTES",
    "MAX_STREAM_IDLE_S",
    "MAX_STREAM_S",
    "MAX_STREAM_STATEMENTS",
    "StreamLimits",
]

#: bytes per gRPC message, each way (more: RESOURCE_EXHAUSTED)
DEFAULT_MAX_MESSAGE_BYTES: Final = 4 * 1024 * 1024
#: statements one SubmitStatements stream may carry (64 full requests)
MAX_STREAM_STATEMENTS: Final = 65_536
#: statement and preimage bytes one SubmitStatements stream may carry
MAX_STREAM_BYTES: Final = 64 * 1024 * 1024
#: seconds a SubmitStatements stream may stay open
MAX_STREAM_S: Final = 600.0
#: seconds a SubmitStatements stream may wait for its next request
MAX_STREAM_IDLE_S: Final = 60.0


@dataclass(frozen=True, slots=True)
class StreamLimits:
    """What one SubmitStatements stream may carry; over it: ``StreamLimitError``
    (RESOURCE_EXHAUSTED) for items and bytes, the call cancelled for time."""

    statements: int = MAX_STREAM_STATEMENTS
    bytes: int = MAX_STREAM_BYTES
    seconds: float = MAX_STREAM_S
    idle_seconds: float = MAX_STREAM_IDLE_S

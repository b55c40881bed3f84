"""``SubmitServicer``: the Submit service (``credex.v1.Submit``), mTLS, roles issuer and
peer. Each request batch goes to ``Intake``; errors are translated by the interceptor.

A stream is bounded as a whole (``StreamLimits``), not only per request: the statements
and bytes it carries (over either: ``StreamLimitError``, RESOURCE_EXHAUSTED, checked
before the request that crosses the limit is validated, so nothing of it is logged;
everything acknowledged before stays), and its time, in total and between two requests
(over either, the call is cancelled: a client that opens streams and sends nothing does
not hold server threads).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

from credex.ledger.errors import StreamLimitError
from credex.node.rpc import convert
from credex.node.rpc.limits import StreamLimits
from credex.node.services.intake import Intake
from credex.v1 import (
    submit_pb2,
    submit_pb2_grpc,
)

__all__ = [
    "SubmitServicer",
]

logger = logging.getLogger("credex.node.rpc")


class _Watchdog:
    """Cancels the call when the stream outlives its time or waits too long for a
    request (re-armed by ``fed``); ``close`` stops it."""

    def __init__(self, context: Any, limits: StreamLimits) -> None:
        self._context = context
        self._limits = limits
        self._end = time.monotonic() + limits.seconds
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self.fired: str | None = None
        self.fed()

    def _fire(self, why: str) -> None:
        with self._lock:
            if self._timer is None:
                return
            self.fired = why
            self._timer = None
        logger.info("SubmitStatements: %s: cancelled", why)
        self._context.cancel()

    def fed(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            left = self._end - time.monotonic()
            idle = self._limits.idle_seconds
            wait, why = (
                (idle, f"no request for {idle:g} s")
                if idle < left
                else (max(left, 0.0), f"stream open for {self._limits.seconds:g} s")
            )
            self._timer = threading.Timer(wait, self._fire, (why,))
            self._timer.daemon = True
            self._timer.start()

    def close(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = None


class SubmitServicer(submit_pb2_grpc.SubmitServicer):
    """The Submit service: one durable response per request batch, in order."""

    def __init__(self, intake: Intake, limits: StreamLimits | None = None) -> None:
        self._intake = intake
        self._limits = limits or StreamLimits()

    def SubmitStatements(
        self, request_iterator: Iterator[submit_pb2.SubmitStatementsRequest], context: Any
    ) -> Iterator[submit_pb2.SubmitStatementsResponse]:
        limits = self._limits
        count = size = 0
        watchdog = _Watchdog(context, limits)
        try:
            for request in request_iterator:
                watchdog.close()  # a request is being handled: no idle clock meanwhile
                count += len(request.statements)
                size += sum(map(len, request.statements)) + sum(map(len, request.preimages))
                if count > limits.statements:
                    raise StreamLimitError(
                        f"submit: too many statements in one stream: expected <= "
                        f"{limits.statements}, got {count}: open another stream"
                    )
                if size > limits.bytes:
                    raise StreamLimitError(
                        f"submit: too many bytes in one stream: expected <= {limits.bytes}, "
                        f"got {size}: open another stream"
                    )
                acks = self._intake.submit(
                    convert.submit_statements_from_proto(request),
                    convert.submit_preimages_from_proto(request),
                )
                yield convert.submit_acks_to_proto(acks)
                watchdog.fed()
        finally:
            watchdog.close()

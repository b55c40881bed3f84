"""``SubmitServicer``: the Submit service (``credex.v1.Submit``), mTLS, roles issuer and
peer. Each request batch goes to ``Intake``; errors are translated by the interceptor.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from credex.node.rpc import convert
from credex.node.services.intake import Intake
from credex.v1 import (
    submit_pb2,
    submit_pb2_grpc,
)

__all__ = [
    "SubmitServicer",
]


class SubmitServicer(submit_pb2_grpc.SubmitServicer):
    """The Submit service: one durable response per request batch, in order."""

    def __init__(self, intake: Intake) -> None:
        self._intake = intake

    def SubmitStatements(
        self, request_iterator: Iterator[submit_pb2.SubmitStatementsRequest], context: Any
    ) -> Iterator[submit_pb2.SubmitStatementsResponse]:
        for request in request_iterator:
            acks = self._intake.submit(
                convert.submit_statements_from_proto(request),
                convert.submit_preimages_from_proto(request),
            )
            yield convert.submit_acks_to_proto(acks)

"""The Query service (``credex.v1.Query``): subject lookups over mTLS.

Thin: the server's interceptor authenticates the caller by certificate fingerprint and
role and leaves the registered client in ``CURRENT_CALLER``; ``Lookup`` hands it with the
request to ``SubjectLookup`` (``credex.node.services.lookup``) and encodes the result. Errors are
translated once by the interceptor (``LookupNotAuthorisedError`` -> PERMISSION_DENIED).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Final

from credex.ledger.errors import LookupNotAuthorisedError
from credex.node import telemetry
from credex.node.services.lookup import Caller, SubjectLookup
from credex.v1 import query_pb2, query_pb2_grpc

__all__ = ["CURRENT_CALLER", "QueryServicer"]

#: the authenticated client of the RPC running on this thread (set by the interceptor)
CURRENT_CALLER: Final[ContextVar[Caller | None]] = ContextVar("credex_caller", default=None)


class QueryServicer(query_pb2_grpc.QueryServicer):
    def __init__(self, lookup: SubjectLookup) -> None:
        self._lookup = lookup

    def Lookup(self, request: query_pb2.LookupRequest, context: Any) -> query_pb2.LookupResponse:
        caller = CURRENT_CALLER.get()
        if caller is None:
            raise LookupNotAuthorisedError("lookup: no authenticated client")
        which = request.WhichOneof("who")
        result = self._lookup.lookup(
            caller,
            subject=str(request.subject) if which == "subject" else "",
            person_id=str(request.person_id) if which == "person_id" else "",
            purpose=str(request.purpose),
            authorisation=str(request.authorisation),
        )
        telemetry.count(telemetry.LOOKUPS_SERVED)  # metrics (issue #11)
        return query_pb2.LookupResponse(
            subject=result.subject,
            records=[
                query_pb2.LookupRecord(
                    origin=f.origin,
                    leaf_index=f.index,
                    kind=f.kind,
                    bundle=f.bundle or b"",
                    withheld=f.withheld or "",
                )
                for f in result.records
            ],
            audit_index=result.audit.index,
            audit_leaf_hash=result.audit.leaf_hash,
            completeness=result.completeness,
        )

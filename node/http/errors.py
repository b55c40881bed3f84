"""Errors on the HTTP edge: every failure is a JSON body ``{"error": {"code", "message"}}``
with a 4xx status, never a traceback; an unexpected failure is a 500 with a fixed message.

``status_for`` maps the credex error tree (``credex.ledger.errors``) to HTTP statuses:
malformed input 400, not found or beyond the log 404, a record no longer shared or a
body erased 410, refused by policy 403, storage or peers unavailable 503. ``install``
registers the handlers on an app: credex errors, FastAPI's request validation (400, one
line naming the parameter, never the value), Starlette's own 404 / 405, and anything
else (500). Every error is counted by code (``credex.node.telemetry``); the message of a
500 is never shown (it is logged as its class name only).
"""

from __future__ import annotations

import logging
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from credex.ledger.errors import (
    BodyErasedError,
    CredexError,
    FormatError,
    NotFoundError,
    OutOfRangeError,
    PeerError,
    PolicyError,
    RecordWithheldError,
    StorageError,
)
from credex.node import telemetry

__all__ = [
    "ERROR_RESPONSES",
    "ErrorBody",
    "ErrorDetail",
    "Responses",
    "error_response",
    "install",
    "status_for",
    "strict_query",
]

logger = logging.getLogger("credex.http")

#: most specific first
_STATUS: Final[tuple[tuple[type[CredexError], int], ...]] = (
    (BodyErasedError, 410),
    (RecordWithheldError, 410),
    (NotFoundError, 404),
    (OutOfRangeError, 404),
    (FormatError, 400),
    (PolicyError, 403),
    (StorageError, 503),
    (PeerError, 503),
)


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    """What every failed request answers."""

    error: ErrorDetail


#: what FastAPI takes as ``responses=`` (OpenAPI documentation of a route's answers)
Responses = dict[int | str, dict[str, Any]]

#: the error responses an endpoint documents in OpenAPI
ERROR_RESPONSES: Final[Responses] = {
    400: {"model": ErrorBody, "description": "malformed path or parameter"},
    404: {"model": ErrorBody, "description": "no such entry, checkpoint or tile"},
}


def status_for(err: CredexError) -> int:
    for cls, status in _STATUS:
        if isinstance(err, cls):
            return status
    return 400


def error_response(status: int, code: str, message: str) -> JSONResponse:
    """The JSON error body, counted by code."""
    telemetry.count_error("http", code)
    body = ErrorBody(error=ErrorDetail(code=code, message=message))
    return JSONResponse(body.model_dump(), status_code=status)


async def _credex(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CredexError)
    return error_response(status_for(exc), exc.code, str(exc).splitlines()[0])


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    where = ".".join(str(p) for p in errors[0].get("loc", ())) if errors else "request"
    what = str(errors[0].get("msg", "invalid")) if errors else "invalid"
    return error_response(400, "format", f"http: invalid {where}: {what}")


async def _starlette(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http")
    message = {404: "http: no such page", 405: "http: method not allowed"}.get(
        exc.status_code, f"http: {exc.detail}"
    )
    return error_response(exc.status_code, code, message)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.error("unexpected %s", type(exc).__name__, extra={"event": "http.error"})
    return error_response(500, "internal", "http: internal error")


def strict_query(request: Request) -> None:
    """A router dependency: every query parameter at most once, and only those the
    route takes (the names are not repeated back: they may be anything).

    Raises:
        FormatError: a repeated or unknown query parameter.
    """
    keys = [k for k, _ in request.query_params.multi_items()]
    if len(keys) != len(set(keys)):
        raise FormatError("http: a query parameter is given more than once")
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    allowed: set[str] = set()
    todo = [] if dependant is None else [dependant]
    while todo:  # the route's own query parameters and its dependencies'
        d = todo.pop()
        allowed.update(p.alias for p in d.query_params)
        todo.extend(d.dependencies)
    unknown = len(set(keys) - allowed)
    if unknown:
        raise FormatError(f"http: {unknown} unknown query parameter(s) for this route")


def install(app: FastAPI) -> None:
    """Register the JSON error handlers on ``app``."""
    app.add_exception_handler(CredexError, _credex)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _starlette)
    app.add_exception_handler(Exception, _unexpected)

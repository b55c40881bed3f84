"""The gRPC edge of the error model: one catalogue, one translator, both directions.

Server side: ``ERROR_MAP`` maps each ``CredexError`` family to a ``grpc.StatusCode``
(the most specific class in an error's MRO wins; anything else is ``INTERNAL``), and
``abort_with`` is the one place that turns an exception raised by a servicer into a
status. It logs the details (error class, code and message; never request bodies — the
error messages themselves never carry keys, record bodies or personal identifiers) and
sends the client a sanitised message: the error's own one-line message for a client
error, a generic one for ``INTERNAL``. It adds two trailers: ``x-credex-error`` (the
error's stable ``code``) and, for a witness old-size conflict, ``x-witness-size``.

``WITNESS_ERROR_MAP`` holds the C2SP tlog-witness overrides for the Witness service
(a bad log signature is 403 -> ``PERMISSION_DENIED``, an old-size conflict is 409 ->
``FAILED_PRECONDITION``). The table is documented in ``docs/grpc.md``.

Client side: ``error_from_rpc`` turns a ``grpc.RpcError`` back into a ``CredexError``:
``UNAVAILABLE`` / ``DEADLINE_EXCEEDED`` become ``PeerUnavailableError``; otherwise the
class named by ``x-credex-error`` if known, else the family of the status code.

This module does not authenticate callers (``credex.node.rpc.server`` does) and never
retries.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final, NoReturn

import grpc

from credex.ledger import errors as _errors
from credex.ledger.errors import (
    CredexError,
    FormatError,
    NotFoundError,
    OutOfRangeError,
    OversizeError,
    PeerError,
    PeerUnavailableError,
    PolicyError,
    RecordWithheldError,
    SignatureError,
    StorageError,
    StreamLimitError,
    UnauthenticatedError,
    VerificationError,
)
from credex.node import telemetry

__all__ = [
    "CODE_TRAILER",
    "ERROR_MAP",
    "WITNESS_ERROR_MAP",
    "WITNESS_SIZE_TRAILER",
    "abort_with",
    "error_from_rpc",
    "status_for",
    "witness_size_of",
]

logger = logging.getLogger("credex.node.rpc")

CODE_TRAILER: Final = "x-credex-error"
WITNESS_SIZE_TRAILER: Final = "x-witness-size"
_MAX_MESSAGE: Final = 300
_INTERNAL_MESSAGE: Final = "internal error"
_SIZE_RE: Final = re.compile(r"0|[1-9][0-9]{0,19}", re.ASCII)

ERROR_MAP: Final[Mapping[type[Exception], grpc.StatusCode]] = {
    FormatError: grpc.StatusCode.INVALID_ARGUMENT,
    UnauthenticatedError: grpc.StatusCode.UNAUTHENTICATED,
    OversizeError: grpc.StatusCode.INVALID_ARGUMENT,
    StreamLimitError: grpc.StatusCode.RESOURCE_EXHAUSTED,
    VerificationError: grpc.StatusCode.INVALID_ARGUMENT,
    PolicyError: grpc.StatusCode.PERMISSION_DENIED,
    NotFoundError: grpc.StatusCode.NOT_FOUND,
    RecordWithheldError: grpc.StatusCode.FAILED_PRECONDITION,
    OutOfRangeError: grpc.StatusCode.OUT_OF_RANGE,
    StorageError: grpc.StatusCode.INTERNAL,
    PeerError: grpc.StatusCode.UNAVAILABLE,
}

#: C2SP tlog-witness semantics for the Witness service, applied before ``ERROR_MAP``.
WITNESS_ERROR_MAP: Final[Mapping[type[Exception], grpc.StatusCode]] = {
    NotFoundError: grpc.StatusCode.NOT_FOUND,  # 404 unknown log origin
    SignatureError: grpc.StatusCode.PERMISSION_DENIED,  # 403 not signed by the log's key
    OutOfRangeError: grpc.StatusCode.FAILED_PRECONDITION,  # 409 old size is not the latest
}

_CLIENT_FAMILIES: Final[Mapping[grpc.StatusCode, type[CredexError]]] = {
    grpc.StatusCode.INVALID_ARGUMENT: FormatError,
    grpc.StatusCode.PERMISSION_DENIED: PolicyError,
    grpc.StatusCode.UNAUTHENTICATED: PolicyError,
    grpc.StatusCode.NOT_FOUND: NotFoundError,
    grpc.StatusCode.OUT_OF_RANGE: OutOfRangeError,
    grpc.StatusCode.FAILED_PRECONDITION: OutOfRangeError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: OversizeError,
}

_BY_CODE: Final[Mapping[str, type[CredexError]]] = {
    cls.code: cls
    for name in _errors.__all__
    if isinstance(cls := getattr(_errors, name), type) and issubclass(cls, CredexError)
}


def status_for(
    err: BaseException, overrides: Mapping[type[Exception], grpc.StatusCode] | None = None
) -> grpc.StatusCode:
    """The status code for ``err``: the most specific mapped class in its MRO."""
    for table in (overrides or {}, ERROR_MAP):
        for cls in type(err).__mro__:
            if cls in table:
                return table[cls]
    return grpc.StatusCode.INTERNAL


def witness_size_of(err: BaseException) -> int | None:
    """The witness's latest size carried by an old-size conflict error, if any."""
    size = getattr(err, "witness_size", None)
    return size if isinstance(size, int) and not isinstance(size, bool) else None


def _public_message(err: BaseException, code: grpc.StatusCode) -> str:
    if code in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN):
        return _INTERNAL_MESSAGE
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    return text[:_MAX_MESSAGE]


def abort_with(
    context: Any,
    err: BaseException,
    method: str,
    overrides: Mapping[type[Exception], grpc.StatusCode] | None = None,
) -> NoReturn:
    """Log ``err`` and end the RPC with its status, a sanitised message and trailers."""
    code = status_for(err, overrides)
    # metrics (issue #11): errors by code; a refused subject lookup
    telemetry.count_error("grpc", err.code if isinstance(err, CredexError) else "internal")
    if method.endswith("/Lookup"):
        telemetry.count(telemetry.LOOKUPS_REFUSED)
    if code is grpc.StatusCode.INTERNAL:
        if isinstance(err, CredexError):
            logger.error("%s: %s: %s", method, type(err).__name__, err)
        else:
            logger.exception("%s: unexpected %s", method, type(err).__name__, exc_info=err)
    else:
        logger.info("%s: %s %s: %s", method, code.name, type(err).__name__, err)
    trailers: list[tuple[str, str]] = []
    if isinstance(err, CredexError):
        trailers.append((CODE_TRAILER, err.code))
    size = witness_size_of(err)
    if size is not None:
        trailers.append((WITNESS_SIZE_TRAILER, str(size)))
    if trailers:
        context.set_trailing_metadata(tuple(trailers))
    context.abort(code, _public_message(err, code))
    raise AssertionError("unreachable: context.abort returned")  # pragma: no cover


def _trailer(metadata: Sequence[Any] | None, key: str) -> str | None:
    for item in metadata or ():
        k, v = item.key, item.value
        if k == key:
            return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
    return None


def error_from_rpc(e: grpc.RpcError, what: str) -> CredexError:
    """The ``CredexError`` for a failed call (raise it ``from e``).

    ``what`` names the call in the message, e.g. ``peer: GetCheckpoint``.
    """
    code = e.code() if hasattr(e, "code") else grpc.StatusCode.UNKNOWN
    details = (e.details() if hasattr(e, "details") else None) or ""
    message = f"{what}: {code.name.lower()}: {details}"[: _MAX_MESSAGE + 80]
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return PeerUnavailableError(message)
    trailers = e.trailing_metadata() if hasattr(e, "trailing_metadata") else None
    named = _BY_CODE.get(_trailer(trailers, CODE_TRAILER) or "")
    cls: type[CredexError] = named or _CLIENT_FAMILIES.get(code, PeerError)
    err = cls(message)
    size = _trailer(trailers, WITNESS_SIZE_TRAILER)
    if size is not None and _SIZE_RE.fullmatch(size):  # ASCII: "²".isdigit() is True
        setattr(err, "witness_size", int(size))  # noqa: B010 - documented extra attribute
    return err

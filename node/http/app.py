"""``create_app``: a node's public HTTP side as one FastAPI app.

Routes: the log as C2SP tlog-tiles (``tiles.py``), the JSON API (``api.py``; subject
reports, published reports and index proofs with their pages in ``reports.py``), the
explorer pages and their static files (``pages.py``, ``credex/node/web``), ``/metrics``
and ``/healthz`` (``metrics.py``).

Around every request (``_Edge``, plain ASGI): a request id (the client's ``X-Request-Id``
if it is 1-64 of ``[A-Za-z0-9._-]``, else a fresh one; echoed in the response), one JSON
log line (``credex.http``: method, route *template*, status, duration; never the raw path
or query, which may hold anything a client typed), the request counter, and a last guard:
an exception no handler took becomes a JSON 500 without a traceback. Responses of 1 KB
or more are gzip-compressed when the client accepts it (entry bundles, tiles, pages).

The app is read-only: it never appends or signs. It shares the ``LocalNode`` of the gRPC
server when ``credex serve --http`` runs both.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any, Final

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.openapi.utils import get_openapi
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from credex import __version__
from credex.node.federation.mirrors import MirrorBundles
from credex.node.local import LocalNode
from credex.node.logs import REQUEST_ID

from . import api, errors, metrics, pages, reports, tiles
from .context import HttpContext
from .metrics import Metrics

__all__ = ["REQUEST_ID_HEADER", "create_app"]

REQUEST_ID_HEADER: Final = "x-request-id"
_RID_RE: Final = re.compile(r"[A-Za-z0-9._-]{1,64}", re.ASCII)
_ERROR_REF: Final = {"$ref": "#/components/schemas/ErrorBody"}
logger = logging.getLogger("credex.http")


class _Edge:
    """Request id, one log line and the request counter per request; the last guard."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(REQUEST_ID_HEADER.encode(), b"")
        text = given.decode("latin-1")
        rid = text if _RID_RE.fullmatch(text) else uuid.uuid4().hex
        token = REQUEST_ID.set(rid)
        started = time.perf_counter()
        status = [0]
        sent = [0]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k != REQUEST_ID_HEADER.encode()
                ]
                message["headers"] = [*headers, (REQUEST_ID_HEADER.encode(), rid.encode())]
            elif message["type"] == "http.response.body":
                sent[0] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as e:  # the last guard: no traceback leaves the node
            logger.error("unexpected %s", type(e).__name__, extra={"event": "http.error"})
            if status[0] == 0:
                response = errors.error_response(500, "internal", "http: internal error")
                await response(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            self.metrics.requests.labels(template, str(status[0])).inc()
            logger.info(
                "%s %s %d",
                scope.get("method", ""),
                template,
                status[0],
                extra={
                    "event": "http.request",
                    "method": scope.get("method", ""),
                    "route": template,
                    "status": status[0],
                    "ms": round((time.perf_counter() - started) * 1000, 2),
                    "bytes": sent[0],
                },
            )
            REQUEST_ID.reset(token)


def create_app(
    node: LocalNode,
    *,
    mirrors: MirrorBundles | None = None,
    clock: Callable[[], int] = lambda: int(time.time()),
    public_url: str | None = None,
    pin: str | None = None,
) -> FastAPI:
    """The public HTTP app of ``node`` (it does not own or close the node).

    ``public_url``: the base URL people reach this node at (links and QR codes);
    ``pin``: the hash of the federation manifest's version 1 the record pages pin (hex).
    """
    app = FastAPI(
        title="credex node",
        version=__version__,
        description=(
            "A credex node's public side: its log as C2SP tlog-tiles, a read-only JSON API "
            "(records, bundles, proofs, trust, organisations' reports, index proofs), "
            "explorer pages and metrics. Never a personal record body or a person's report."
        ),
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    ctx = HttpContext(node, mirrors, clock, public_url, pin)
    app.state.ctx = ctx
    app.state.metrics = Metrics(node, clock)
    errors.install(app)
    for router in (tiles.router, api.router, reports.router, metrics.router, pages.router):
        app.include_router(router)
    pages.mount_static(app)
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(_Edge, metrics=app.state.metrics)
    return app


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """FastAPI's document, saying what the app answers: a bad parameter is a 400 with
    ``ErrorBody`` (``errors.py``), never FastAPI's 422."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            for item in doc.get("paths", {}).values():
                for op in item.values():
                    responses = op.get("responses", {})
                    if responses.pop("422", None) is not None and "400" not in responses:
                        responses["400"] = {
                            "description": "malformed path or parameter",
                            "content": {"application/json": {"schema": _ERROR_REF}},
                        }
            schemas = doc.get("components", {}).get("schemas", {})
            for name in ("HTTPValidationError", "ValidationError"):
                schemas.pop(name, None)
            app.openapi_schema = doc
        return app.openapi_schema

    return build

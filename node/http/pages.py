"""The explorer: server-rendered pages (Jinja2, templates in ``credex/node/web/templates``)
with Chinese and English labels, and the static files they use (``/static``).

- ``/``: the log: origin, size, the latest checkpoint and its witnesses, the checkpoint
  history (paged with ``?below=``), the latest entries, a search box.
- ``/record/<leaf hash>``: a record: kind, issuer, dates, status with its evidence, the
  conversion chain of a derived record; the page verifies the record's bundle in the
  browser (``static/explorer/record.js`` with the verifier of ``static/verify``) and shows
  the verdict step by step on ``#verdict[data-verdict]``.
- ``/entry/<index>``: redirects to the record page; ``/search?q=``: a leaf hash, an index
  or an organisation id (its subject page).
- ``/federation``: members, keys, agreements, manifest versions.

Every value reaches HTML through Jinja2's autoescaping; page data for the script is a
JSON ``<script type="application/json">`` block (``tojson`` escapes ``<``, ``>``, ``&``).
A person's record shows only what its envelope says (``views.py``). The subject and
report pages are ``reports.py``'s.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from credex.ledger.dates import cst_time
from credex.ledger.errors import FormatError, IdentifierError, NotFoundError
from credex.ledger.identifiers import validate_org_id

from .api import LEAF_PATTERN
from .context import HttpContext, context
from .errors import ERROR_RESPONSES, Responses
from .labels import KIND_NAMES, LABELS, STATE_WORDS
from .views import checkpoint_history, federation_info, log_info, record_info

__all__ = ["mount_static", "record_url", "render", "router"]

_WEB: Final = resources.files("credex.node").joinpath("web")
_RECENT: Final = 20
_MAX: Final = (1 << 63) - 1
_HTML: Final[Responses] = {200: {"content": {"text/html": {}}}}

templates = Jinja2Templates(directory=str(_WEB.joinpath("templates")))
templates.env.filters["time"] = lambda t: "—" if t is None else cst_time(int(t))
templates.env.globals.update(L=LABELS, KIND_NAMES=KIND_NAMES, STATE_WORDS=STATE_WORDS)

router = APIRouter(tags=["pages"], include_in_schema=False)
Ctx = Annotated[HttpContext, Depends(context)]


def record_url(base: str, leaf_hash: bytes) -> str:
    """The record page of ``leaf_hash`` under a node's public base URL."""
    return f"{base.rstrip('/')}/record/{leaf_hash.hex()}"


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=str(_WEB.joinpath("static"))), name="static")


def render(request: Request, name: str, **values: Any) -> HTMLResponse:
    """The page ``name`` (a template) with ``values``; never cached."""
    return templates.TemplateResponse(request, name, values, headers={"Cache-Control": "no-cache"})


_page = render


@router.get("/", response_class=HTMLResponse, responses=_HTML)
def log_page(
    request: Request,
    ctx: Ctx,
    below: Annotated[int | None, Query(ge=0, le=_MAX)] = None,
) -> HTMLResponse:
    node = ctx.node
    size = node.log.size
    recent = node.log.entries(max(0, size - _RECENT), size)[::-1]
    manifest = ctx.manifest()
    return _page(
        request,
        "log.html",
        log=log_info(node),
        history=checkpoint_history(node, 20, below),
        recent=recent,
        federation=None if manifest is None else federation_info(manifest),
    )


@router.get("/record/{leaf_hash}", response_class=HTMLResponse, responses=ERROR_RESPONSES)
def record_page(
    request: Request,
    ctx: Ctx,
    leaf_hash: Annotated[str, Path(pattern=LEAF_PATTERN)],
) -> HTMLResponse:
    leaf = bytes.fromhex(leaf_hash)
    info = record_info(ctx.node, leaf, ctx.clock(), ctx.mirrors)
    manifest = ctx.manifest()
    pin = ctx.pin or (None if manifest is None else manifest.versions[0].hash.hex())
    status = info.status
    data = {
        "leaf_hash": info.leaf_hash,
        "kind": info.kind,
        "envelope": info.envelope,
        "covered": info.covered,
        "shared": status is None or status.shared,
        "state": None if status is None else status.state,
        "evidence": [] if status is None else [e.leaf_hash for e in status.evidence],
        "bundle_url": f"/api/v1/bundles/{info.leaf_hash}",
        "evidence_url": "/api/v1/bundles/",
        "trust_url": "/api/v1/manifest" if manifest is not None else "/api/v1/trust",
        "trust_kind": "manifest" if manifest is not None else "trust-file",
        "pin": pin,
    }
    return _page(request, "record.html", record=info, data=data, origin=ctx.node.home.origin)


@router.get("/entry/{index}", responses=ERROR_RESPONSES)
def entry_page(index: Annotated[int, Path(ge=0, le=_MAX)], ctx: Ctx) -> Response:
    if index >= ctx.node.log.size:
        raise NotFoundError(f"pages: no entry {index}: the log has {ctx.node.log.size}")
    leaf = ctx.node.log.entry(index).leaf_hash
    return RedirectResponse(f"/record/{leaf.hex()}", status_code=303)


@router.get("/search", responses=ERROR_RESPONSES)
def search(q: Annotated[str, Query(max_length=80)], ctx: Ctx) -> Response:
    text = q.strip()
    if re.fullmatch(LEAF_PATTERN, text, re.ASCII):
        return RedirectResponse(f"/record/{text.lower()}", status_code=303)
    if len(text) == 18 or text.upper().startswith("HK-"):  # an organisation: its report
        try:
            return RedirectResponse(f"/subject/{validate_org_id(text).id}", status_code=303)
        except IdentifierError:
            pass
    if re.fullmatch(r"(?:0|[1-9][0-9]{0,18})", text, re.ASCII):
        return RedirectResponse(f"/entry/{text}", status_code=303)
    raise FormatError(
        "pages: search: expected a leaf hash (64 hex), an entry index or an organisation id"
    )


@router.get("/federation", response_class=HTMLResponse, responses=ERROR_RESPONSES)
def federation_page(request: Request, ctx: Ctx) -> HTMLResponse:
    manifest = ctx.manifest()
    info = None if manifest is None else federation_info(manifest)
    return _page(request, "federation.html", federation=info, origin=ctx.node.home.origin)

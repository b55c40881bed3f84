"""Subject reports and the verifiable index on the public side (issue #10 / #11).

JSON API (``/api/v1``, in docs/openapi.json):

- ``GET /reports/subject/{subject}``: the ``.credex-report`` this node compiles for an
  organisation (docs/spec.md §5.4), its own log as of its newest checkpoint meeting the
  witness quorum (the latest, without a manifest), statuses judged at the app's clock.
  The report is signed with the log key (as a bundle's attestation is); nothing is
  appended. The last 64 are kept for 5 minutes of the clock or until the next checkpoint
  (``ReportCache``). A person's subject (``hmac:...``) is refused (403): a person's report carries
  their records with bodies and never leaves a node but through an authorised lookup.
- ``GET /reports/published/{sha256}``: a report the operator published (``credex qr
  --report``, ``credex report --pdf``): exactly the bytes whose hash the URL names.
- ``GET /index/subject/{subject}`` and ``GET /index/status/{leaf_hash}``: the index
  lookup proof of a subject key (organisations only) or of a record's status key as of
  the latest signed checkpoint, with the items its value chains (docs/spec.md §5.1).

Pages: ``/subject/{subject}`` (the organisation's report, verified in the browser),
``/report/{sha256}`` (a published report) and ``/report`` (a report file the reader opens
locally: it never leaves the browser). The pages share ``report.html`` and
``static/explorer/report.js``; the verdict goes on ``#verdict[data-verdict]``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import HTMLResponse

from credex.ledger.checkpoint import SignedNote
from credex.ledger.errors import NotFoundError
from credex.ledger.identifiers import validate_org_id
from credex.ledger.index_map import parse_index_extension, status_key, subject_key
from credex.ledger.indexing import lifecycle_in
from credex.ledger.subject_report import SubjectReport, sign_report
from credex.node.federation.holdings import Holdings
from credex.node.services.published import published_report, require_public_subject
from credex.node.services.reports import own_part

from .api import LEAF_PATTERN
from .context import HttpContext, context
from .errors import ERROR_RESPONSES, ErrorBody, Responses, strict_query
from .models import IndexItem, IndexProofInfo
from .pages import render

__all__ = ["REPORT_MEDIA_TYPE", "router"]

REPORT_MEDIA_TYPE: Final = "application/vnd.credex.report+cbor"
SUBJECT_PATTERN: Final = r"^[!-~]{1,96}$"
HASH_PATTERN: Final = r"^[0-9a-f]{64}$"
_MAX: Final = (1 << 63) - 1
_REPORT: Final[Responses] = {
    200: {"content": {REPORT_MEDIA_TYPE: {}}},
    403: {"model": ErrorBody, "description": "a person's report: never on the public side"},
}

router = APIRouter(tags=["reports"], responses=dict(ERROR_RESPONSES))
Ctx = Annotated[HttpContext, Depends(context)]
SubjectPath = Annotated[
    str, Path(pattern=SUBJECT_PATTERN, description="an organisation: USCC or HK-CR:/HK-BR: number")
]
HashPath = Annotated[str, Path(pattern=HASH_PATTERN, description="SHA-256 of the report, hex")]


def org_subject(text: str, what: str) -> str:
    """The canonical organisation id of ``text``; a person's pseudonym is refused (403),
    anything else malformed is 400 (the message never repeats what was typed)."""
    require_public_subject(text, what)
    return validate_org_id(text).id


def _signed(ctx: HttpContext) -> SignedNote:
    """The checkpoint a report or proof rests on: the newest meeting the witness quorum
    under the manifest, else the latest; it must commit to an index root."""
    node = ctx.node
    note: SignedNote | None = None
    if ctx.manifest() is not None:
        note = Holdings(node, mirrors=ctx.mirrors, clock=ctx.clock).checkpoint_for(0)
    if note is None:
        note = node.latest_checkpoint()
    if note is None:
        raise NotFoundError("index: this log has no signed checkpoint yet")
    if parse_index_extension(note.checkpoint.extensions) is None:
        raise NotFoundError("index: the latest checkpoint commits to no index root")
    if note.checkpoint.size > node.log.size:
        node.log.refresh()
    return note


def subject_report(ctx: HttpContext, subject: str) -> SubjectReport:
    """The report this node compiles on ``subject`` (an organisation, canonical)."""
    note = _signed(ctx)
    now = ctx.clock()
    manifest = ctx.manifest()
    part = own_part(
        ctx.node,
        subject,
        now,
        now,
        fresh=False,
        authorised=None if manifest is None else manifest.repair_authorised,
        cosigned=lambda: note,
    )
    return sign_report(ctx.node._log_key, subject, now, [part])


def _report_response(data: bytes, name: str) -> Response:
    return Response(
        data,
        media_type=REPORT_MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{name}.credex-report"',
            "Cache-Control": "no-cache",
        },
    )


class ReportCache:
    """The last reports compiled, by (subject, checkpoint size, 5-minute slot): a page
    reload or many readers of one company cost one compilation (each signs and builds
    every in-force bundle), while a new checkpoint or a later slot makes a new one."""

    SLOT: Final = 300
    SIZE: Final = 64

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[str, int, int], bytes] = OrderedDict()

    def get(self, ctx: HttpContext, subject: str) -> bytes:
        key = (subject, _signed(ctx).checkpoint.size, ctx.clock() // self.SLOT)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        data = subject_report(ctx, subject).to_bytes()
        with self._lock:
            self._items[key] = data
            while len(self._items) > self.SIZE:
                self._items.popitem(last=False)
        return data


def _cache(request: Request) -> ReportCache:
    cache: ReportCache | None = getattr(request.app.state, "report_cache", None)
    if cache is None:
        cache = request.app.state.report_cache = ReportCache()
    return cache


@router.get(
    "/api/v1/reports/subject/{subject}",
    response_class=Response,
    responses=_REPORT,
    dependencies=[Depends(strict_query)],
    summary="The signed report on an organisation (.credex-report; never a person's)",
)
def get_subject_report(subject: SubjectPath, ctx: Ctx, request: Request) -> Response:
    org = org_subject(subject, "reports")
    return _report_response(_cache(request).get(ctx, org), org.replace(":", "-"))


@router.get(
    "/api/v1/reports/published/{report_hash}",
    response_class=Response,
    responses=_REPORT,
    dependencies=[Depends(strict_query)],
    summary="A report this node published, by the SHA-256 of its bytes",
)
def get_published_report(report_hash: HashPath, ctx: Ctx) -> Response:
    data = published_report(ctx.node.home, report_hash)
    return Response(
        data,
        media_type=REPORT_MEDIA_TYPE,
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


@router.get(
    "/api/v1/index/subject/{subject}",
    dependencies=[Depends(strict_query)],
    responses={403: _REPORT[403]},
    summary="Index lookup proof of an organisation's subject key, with its entries",
)
def get_subject_index(subject: SubjectPath, ctx: Ctx) -> IndexProofInfo:
    org = org_subject(subject, "index")
    note = _signed(ctx)
    size = note.checkpoint.size
    proof = ctx.node.index.prove_subject(org, size)
    items = [
        IndexItem(index=e.index, leaf_hash=e.leaf_hash.hex(), kind=e.kind)
        for e in ctx.node.log.by_subject(org, end=size)
    ]
    return _proof_info(note, subject_key(org), proof.value, proof.to_bytes(), items)


@router.get(
    "/api/v1/index/status/{leaf_hash}",
    dependencies=[Depends(strict_query)],
    summary="Index lookup proof of a record's status key, with its lifecycle statements",
)
def get_status_index(
    leaf_hash: Annotated[str, Path(pattern=LEAF_PATTERN, description="leaf hash, 64 hex")],
    ctx: Ctx,
) -> IndexProofInfo:
    leaf = bytes.fromhex(leaf_hash)
    note = _signed(ctx)
    size = note.checkpoint.size
    if ctx.node.log.index_of(leaf) >= size:  # NotFoundError: not in this log
        raise NotFoundError("index: the entry is not covered by a signed checkpoint yet")
    proof = ctx.node.index.prove_status(leaf, size)
    items = [
        IndexItem(index=i, leaf_hash=st.leaf_hash.hex())
        for i, st in lifecycle_in(ctx.node.log, leaf, size)
    ]
    return _proof_info(note, status_key(leaf), proof.value, proof.to_bytes(), items)


def _proof_info(
    note: SignedNote, key: bytes, value: bytes | None, proof: bytes, items: list[IndexItem]
) -> IndexProofInfo:
    return IndexProofInfo(
        origin=note.checkpoint.origin,
        tree_size=note.checkpoint.size,
        checkpoint=note.to_text(),
        key=key.hex(),
        value=None if value is None else value.hex(),
        proof=proof.hex(),
        items=items,
    )


# --- pages -----------------------------------------------------------------------------


def _page_data(ctx: HttpContext, **values: Any) -> dict[str, Any]:
    manifest = ctx.manifest()
    pin = ctx.pin or (None if manifest is None else manifest.versions[0].hash.hex())
    return {
        "trust_url": "/api/v1/manifest" if manifest is not None else "/api/v1/trust",
        "trust_kind": "manifest" if manifest is not None else "trust-file",
        "pin": pin,
        **values,
    }


@router.get("/subject/{subject}", response_class=HTMLResponse, include_in_schema=False)
def subject_page(request: Request, subject: SubjectPath, ctx: Ctx) -> HTMLResponse:
    org = org_subject(subject, "subject page")
    data = _page_data(ctx, mode="subject", subject=org, report_url=f"/api/v1/reports/subject/{org}")
    return render(request, "report.html", data=data, subject=org, origin=ctx.node.home.origin)


@router.get("/report/{report_hash}", response_class=HTMLResponse, include_in_schema=False)
def published_page(request: Request, report_hash: HashPath, ctx: Ctx) -> HTMLResponse:
    published_report(ctx.node.home, report_hash)  # 404 / 403 before any page
    data = _page_data(
        ctx,
        mode="published",
        subject=None,
        report_hash=report_hash,
        report_url=f"/api/v1/reports/published/{report_hash}",
    )
    return render(request, "report.html", data=data, subject=None, origin=ctx.node.home.origin)


@router.get("/report", response_class=HTMLResponse, include_in_schema=False)
def local_report_page(request: Request, ctx: Ctx) -> HTMLResponse:
    data = _page_data(ctx, mode="local", subject=None, report_url=None)
    return render(request, "report.html", data=data, subject=None, origin=ctx.node.home.origin)

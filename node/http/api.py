"""The public JSON API, ``/api/v1``: the log, checkpoints, records, bundles, proofs, the
trust material and the federation (documented as OpenAPI: docs/openapi.json).

Everything here is read-only and public, under the sharing rules of the gRPC Log service:
a bundle only for a record still shared, never with a personal body (``bundles.py``);
proofs and receipts only up to the latest signed checkpoint. Parameters are strict: a
leaf hash is 64 ASCII hex characters, sizes and indices are integers in ``[0, 2^63)``;
anything else is 400, a missing entry 404, a withheld record 410, each with a JSON error
(``errors.py``). The subject index and reports (issue #10) are ``reports.py``.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Depends, Path, Query, Response

from credex.ledger.errors import NotFoundError, OutOfRangeError

from .bundles import covered_size, public_bundle
from .context import HttpContext, context
from .errors import ERROR_RESPONSES, ErrorBody, Responses, strict_query
from .models import (
    CheckpointInfo,
    CheckpointList,
    ConsistencyProof,
    FederationInfo,
    InclusionProof,
    LogInfo,
    RecordInfo,
)
from .views import checkpoint_history, checkpoint_info, federation_info, log_info, record_info

__all__ = ["LEAF_PATTERN", "ORIGIN_PATTERN", "router"]

LEAF_PATTERN: Final = r"^[0-9a-fA-F]{64}$"
#: a log origin as the manifest allows it: printable ASCII without spaces or '+'
ORIGIN_PATTERN: Final = r"^[!-*,-~]{1,255}$"
_MAX: Final = (1 << 63) - 1
_BINARY: Final[Responses] = {200: {"content": {"application/octet-stream": {}}}}
_GONE: Final[Responses] = {
    410: {"model": ErrorBody, "description": "the record is no longer shared"}
}

router = APIRouter(
    prefix="/api/v1",
    tags=["api"],
    responses=dict(ERROR_RESPONSES),
    dependencies=[Depends(strict_query)],
)
Ctx = Annotated[HttpContext, Depends(context)]
Leaf = Annotated[str, Path(pattern=LEAF_PATTERN, description="leaf hash, 64 hex")]
Index = Annotated[int, Path(ge=0, le=_MAX)]


def _leaf(text: str) -> bytes:
    return bytes.fromhex(text)


def _signed_size(ctx: HttpContext, size: int | None) -> int:
    """``size`` (default: the latest checkpoint's), refused past the latest checkpoint."""
    covered = covered_size(ctx.node)
    if size is None:
        size = covered
    if size > covered:
        raise OutOfRangeError(
            f"api: tree size beyond the latest checkpoint: expected <= {covered}, got {size}"
        )
    return size


@router.get("/log", summary="Origin, region, size and latest checkpoint")
def get_log(ctx: Ctx) -> LogInfo:
    return log_info(ctx.node)


@router.get("/checkpoints", summary="Checkpoint history, largest first")
def get_checkpoints(
    ctx: Ctx,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    below: Annotated[int | None, Query(ge=0, le=_MAX)] = None,
) -> CheckpointList:
    return checkpoint_history(ctx.node, limit, below)


@router.get("/checkpoints/{tree_size}", summary="The checkpoint signed at one tree size")
def get_checkpoint(tree_size: Index, ctx: Ctx) -> CheckpointInfo:
    cp = ctx.node.store.get_checkpoint(tree_size)
    if cp is None:
        raise NotFoundError(f"api: no checkpoint signed at size {tree_size}")
    return checkpoint_info(cp, ctx.node.home.origin)


@router.get("/records/{leaf_hash}", summary="A record by leaf hash (no personal body)")
def get_record(leaf_hash: Leaf, ctx: Ctx) -> RecordInfo:
    return record_info(ctx.node, _leaf(leaf_hash), ctx.clock(), ctx.mirrors)


@router.get("/entries/{index}", summary="A record by leaf index (no personal body)")
def get_entry(index: Index, ctx: Ctx) -> RecordInfo:
    if index >= ctx.node.log.size:
        raise NotFoundError(f"api: no entry {index}: the log has {ctx.node.log.size}")
    leaf = ctx.node.log.entry(index).leaf_hash
    return record_info(ctx.node, leaf, ctx.clock(), ctx.mirrors)


@router.get(
    "/bundles/{leaf_hash}",
    response_class=Response,
    responses={**_BINARY, **_GONE},
    summary="A .credex bundle (never with a personal body)",
)
def get_bundle(
    leaf_hash: Leaf,
    ctx: Ctx,
    origin: Annotated[
        str | None, Query(pattern=ORIGIN_PATTERN, description="a mirrored peer's origin")
    ] = None,
) -> Response:
    index, bundle = public_bundle(
        ctx.node, _leaf(leaf_hash), ctx.clock(), origin=origin, mirrors=ctx.mirrors
    )
    return Response(
        bundle.to_bytes(),
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="record-{index}.credex"',
            "Cache-Control": "no-cache",
        },
    )


@router.get("/proofs/inclusion", summary="RFC 9162 inclusion proof")
def get_inclusion(
    ctx: Ctx,
    index: Annotated[int, Query(ge=0, le=_MAX)],
    tree_size: Annotated[int | None, Query(ge=1, le=_MAX)] = None,
) -> InclusionProof:
    size = _signed_size(ctx, tree_size)
    p = ctx.node.inclusion(index, size)
    return InclusionProof.model_validate(p)


@router.get("/proofs/consistency", summary="RFC 9162 consistency proof")
def get_consistency(
    ctx: Ctx,
    old_size: Annotated[int, Query(ge=1, le=_MAX)],
    new_size: Annotated[int | None, Query(ge=1, le=_MAX)] = None,
) -> ConsistencyProof:
    size = _signed_size(ctx, new_size)
    return ConsistencyProof.model_validate(ctx.node.consistency(old_size, size))


@router.get(
    "/receipts/{index}",
    response_class=Response,
    responses=_BINARY,
    summary="RFC 9942 COSE receipt of an entry in a signed tree size",
)
def get_receipt(
    index: Index, ctx: Ctx, tree_size: Annotated[int | None, Query(ge=1, le=_MAX)] = None
) -> Response:
    size = _signed_size(ctx, tree_size)
    return Response(ctx.node.receipt(index, size), media_type="application/octet-stream")


@router.get(
    "/trust",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}},
    summary="This node's credex-trust/1 file (log and issuer keys)",
)
def get_trust(ctx: Ctx) -> Response:
    return Response(ctx.node.home.trust().to_json(), media_type="application/json")


@router.get(
    "/manifest",
    response_class=Response,
    responses=_BINARY,
    summary="The federation manifest chain (versions 1..n), for pinning",
)
def get_manifest(ctx: Ctx) -> Response:
    chain = ctx.manifest_chain()
    if chain is None:
        raise NotFoundError("api: this node has no federation manifest")
    return Response(chain, media_type="application/octet-stream")


@router.get("/federation", summary="Members, keys, agreements and manifest versions")
def get_federation(ctx: Ctx) -> FederationInfo:
    manifest = ctx.manifest()
    if manifest is None:
        raise NotFoundError("api: this node has no federation manifest")
    return federation_info(manifest)

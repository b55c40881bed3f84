"""The log as C2SP tlog-tiles (c2sp.org/tlog-tiles): ``/checkpoint``, ``/tile/<L>/<N>``,
``/tile/entries/<N>`` (and their ``.p/<W>`` partial forms).

- ``/checkpoint``: the latest signed checkpoint note, with its witness cosignatures,
  ``text/plain; charset=utf-8``, cacheable for a few seconds only.
- tiles: level *L* holds the hashes of tree level ``8L`` (level 0: leaf hashes from the
  ``entries`` table, higher levels from the stored perfect subtrees of ``nodes``);
  entry bundles hold the statements as logged, each with a big-endian uint16 length.
  Immutable once they exist: ``Cache-Control: public, max-age=31536000, immutable``.
- Only what the latest signed checkpoint covers is served: a tile (full or partial)
  reaching past its tree size is 404, never an unsigned view of the tree. A malformed path
  (``tilepaths.parse_tile_path``: ASCII digits, no leading zeros, ``x``-prefixed 3-digit
  elements, canonical) is 400. Both answer a JSON error.

Compression (``Content-Encoding: gzip`` on request) is the app's middleware. This module
never signs: a checkpoint is made by ``credex checkpoint`` or the serving loop.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Depends, Path, Response

from credex.ledger.errors import NotFoundError

from .bundles import covered_size
from .context import HttpContext, context
from .errors import ERROR_RESPONSES, Responses, strict_query
from .tilepaths import TILE_PATH_PATTERN, encode_entry_bundle, parse_tile_path

__all__ = ["CHECKPOINT_CACHE", "TILE_CACHE", "router"]

CHECKPOINT_CACHE: Final = "public, max-age=5"
TILE_CACHE: Final = "public, max-age=31536000, immutable"
_BINARY: Final[Responses] = {200: {"content": {"application/octet-stream": {}}}}

router = APIRouter(tags=["tiles"], dependencies=[Depends(strict_query)])
Ctx = Annotated[HttpContext, Depends(context)]


@router.get(
    "/checkpoint",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}, 404: ERROR_RESPONSES[404]},
    summary="The latest signed checkpoint (C2SP tlog-checkpoint signed note)",
)
def checkpoint(ctx: Ctx) -> Response:
    cp = ctx.node.store.latest_checkpoint()
    if cp is None:
        raise NotFoundError("tiles: no checkpoint signed yet")
    return Response(
        cp.note.encode("utf-8"),
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": CHECKPOINT_CACHE},
    )


@router.get(
    "/tile/{path:path}",
    response_class=Response,
    responses={**_BINARY, **ERROR_RESPONSES},
    summary="A Merkle tree tile or an entry bundle (C2SP tlog-tiles)",
)
def tile(
    path: Annotated[
        str,
        Path(
            pattern=TILE_PATH_PATTERN,
            description="<L>/<N>[.p/<W>] or entries/<N>[.p/<W>] (c2sp.org/tlog-tiles)",
        ),
    ],
    ctx: Ctx,
) -> Response:
    t = parse_tile_path(path)
    size = covered_size(ctx.node)
    if t.end_size > size:
        raise NotFoundError(
            f"tiles: {t.path()} reaches past the latest checkpoint: expected tiles within "
            f"tree size {size}"
        )
    start = t.index * 256
    if t.level is None:
        data = encode_entry_bundle([e.leaf for e in ctx.node.log.entries(start, start + t.width)])
    else:
        hashes = ctx.node.log.subtree_hashes(t.tree_level, start, start + t.width, size)
        data = b"".join(hashes)
    return Response(
        data, media_type="application/octet-stream", headers={"Cache-Control": TILE_CACHE}
    )

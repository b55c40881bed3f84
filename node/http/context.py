"""What every HTTP handler reads: the node, its mirrors, the clock and the public URL.

One ``HttpContext`` per app, kept in ``app.state.ctx`` and handed to handlers by the
``context`` dependency. The federation manifest chain is read from the node home on each
use (it changes when the operator installs a version), never cached across requests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from credex.ledger.manifest import Manifest, encode_chain
from credex.node.federation.members import federation_manifest
from credex.node.federation.mirrors import MirrorBundles
from credex.node.local import LocalNode

__all__ = ["HttpContext", "context"]


@dataclass(frozen=True, slots=True)
class HttpContext:
    node: LocalNode
    mirrors: MirrorBundles | None
    clock: Callable[[], int]
    #: the node's public base URL (links, QR codes), e.g. ``https://credex.ningbo.example``
    public_url: str | None = None
    #: the hash of the federation manifest's version 1 that pages pin (hex), if configured
    pin: str | None = None

    def manifest(self) -> Manifest | None:
        return federation_manifest(self.node.home)

    def manifest_chain(self) -> bytes | None:
        m = self.manifest()
        return None if m is None else encode_chain(m.versions)


def context(request: Request) -> HttpContext:
    ctx: HttpContext = request.app.state.ctx
    return ctx

"""The public HTTP side of a node: ``app`` (``create_app``), ``server`` (``HttpServer``:
uvicorn on a thread), ``tiles`` (C2SP tlog-tiles) with ``tilepaths`` (their grammar),
``api`` (the JSON API) with ``models`` and ``views``, ``bundles`` (public bundles: the
sharing rules, never a body), ``reports`` (subject reports, index proofs, report pages),
``pages`` and ``labels`` (the explorer), ``metrics`` (``/metrics``, ``/healthz``),
``errors`` (JSON errors), ``context``. Names are imported lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from credex._exports import lazy_exports

if TYPE_CHECKING:
    from credex.node.http.app import create_app
    from credex.node.http.bundles import public_bundle, without_bodies
    from credex.node.http.pages import record_url
    from credex.node.http.server import HttpServer
    from credex.node.http.tilepaths import TilePath, parse_tile_path

__all__ = [
    "HttpServer",
    "TilePath",
    "create_app",
    "parse_tile_path",
    "public_bundle",
    "record_url",
    "without_bodies",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "HttpServer": "server",
        "TilePath": "tilepaths",
        "create_app": "app",
        "parse_tile_path": "tilepaths",
        "public_bundle": "bundles",
        "record_url": "pages",
        "without_bodies": "bundles",
    },
)

"""``credex serve``'s HTTP side and configuration file (issue #11), kept apart from the
gRPC serve loop in ``serve_cmds.py``:

- ``settings``: the effective options: a flag given on the command line wins over
  ``credex.toml`` (``--config FILE``, else ``HOME/credex.toml``), which wins over the
  flag's default; logging is configured (``--log-json`` / ``[log] format``: JSON lines).
- ``HttpSide``: the public HTTP app (``credex.node.http``) on its own server beside gRPC,
  sharing the node; plain HTTP for a reverse proxy, or TLS with the node's certificate
  (``--http-tls``). Stopped first on shutdown (requests in flight finish), so the log is
  closed only after both servers are done.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from typer._click.core import ParameterSource

if TYPE_CHECKING:
    from credex.node.config import ServeConfig
    from credex.node.federation.mirrors import MirrorBundles
    from credex.node.home import NodeHome
    from credex.node.http.server import HttpServer
    from credex.node.local import LocalNode

__all__ = ["HttpSide", "settings"]

logger = logging.getLogger("credex.serve")


#: ``credex serve`` option -> ``ServeConfig`` field
_FIELDS = {
    "listen": "listen",
    "mtls_listen": "mtls_listen",
    "san": "san",
    "follow": "follow",
    "http": "http",
    "http_tls": "http_tls",
    "public_url": "public_url",
    "log_json": "log_format",
}


def _field_value(option: str, value: Any) -> Any:
    if option == "log_json":
        return None if value is None else ("json" if value else "text")
    if option == "san":
        return tuple(value) if value else None
    return value


def settings(ctx: typer.Context, home: Path, config: Path | None, **flags: Any) -> ServeConfig:
    """The options ``credex serve`` runs with (``flags``: the serve options by name), and
    logging set up for them."""
    from dataclasses import asdict

    from credex.node.config import ServeConfig, home_config, load_config
    from credex.node.logs import configure

    in_file = load_config(config) if config is not None else home_config(home)
    defaults = {_FIELDS[k]: _field_value(k, v) for k, v in flags.items()}
    given = {
        _FIELDS[k]: _field_value(k, v)
        for k, v in flags.items()
        if ctx.get_parameter_source(k) is ParameterSource.COMMANDLINE
    }
    effective = ServeConfig().merged(**defaults).merged(**asdict(in_file)).merged(**given)
    configure(json_lines=effective.log_format == "json")
    return effective


@dataclass(slots=True)
class HttpSide:
    """The HTTP server of a running ``credex serve`` (None when not asked for)."""

    server: HttpServer | None = None

    @classmethod
    def start(
        cls, cfg: ServeConfig, node: LocalNode, home: NodeHome, mirrors: MirrorBundles
    ) -> HttpSide:
        if cfg.http is None:
            return cls()
        from credex.node.http import HttpServer, create_app
        from credex.node.rpc.tls import NodeTls

        tls = None
        if cfg.http_tls:
            t = NodeTls(home.path, name=home.region)
            tls = (t.server_cert_path, t.server_key_path)
        app = create_app(node, mirrors=mirrors, public_url=cfg.public_url, pin=cfg.pin)
        server = HttpServer(app, cfg.http, tls=tls).start()
        logger.info("http on %s", server.url, extra={"event": "serve.http", "addr": server.url})
        return cls(server)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

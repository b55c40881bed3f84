"""``HttpServer``: the public HTTP app served by uvicorn on a thread of its own, beside the
gRPC server (``credex serve --http``) or alone (tests).

The listening socket is bound in the caller's thread before the server starts, so the
port (``port=0`` picks a free one) is known, and connections made at once wait in the
backlog, without polling for readiness. Plain HTTP (behind a reverse proxy that
terminates TLS) or TLS with the node's own certificate (``HOME/tls/server.pem``, key
``HOME/keys/tls-server.key``). ``stop`` is graceful: no new connections, requests in
flight finish (up to ``grace`` seconds), then the thread ends. Uvicorn installs no signal
handlers off the main thread; ``credex serve`` handles SIGTERM and calls ``stop``.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from credex.ledger.errors import ConfigError

__all__ = ["HttpServer", "split_address"]


def split_address(address: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8080`` for IPv6) as (host, port).

    Raises:
        ConfigError: not of that form, or a port outside 0..65535.
    """
    host, sep, port = address.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isascii() or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"http: address must be HOST:PORT, got {address!r}")
    return host, int(port)


class HttpServer:
    """Serve ``app`` on ``address`` until ``stop``; ``tls``: (cert PEM path, key PEM path)."""

    def __init__(
        self,
        app: FastAPI,
        address: str,
        *,
        tls: tuple[Path, Path] | None = None,
        grace: float = 10.0,
    ) -> None:
        host, port = split_address(address)
        try:
            self._sock = socket.create_server(
                (host, port),
                family=socket.AF_INET6 if ":" in host else socket.AF_INET,
                reuse_port=False,
            )
        except OSError as e:
            raise ConfigError(f"http: cannot listen on {address}: {e.strerror}") from e
        self.host = host
        self.port: int = self._sock.getsockname()[1]
        self.scheme = "https" if tls is not None else "http"
        config = uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=int(grace),
            ssl_certfile=None if tls is None else str(tls[0]),
            ssl_keyfile=None if tls is None else str(tls[1]),
            server_header=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="credex-http", daemon=True)

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.address}"

    def _run(self) -> None:
        self._server.run(sockets=[self._sock])

    def start(self) -> HttpServer:
        self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        """Stop accepting, let requests in flight finish, wait for the thread."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._sock.close()

    def __enter__(self) -> HttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

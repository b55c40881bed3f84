"""The peers a node follows, where their mirrors live, and how the last sync went.

::

    HOME/peers.json   [{"origin", "endpoint", "ca_pem", "added_at",
                        "status": {"checkpoint_size", "mirrored_size", "error", "updated_at"}}]

Each peer's mirror is a log of its own: ``HOME/mirrors/<slug>.sqlite`` when the node
uses SQLite, or schema ``mirror_<slug>`` in the node's PostgreSQL database. Status is
what ``credex peers status`` shows: the reason a peer entry or checkpoint was refused is
kept here (no record bodies, keys or personal identifiers, only sizes and messages).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from credex.ledger.errors import ConfigError, NotFoundError
from credex.ledger.storage.schemas import sibling_schema_url
from credex.node.files import locked, write_json
from credex.node.home import NodeHome

__all__ = ["PeerEntry", "PeerRegistry", "mirror_slug", "mirror_url"]


def mirror_slug(origin: str) -> str:
    """The file / schema name part for ``origin``'s mirror."""
    base = re.sub(r"[^a-z0-9]+", "_", origin.lower()).strip("_")[:40]
    return f"{base}_{hashlib.sha256(origin.encode()).hexdigest()[:8]}"


def mirror_url(home: NodeHome, origin: str) -> str:
    """Where the mirror of ``origin`` is stored for this node (a SQLite file, or a
    PostgreSQL schema: ``mirror_<slug>``, or ``<node schema>_mirror_<hash>`` when the
    node's URL selects a schema with ``options=-csearch_path=...``)."""
    url = home.db_url
    if url.startswith("sqlite"):
        (home.path / "mirrors").mkdir(exist_ok=True)
        return f"sqlite:///{home.path / 'mirrors' / (mirror_slug(origin) + '.sqlite')}"
    return sibling_schema_url(url, origin, mirror_slug(origin))


@dataclass(frozen=True, slots=True)
class PeerEntry:
    origin: str
    endpoint: str
    ca_pem: str
    added_at: int
    status: dict[str, Any]


class PeerRegistry:
    """``HOME/peers.json``: add, list and record sync status."""

    def __init__(self, home: NodeHome) -> None:
        self.home = home
        self.path = home.path / "peers.json"

    def _load(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except ValueError as e:
            raise ConfigError("peers: peers.json is not valid json") from e
        if not isinstance(raw, list):
            raise ConfigError("peers: peers.json must be a list")
        return raw

    def list(self) -> list[PeerEntry]:
        return [
            PeerEntry(p["origin"], p["endpoint"], p["ca_pem"], p["added_at"], p.get("status", {}))
            for p in self._load()
        ]

    def get(self, origin: str) -> PeerEntry:
        for p in self.list():
            if p.origin == origin:
                return p
        raise NotFoundError(f"peers: no peer with origin {origin!r}")

    def add(self, origin: str, endpoint: str, ca_pem: str, now: int) -> PeerEntry:
        if origin == self.home.origin:
            raise ConfigError("peers: a node does not follow itself")
        if "BEGIN CERTIFICATE" not in ca_pem:
            raise ConfigError("peers: ca_pem must be a PEM certificate")
        with locked(self.path):
            raw = [p for p in self._load() if p["origin"] != origin]
            raw.append(
                {
                    "origin": origin,
                    "endpoint": endpoint,
                    "ca_pem": ca_pem,
                    "added_at": now,
                    "status": {},
                }
            )
            write_json(self.path, raw)
        return self.get(origin)

    def record_status(self, origin: str, status: dict[str, Any]) -> None:
        with locked(self.path):
            raw = self._load()
            for p in raw:
                if p["origin"] == origin:
                    p["status"] = status
                    write_json(self.path, raw)
                    return
        raise NotFoundError(f"peers: no peer with origin {origin!r}")

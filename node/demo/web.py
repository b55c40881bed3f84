"""``credex demo --web``: the demo's five member homes, kept open with their explorers.

After the demo has run in a kept directory, each member home is reopened with its own
HTTP side (the same app ``credex serve --http`` runs: tiles, JSON API, explorer pages,
metrics) on 127.0.0.1 and a free port, record pages pinned to the federation manifest's
version 1. Nothing here signs or appends: the explorers show what the demo left, until
the caller closes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from credex.ledger.errors import CredexError
from credex.ledger.statement import Statement
from credex.node.demo.federation import MEMBERS
from credex.node.federation.manifests import load_chain
from credex.node.federation.mirrors import MirrorBundles
from credex.node.home import NodeHome
from credex.node.http import HttpServer, create_app
from credex.node.http.pages import record_url
from credex.node.local import LocalNode

__all__ = ["Explorer", "close_explorers", "open_explorers", "showcase"]


@dataclass(slots=True)
class Explorer:
    """One member's explorer: its node, opened read-mostly, and its HTTP server."""

    region: str
    origin: str
    node: LocalNode
    server: HttpServer

    @property
    def url(self) -> str:
        return self.server.url


def open_explorers(federation_dir: Path, host: str = "127.0.0.1") -> list[Explorer]:
    """Open the explorer of each demo member home under ``federation_dir`` (the demo's
    ``federation`` directory); the twin of Ningbo is not a member and is left out.

    Raises:
        ConfigError: a member home is missing or a port cannot be bound.
    """
    out: list[Explorer] = []
    try:
        for region, _ in MEMBERS:
            home = NodeHome.open(federation_dir / region)
            chain = load_chain(home)
            pin = chain[0].hash.hex() if chain else None
            node = LocalNode(home)
            try:
                app = create_app(node, mirrors=MirrorBundles(home), pin=pin)
                server = HttpServer(app, f"{host}:0").start()
            except BaseException:
                node.close()
                raise
            out.append(Explorer(home.region, home.origin, node, server))
    except BaseException:
        close_explorers(out)
        raise
    return out


def close_explorers(explorers: Sequence[Explorer]) -> None:
    """Stop every HTTP server, then close its node."""
    for e in explorers:
        e.server.stop()
    for e in explorers:
        e.node.close()


def showcase(explorers: Sequence[Explorer]) -> dict[str, object]:
    """What to open first: each explorer's URL, the page of the administrative penalty
    the demo repaired on Ningbo's explorer (the first penalty when none was), and the
    subject page (the company's report) of the company it is about."""
    out: dict[str, object] = {
        "explorers": [{"region": e.region, "origin": e.origin, "url": e.url} for e in explorers]
    }
    ningbo = next((e for e in explorers if e.region == "cn-zj-ningbo"), None)
    if ningbo is None:
        return out
    log = ningbo.node.log
    log.refresh()
    entries = list(log.entries(0, log.size))
    # the penalty the demo repaired (the one a lifecycle.repair names), else the first
    repaired: set[bytes] = set()
    for e in entries:
        if e.kind == "lifecycle.repair":
            try:
                repaired.update(Statement.from_bytes(e.leaf).record.refs[:1])
            except CredexError:
                continue
    entries.sort(key=lambda e: e.leaf_hash not in repaired)
    for entry in entries:
        if entry.kind == "penalty.admin":
            try:
                leaf = ningbo.node.statement_at(entry.index).leaf_hash
            except CredexError:
                continue
            out["record"] = {
                "region": ningbo.region,
                "index": entry.index,
                "kind": entry.kind,
                "url": record_url(ningbo.url, leaf),
            }
            subject = ningbo.node.statement_at(entry.index).claims.sub
            out["subject"] = {"subject": subject, "url": f"{ningbo.url}/subject/{subject}"}
            break
    return out

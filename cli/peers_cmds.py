"""``credex peers add / sync / status / witness``: follow the federation's other nodes.

``add`` records a peer in ``HOME/peers.json`` (its public endpoint and CA), by hand or for
every other member of the manifest (``--from-manifest``). ``sync`` runs one verified sync
round per peer (``credex.node.federation.mirrors.sync_peer``); a refused entry or checkpoint is
recorded and shown by ``status``; a split view is stored as evidence (``credex evidence
list``) and exits 1. ``witness`` publishes this node's checkpoint and collects the other
members' cosignatures now (``credex serve --follow`` does both periodically).
"""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from credex.cli._common import (
    AsciiFloat,
    HomeOpt,
    JsonOpt,
    console,
    group,
    now,
    print_json,
    resolve_home,
)
from credex.ledger.errors import ConfigError, InconsistentLogError

if TYPE_CHECKING:
    from credex.node.home import NodeHome

__all__ = ["peers_app", "register"]

peers_app = group("Peers this node follows, mirrors and witnesses.")


@peers_app.command("add")
def add(
    origin: Annotated[str | None, typer.Argument(help="The peer log's origin.")] = None,
    endpoint: Annotated[str | None, typer.Option(help="Its public endpoint HOST:PORT.")] = None,
    ca: Annotated[Path | None, typer.Option(help="Its node CA certificate (PEM).")] = None,
    from_manifest: Annotated[
        bool, typer.Option(help="Follow every other member of the federation manifest.")
    ] = False,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Follow a peer (ORIGIN --endpoint --ca) or every other manifest member.

    \b
    Example:
      credex peers add --from-manifest
    """
    from credex.node.federation.follow import add_peers_from_manifest
    from credex.node.federation.manifests import load_manifest
    from credex.node.federation.peers import PeerRegistry
    from credex.node.home import NodeHome

    h = NodeHome.open(resolve_home(home))
    if from_manifest:
        added = add_peers_from_manifest(h, load_manifest(h), now())
    else:
        if origin is None or endpoint is None or ca is None:
            raise ConfigError("peers add: pass ORIGIN --endpoint HOST:PORT --ca FILE")
        PeerRegistry(h).add(origin, endpoint, ca.read_text(encoding="utf-8"), now())
        added = [origin]
    if json_out:
        print_json({"added": added})
    else:
        for o in added:
            console.print(f"following {o}", markup=False)


def _status_rows(h: "NodeHome") -> list[dict[str, Any]]:
    from credex.node.federation.peers import PeerRegistry

    return [
        {
            "origin": p.origin,
            "endpoint": p.endpoint,
            "checkpoint_size": p.status.get("checkpoint_size"),
            "mirrored_size": p.status.get("mirrored_size"),
            "error": p.status.get("error"),
            "updated_at": p.status.get("updated_at"),
        }
        for p in PeerRegistry(h).list()
    ]


@peers_app.command("sync")
def sync(
    origin: Annotated[str | None, typer.Argument(help="One peer (default: all).")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds per RPC.", parser=AsciiFloat)] = 10.0,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """One verified sync round with each peer (or ORIGIN); exit 1 if any failed.

    \b
    Example:
      credex peers sync credex.hangzhou.example/log
    """
    from credex.node.federation.follow import sync_peer
    from credex.node.federation.manifests import load_manifest
    from credex.node.federation.peers import PeerRegistry
    from credex.node.home import NodeHome

    h = NodeHome.open(resolve_home(home))
    manifest = load_manifest(h)
    origins = [origin] if origin else [p.origin for p in PeerRegistry(h).list()]
    rows: list[dict[str, Any]] = []
    failed = False
    for o in origins:
        try:
            r = sync_peer(h, o, now(), manifest=manifest, timeout_s=timeout)
            row = {
                "origin": o,
                "checkpoint_size": r.checkpoint_size,
                "mirrored_size": r.mirrored_size,
                "new_entries": r.new_entries,
                "error": r.error,
            }
        except InconsistentLogError as e:
            row = {"origin": o, "error": str(e), "evidence": True}
        failed = failed or row.get("error") is not None
        rows.append(row)
    if json_out:
        print_json(rows)
    else:
        for row in rows:
            if row.get("error"):
                console.print(f"{row['origin']}: refused: {row['error']}", markup=False)
            else:
                console.print(
                    f"{row['origin']}: mirrored {row['mirrored_size']} "
                    f"(+{row['new_entries']}) of {row['checkpoint_size']}",
                    markup=False,
                )
    if failed:
        raise typer.Exit(1)


@peers_app.command("status")
def status(home: HomeOpt = None, json_out: JsonOpt = False) -> None:
    """Per peer: its checkpoint size, the mirrored size, the last refusal and when.

    \b
    Example:
      credex peers status
    """
    from credex.node.home import NodeHome

    h = NodeHome.open(resolve_home(home))
    rows = _status_rows(h)
    if json_out:
        print_json(rows)
        return
    from credex.ledger.dates import cst_time

    for r in rows:
        err = f"  error: {r['error']}" if r["error"] else ""
        when = "never synced" if r["updated_at"] is None else f"updated {cst_time(r['updated_at'])}"
        console.print(
            f"{r['origin']:32} checkpoint {r['checkpoint_size']}  mirrored "
            f"{r['mirrored_size']}  {when}{err}",
            markup=False,
        )


@peers_app.command("witness")
def witness(
    timeout: Annotated[float, typer.Option(help="Seconds per RPC.", parser=AsciiFloat)] = 10.0,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Publish this node's checkpoint and collect the other members' cosignatures now;
    exit 1 if fewer than the quorum cosigned (each refusal is named). Next to a running
    server its checkpoint is the server's.

    \b
    Example:
      credex peers witness
    """
    from credex.node.federation.manifests import load_manifest
    from credex.node.federation.members import peer_clients
    from credex.node.federation.quorum import cosigners
    from credex.node.federation.witnessing import collect_cosignatures
    from credex.node.home import NodeHome
    from credex.node.pen import open_node

    h = NodeHome.open(resolve_home(home))
    manifest = load_manifest(h)
    clients = peer_clients(h, manifest, timeout_s=timeout)
    errors: dict[str, str] = {}
    try:
        with open_node(h.path) as node:
            note = collect_cosignatures(node, h, manifest, clients, now(), errors=errors)
    finally:
        for c in clients.values():
            c.close()
    got, k = cosigners(note, manifest, h.origin), manifest.quorum_for(h.origin)
    out = {"tree_size": note.checkpoint.size, "cosignatures": got, "quorum": k, "errors": errors}
    if json_out:
        print_json(out)
    else:
        console.print(
            f"checkpoint {out['tree_size']}: {out['cosignatures']} cosignatures "
            f"(quorum {out['quorum']})",
            markup=False,
        )
        for o, e in errors.items():
            console.print(f"  {o}: {e}", markup=False)
    if got < k:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(peers_app, name="peers")

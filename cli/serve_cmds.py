"""``credex serve``, ``credex node info / cert``, ``credex client add / list``.

``serve`` runs the node's gRPC server (``credex.node.rpc.server``) until SIGTERM or SIGINT,
then stops gracefully: health turns NOT_SERVING, no new calls are accepted, in-flight
calls get a grace period, and the log is closed (which flushes the group commit), so no
acknowledged entry is lost; exit code 0. It logs ``listening on HOST:PORT (mtls
HOST:PORT)`` to stderr once bound and records both addresses in ``HOME/node.json``
(``listen``, ``mtls_listen``; cleared again on a clean stop). While it runs it holds the
home (``credex.node.pen``): commands next to it append to the same log and ask it for
checkpoints; a second ``serve`` on the same home is refused.
"""

import json
import logging
import os
import signal
import threading
from pathlib import Path
from types import FrameType
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
from credex.ledger.errors import ConfigError

if TYPE_CHECKING:
    pass

#: ``credex.node.rpc.tls.ROLES`` (a test keeps this in step)
ROLE_NAMES = "bank, issuer, peer"

__all__ = ["register"]

logger = logging.getLogger("credex.serve")
_GRACE_S = 10.0


def _host(listen: str) -> str:
    host, sep, _ = listen.rpartition(":")
    if not sep or not host:
        raise ConfigError(f"serve: listen address must be HOST:PORT, got {listen!r}")
    return host


def _record_listen(home: Path, listen: str | None, mtls_listen: str | None) -> None:
    """Set ``listen`` / ``mtls_listen`` in node.json (atomic replace, mode 0600)."""
    path = home / "node.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config["listen"], config["mtls_listen"] = listen, mtls_listen
    tmp = path.with_name("node.json.listen.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(json.dumps(config, indent=2, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def serve(
    ctx: typer.Context,
    home: HomeOpt = None,
    listen: Annotated[
        str, typer.Option(help="Public address (Log, health, reflection), HOST:PORT.")
    ] = "127.0.0.1:7420",
    mtls_listen: Annotated[
        str, typer.Option(help="mTLS address (Submit, Witness; client certificate), HOST:PORT.")
    ] = "127.0.0.1:7421",
    san: Annotated[
        list[str] | None, typer.Option(help="Extra DNS name or IP for the node certificate.")
    ] = None,
    follow: Annotated[
        float,
        typer.Option(
            help="Every SECONDS: sync all peers, publish and collect cosignatures (0: off).",
            parser=AsciiFloat,
        ),
    ] = 0.0,
    # --- issue #11: HTTP beside gRPC, credex.toml, JSON logs (cli/serve_http.py) ---
    http: Annotated[
        str | None,
        typer.Option(help="Also serve HTTP on HOST:PORT: tiles, JSON API, explorer, metrics."),
    ] = None,
    http_tls: Annotated[
        bool, typer.Option(help="HTTP over TLS with the node's certificate (else plain HTTP).")
    ] = False,
    public_url: Annotated[
        str | None, typer.Option(help="The node's public base URL (links, QR codes).")
    ] = None,
    log_json: Annotated[bool, typer.Option(help="Log one JSON object per line.")] = False,
    config: Annotated[
        Path | None, typer.Option(help="A credex.toml (default: HOME/credex.toml if present).")
    ] = None,
    # --- end issue #11 options ---
    replica: Annotated[
        bool,
        typer.Option(
            help="Read-only replica: serve the Log service from --db (a PostgreSQL hot "
            "standby of the primary's database); never signs or appends."
        ),
    ] = False,
    db: Annotated[
        str | None,
        typer.Option(help="With --replica: the database to read (default: the home's)."),
    ] = None,
) -> None:
    """Serve the node over gRPC with TLS until SIGTERM / SIGINT.

    The server holds the home (HOME/serve.lock): commands run next to it append to the
    same log, and the server signs every checkpoint. Manifest versions, peers and clients
    added while it runs take effect without a restart. With --follow it syncs every peer,
    fetches manifest versions it lacks, publishes and collects cosignatures. With a
    federation manifest the Witness service cosigns the other members' logs and
    GetBundle serves bundles of mirrored peer records (``origin``).

    With --replica it serves only the public Log service (checkpoints, entries, proofs,
    receipts, bundles) from a read-only copy of the log's database, on --listen alone:
    the latest checkpoint whose entries it holds, receipts from the signatures the
    primary stored; Submit, Witness and Query are refused. The home is a copy of the
    primary's without keys/ (its own TLS certificate is made on first start).

    \b
    Example:
      credex serve --listen 127.0.0.1:7420 --mtls-listen 127.0.0.1:7421 --follow 30
      credex serve --replica --db postgresql+psycopg://standby/credex --listen :7430
    """
    from credex.node.federation.follow import follow_until
    from credex.node.federation.manifests import require_cert_covers
    from credex.node.federation.members import PeerForwarder
    from credex.node.federation.mirrors import MirrorBundles
    from credex.node.federation.watch import ManifestWatch
    from credex.node.federation.witnessing import witness_backend
    from credex.node.home import NodeHome
    from credex.node.local import LocalNode
    from credex.node.pen import ServeLock
    from credex.node.rpc.server import create_server

    path = resolve_home(home)
    if replica:
        if http or follow or config is not None:
            raise ConfigError("serve: --replica serves gRPC only: no --http, --follow or --config")
        from credex.node.logs import configure

        configure(json_lines=log_json)
        _serve_replica(path, listen, tuple(san or ()), db)
        return
    if db is not None:
        raise ConfigError("serve: --db is for --replica (a node's own database is in node.json)")
    # --- issue #11: options from flags over credex.toml over defaults; logging; HTTP ---
    from credex.cli.serve_http import HttpSide, settings

    cfg = settings(
        ctx, path, config, listen=listen, mtls_listen=mtls_listen, san=san, follow=follow,
        http=http, http_tls=http_tls, public_url=public_url, log_json=log_json,
    )  # fmt: skip
    listen, mtls_listen = cfg.listen or listen, cfg.mtls_listen or mtls_listen
    san, follow = list(cfg.san or ()), cfg.follow or 0.0
    http_side = HttpSide()
    # --- end issue #11 block ---
    h = NodeHome.open(path)
    require_cert_covers(h, tuple(san or ()), now())
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with ServeLock(path):
        node = LocalNode(h)
        watch = ManifestWatch(h)
        witness = witness_backend(h, watch.current, clock=now)
        follower: threading.Thread | None = None
        mirrors = MirrorBundles(h)
        try:
            server, ports = create_server(
                node,
                home=h,
                listen=listen,
                mtls_listen=mtls_listen,
                san=tuple(san or ()),
                witness=witness,
                mirrors=mirrors,
                forward=PeerForwarder(h),
            )
            if server.checks is not None:  # Submit's check workers, started now (issue 13)
                server.checks.start()
            try:
                if follow > 0:
                    follower = threading.Thread(
                        target=follow_until,
                        args=(h, node, watch.current, follow, stop, now),
                        name="credex-follow",
                        daemon=True,
                    )
                    follower.start()
                public = f"{_host(listen)}:{ports.public}"
                mtls = f"{_host(mtls_listen)}:{ports.mtls}"
                http_side = HttpSide.start(cfg, node, h, mirrors)  # issue #11
                _record_listen(path, public, mtls)
                logger.info("listening on %s (mtls %s)", public, mtls)
                while not stop.wait(0.5):
                    pass
                logger.info("stopping: finishing in-flight calls")
                http_side.stop()  # issue #11: HTTP requests in flight finish first
                if follower is not None:
                    follower.join(_GRACE_S)
                server.stop(_GRACE_S).wait()
            finally:
                http_side.stop()
                server.stop(0)
        finally:
            witness.close()
            node.close()  # flushes the group commit
        _record_listen(path, None, None)
    logger.info("stopped")


def _serve_replica(path: Path, listen: str, san: tuple[str, ...], db: str | None) -> None:
    """``credex serve --replica``: the Log service from a read-only database copy."""
    from credex.node.home import NodeHome
    from credex.node.pen import ServeLock
    from credex.node.replica import ReplicaLog, create_replica_server

    _host(listen)
    h = NodeHome.open(path)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with ServeLock(path), ReplicaLog(h, db) as replica:
        server, port = create_replica_server(replica, listen=listen, san=san, clock=now)
        try:
            public = f"{_host(listen)}:{port.public}"
            _record_listen(path, public, None)
            logger.info("replica listening on %s (read-only, size %d)", public, replica.refresh())
            while not stop.wait(0.5):
                pass
            logger.info("stopping: finishing in-flight calls")
            server.stop(_GRACE_S).wait()
        finally:
            server.stop(0)
        _record_listen(path, None, None)
    logger.info("stopped")


node_app = group("This node's identity.")


SanOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--san",
        help="A host name or IP the node is reached at (repeatable): the node certificate "
        "must cover it before the federation manifest pins it (localhost and 127.0.0.1 "
        "always).",
    ),
]


@node_app.command("info")
def node_info(san: SanOpt = None, home: HomeOpt = None, json_out: JsonOpt = False) -> None:
    """Origin, region, public keys (hex), TLS certificates (PEM) and listen addresses.

    Creates the node's TLS CA and certificate if they do not exist yet (covering --san).

    \b
    Example:
      credex node info --json > hangzhou.json
    """
    from credex.node.federation.manifests import require_cert_covers, witness_public_key
    from credex.node.home import NodeHome
    from credex.node.rpc.tls import NodeTls, cert_fingerprint

    path = resolve_home(home)
    h = NodeHome.open(path)
    tls = NodeTls(path, name=h.region)
    require_cert_covers(h, tuple(san or ()), now())
    tls.ensure(now=now(), san=tuple(san or ()))
    config: dict[str, Any] = json.loads((path / "node.json").read_text(encoding="utf-8"))
    cert = tls.server_cert_pem()
    info = {
        "origin": h.origin,
        "region": h.region,
        "log_public_key": h.log_key().public_key.hex(),
        "witness_public_key": witness_public_key(h).hex(),
        "platform_issuer": h.platform_issuer,
        "platform_issuer_keys": [
            e.public_key.hex() for e in h.issuers() if e.issuer_id == h.platform_issuer
        ],
        "tls_cert_pem": cert.decode("ascii"),
        "tls_cert_fingerprint": cert_fingerprint(cert),
        "ca_pem": tls.ca_pem().decode("ascii"),
        "listen": config.get("listen"),
        "mtls_listen": config.get("mtls_listen"),
        "issuers": [
            {
                "issuer_id": e.issuer_id,
                "public_key": e.public_key.hex(),
                "valid_from": e.valid_from,
                "valid_until": e.valid_until,
                "kinds": list(e.kinds),
            }
            for e in h.issuers()
        ],
    }
    if json_out:
        print_json(info)
        return
    for key in ("origin", "region", "log_public_key", "platform_issuer", "listen", "mtls_listen"):
        console.print(f"{key:22} {info[key]}", markup=False)
    console.print(f"{'tls_cert_fingerprint':22} {info['tls_cert_fingerprint']}", markup=False)
    console.print(info["tls_cert_pem"], end="", markup=False)


@node_app.command("cert")
def node_cert(
    out: Annotated[Path, typer.Option("-o", "--out", help="Write the node certificate here.")],
    ca_out: Annotated[
        Path | None, typer.Option("--ca-out", help="Write the node's CA certificate here.")
    ] = None,
    san: SanOpt = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write this node's TLS certificate (and its CA) for another node's operator, who
    registers it with: credex client add NAME --role peer --cert FILE --ca CAFILE.

    \b
    Example:
      credex node cert -o ningbo.pem --ca-out ningbo-ca.pem --san 127.0.0.1
    """
    from credex.node.federation.manifests import require_cert_covers
    from credex.node.home import NodeHome
    from credex.node.rpc.tls import NodeTls, cert_fingerprint, cert_names

    path = resolve_home(home)
    h = NodeHome.open(path)
    tls = NodeTls(path, name=h.region)
    require_cert_covers(h, tuple(san or ()), now())
    tls.ensure(now=now(), san=tuple(san or ()))
    cert = tls.server_cert_pem()
    out.write_bytes(cert)
    written = [str(out)]
    if ca_out is not None:
        ca_out.write_bytes(tls.ca_pem())
        written.append(str(ca_out))
    result = {
        "files": written,
        "fingerprint": cert_fingerprint(cert),
        "names": sorted(cert_names(cert)),
    }
    if json_out:
        print_json(result)
        return
    console.print(
        f"wrote {', '.join(written)}: sha256:{result['fingerprint']} for "
        f"{', '.join(result['names'])}",
        markup=False,
    )


client_app = group("Register clients allowed to call Submit / Witness (mTLS).")


@client_app.command("add")
def client_add(
    name: Annotated[str, typer.Argument(help="Client name, e.g. bank-ningbo or hangzhou.")],
    role: Annotated[str, typer.Option(help=f"One of: {ROLE_NAMES}.")],
    out: Annotated[
        Path | None, typer.Option("-o", "--out", help="Write NAME.key, NAME.pem, ca.pem here.")
    ] = None,
    cert: Annotated[
        Path | None,
        typer.Option(help="Register this existing certificate (PEM, optionally with chain)."),
    ] = None,
    ca: Annotated[
        Path | None, typer.Option(help="The external certificate's issuer (CA) PEM.")
    ] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Register a client: issue it a key and certificate (-o DIR), or pin --cert FILE.

    \b
    Example:
      credex client add bank-1 --role bank -o ./bank-1
    """
    from credex.node.home import NodeHome
    from credex.node.rpc.tls import NodeTls

    path = resolve_home(home)
    h = NodeHome.open(path)
    tls = NodeTls(path, name=h.region)
    written: list[str] = []
    if cert is not None:
        roots = ca.read_bytes() if ca is not None else b""
        entry = tls.register_external(name, role, cert.read_bytes(), now=now(), roots_pem=roots)
    else:
        if out is None:
            raise ConfigError("client add: pass -o DIR (to issue a certificate) or --cert FILE")
        out.mkdir(parents=True, exist_ok=True)
        key_path = out / f"{name}.key"
        if key_path.exists():
            raise ConfigError(f"client add: key file already exists: {key_path}")
        key_pem, cert_pem, entry = tls.issue_client(name, role, now=now())
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key_pem)
        (out / f"{name}.pem").write_bytes(cert_pem)
        (out / "ca.pem").write_bytes(tls.ca_pem())
        written = [str(key_path), str(out / f"{name}.pem"), str(out / "ca.pem")]
    result = {
        "name": entry.name,
        "role": entry.role,
        "fingerprint": entry.fingerprint,
        "external": entry.external,
        "files": written,
    }
    if json_out:
        print_json(result)
    else:
        console.print(f"registered {entry.role} {entry.name} sha256:{entry.fingerprint}")
        for name_written in written:
            console.print(f"  wrote {name_written}", markup=False)


@client_app.command("list")
def client_list(home: HomeOpt = None, json_out: JsonOpt = False) -> None:
    """List registered clients (name, role, certificate fingerprint).

    \b
    Example:
      credex client list
    """
    from credex.node.home import NodeHome
    from credex.node.rpc.tls import NodeTls

    path = resolve_home(home)
    h = NodeHome.open(path)
    rows = [
        {
            "name": c.name,
            "role": c.role,
            "fingerprint": c.fingerprint,
            "external": c.external,
            "created_at": c.created_at,
        }
        for c in NodeTls(path, name=h.region).clients()
    ]
    if json_out:
        print_json(rows)
        return
    for r in rows:
        ext = " (external)" if r["external"] else ""
        console.print(f"{r['name']:24} {r['role']:7} sha256:{r['fingerprint']}{ext}")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(node_app, name="node")
    app.add_typer(client_app, name="client")

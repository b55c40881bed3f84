"""``credex qr``, ``credex backup``, ``credex restore``: scan to verify, and a node's
snapshots.

``qr`` writes a QR code opening a record's page on the node's explorer (the public base
URL from ``--base-url`` or ``[http] public_url`` of ``credex.toml``); ``backup`` writes a
consistent snapshot of the node (log, keys, bodies: keep it as safe as the keys);
``restore`` puts one into a new home and verifies it against its last checkpoint.
"""

from pathlib import Path
from typing import Annotated

import typer

from credex.cli._common import HomeOpt, JsonOpt, console, leaf_arg, now, print_json, resolve_home
from credex.ledger.errors import ConfigError

__all__ = ["register"]


def qr(
    output: Annotated[Path, typer.Option("-o", "--output", help="code.png or code.svg")],
    leaf: Annotated[
        str | None, typer.Argument(help="The record's leaf hash (64 hex); or use --report.")
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="A .credex-report this node signed (an organisation's): it is published "
            "on the node's public side and the code opens the page that verifies it.",
        ),
    ] = None,
    base_url: Annotated[
        str | None, typer.Option(help="The node's public base URL (default: credex.toml).")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="A credex.toml (default: HOME/credex.toml).")
    ] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write a QR code that opens a record's or a report's page (it verifies itself in
    the browser).

    \b
    Example:
      credex qr 5f1c...e2 -o record.png --base-url https://credex.ningbo.example
      credex qr --report company.credex-report -o report.png
    """
    from credex.node.config import home_config, load_config
    from credex.node.http.qrcode import record_qr, report_qr
    from credex.node.local import LocalNode

    if (leaf is None) == (report is None):
        raise ConfigError("qr: give a leaf hash or --report FILE (one of them)")
    leaf_hash = None if leaf is None else leaf_arg(leaf)
    node_home = home
    if node_home is None and (report is not None or (base_url is None and config is None)):
        node_home = resolve_home(None)
    if base_url is None:
        cfg = load_config(config) if config is not None else None
        if cfg is None and node_home is not None:
            cfg = home_config(node_home)
        base_url = None if cfg is None else cfg.public_url
    if base_url is None:
        raise ConfigError(
            "qr: no public base URL: pass --base-url or set [http] public_url in credex.toml"
        )
    at = ""
    if report is not None and node_home is not None:
        from credex.node.home import NodeHome
        from credex.node.services.published import publish_report

        digest = publish_report(NodeHome.open(node_home), read_report(report))
        url = report_qr(base_url, digest, output)
        at = f" (published report {digest[:16]}…)"
    elif leaf_hash is not None:
        if node_home is not None:
            with LocalNode.open(node_home) as node:
                at = f" (entry {node.log.index_of(leaf_hash)})"  # NotFoundError if absent
        url = record_qr(base_url, leaf_hash, output)
    if json_out:
        print_json({"file": str(output), "url": url})
    else:
        console.print(f"wrote {output}: {url}{at}", markup=False)


def read_report(path: Path) -> bytes:
    """A report file's bytes, at most the format's limit (docs/formats.md)."""
    from credex.ledger.errors import OversizeError
    from credex.ledger.subject_report import MAX_REPORT_BYTES

    with path.open("rb") as f:
        data = f.read(MAX_REPORT_BYTES + 1)
    if len(data) > MAX_REPORT_BYTES:
        raise OversizeError(f"qr: report file over {MAX_REPORT_BYTES} bytes")
    return data


def backup(
    output: Annotated[Path, typer.Option("-o", "--output", help="A new directory.")],
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write a consistent snapshot of this node: log, keys and bodies (mode 0700).

    \b
    Example:
      credex backup -o /backups/ningbo-2026-12-04
    """
    from credex.node.home import NodeHome
    from credex.node.services.backup import backup as run

    result = run(NodeHome.open(resolve_home(home)), output, now())
    if json_out:
        print_json(result | {"directory": str(output)})
        return
    cp = result["checkpoint"]
    signed = "no checkpoint" if cp is None else f"checkpoint {cp['tree_size']} {cp['root']}"
    console.print(
        f"wrote {output}: {result['tree_size']} entries, {signed}, {result['files']} files",
        markup=False,
    )


def restore(
    backup_dir: Annotated[Path, typer.Argument(help="A directory from credex backup.")],
    home: Annotated[Path, typer.Option("--home", help="The new node home (must not exist).")],
    db: Annotated[
        str | None, typer.Option(help="Database URL (default: log.sqlite in the home).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Restore a backup into a new home and verify it against its last checkpoint.

    \b
    Example:
      credex restore /backups/ningbo-2026-12-04 --home ~/credex/ningbo-restored
    """
    from credex.node.services.backup import restore as run

    result = run(backup_dir, home, db=db)
    if json_out:
        print_json(result)
        return
    console.print(
        f"restored {home}: {result['tree_size']} entries; checkpoint "
        f"{result['checkpoint_size']} verified (signature, every leaf, root)",
        markup=False,
    )


def register(app: typer.Typer) -> None:
    app.command("qr")(qr)
    app.command("backup")(backup)
    app.command("restore")(restore)

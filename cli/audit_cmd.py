"""``credex audit``: follow a log as an auditor, rebuild its index, check every root."""

from pathlib import Path
from typing import Annotated

import typer

from credex.cli._common import JsonOpt, console, err_console, now, print_json, read_input

__all__ = ["audit", "register"]


def audit(
    origin: Annotated[str, typer.Argument(help="The origin of the log to audit.")],
    trust: Annotated[
        Path,
        typer.Option("--trust", help="Trust material: a credex-trust/1 file or a manifest chain."),
    ],
    endpoint: Annotated[
        str, typer.Option("--endpoint", help="The log's public gRPC endpoint, HOST:PORT.")
    ],
    ca: Annotated[
        Path, typer.Option("--ca", help="The node's CA certificate (PEM; credex node info).")
    ],
    state: Annotated[
        Path,
        typer.Option(
            "--state", help="The auditor's state directory: resumes there; evidence/ inside."
        ),
    ] = Path("credex-audit"),
    pin: Annotated[
        str | None,
        typer.Option("--pin", help="Hash of the manifest chain's version 1 (64 hex)."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Follow ORIGIN's log over gRPC, verify every checkpoint, entry and root, rebuild its
    verifiable index from the entries and check the index root each checkpoint commits to.

    Needs no node home. Resumes where the last run stopped (--state). Exits 1 when
    something does not match, naming the evidence file kept under STATE/evidence/.

    \b
    Example:
      credex audit credex.ningbo.example/log --trust federation.manifest \\
        --endpoint ningbo.example:7443 --ca ningbo-ca.pem --state audit-ningbo
    """
    from credex.cli._common import trust_from
    from credex.node.audit import audit_log
    from credex.node.rpc.client import PeerClient

    policy = trust_from(trust, pin, "audit")
    ca_pem = read_input(ca, "ca certificate", "audit")
    with PeerClient(endpoint, ca_pem=ca_pem) as client:
        result = audit_log(origin, policy, client, state, now())
    if json_out:
        print_json(result.to_json())
    elif result.ok:
        console.print(
            f"{origin}: checkpoint {result.checkpoint_size} verified; {result.new_entries} new "
            f"entries checked, {result.audited_size} in all; index root "
            f"{result.index_root} rebuilt and matches"
        )
    else:
        err_console.print(f"{origin}: audit failed: {result.error}")
        if result.evidence:
            err_console.print(f"evidence kept: {result.evidence}")
    if not result.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)

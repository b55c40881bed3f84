"""Bank lookups: ``credex lookup`` (a bank asks a node) and ``credex lookups`` (a region
lists who looked its subjects up)."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from credex.cli._common import (
    HomeOpt,
    JsonOpt,
    PinOpt,
    console,
    print_json,
    read_input,
    resolve_home,
    trust_from,
)
from credex.ledger.errors import ConfigError

__all__ = ["register"]

PersonOpt = Annotated[
    str | None,
    typer.Option(
        "--person-id",
        help="A resident ID number, or - to read it from standard input; it is turned into "
        "the federation pseudonym and never stored or printed.",
    ),
]
SubjectOpt = Annotated[
    str | None,
    typer.Option(help="A USCC, a HK CR/BR number or a person pseudonym hmac:<keyid>:<hex>."),
]


def _person(person_id: str | None) -> str:
    if person_id is None:
        return ""
    return sys.stdin.readline().strip() if person_id == "-" else person_id


def lookup(
    endpoint: Annotated[str, typer.Option(help="The node's mTLS endpoint HOST:PORT.")],
    ca: Annotated[Path, typer.Option(help="The node's CA certificate (ca.pem).")],
    cert: Annotated[Path, typer.Option(help="Your client certificate (credex client add).")],
    key: Annotated[Path, typer.Option(help="Your client key.")],
    authorisation: Annotated[
        str,
        typer.Option(help="Your authorisation reference: consent, case or application number."),
    ],
    purpose: Annotated[str, typer.Option(help="eligibility (banks) or punitive.")] = (
        "eligibility"
    ),
    subject: SubjectOpt = None,
    person_id: PersonOpt = None,
    out: Annotated[
        Path | None, typer.Option("-o", "--out", help="Write each bundle into this directory.")
    ] = None,
    trust: Annotated[
        Path | None,
        typer.Option(help="Verify each bundle offline against this manifest or trust file."),
    ] = None,
    pin: PinOpt = None,
    server_name: Annotated[
        str | None, typer.Option(help="Name to check in the node's certificate.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Ask a node for every record the federation holds on one subject (mTLS, role bank).

    The node answers from its own log and its mirrors of every peer; each record comes as
    a bundle to verify offline, or as withheld with the reason (repaired, withdrawn, ...).
    The lookup is logged at the node as an audit.lookup naming you. Exit 1 if any bundle
    fails verification under --trust.

    \b
    Example:
      credex lookup --endpoint hangzhou.example:7421 --ca bank-1/ca.pem --cert bank-1/bank-1.pem \\
        --key bank-1/bank-1.key --subject 91330100MA0YX0016X --authorisation loan:HZ-2026-0042
    """
    from credex.node.services.banking import lookup_subject

    report = lookup_subject(
        endpoint,
        ca_pem=read_input(ca, "ca certificate", "lookup"),
        cert_pem=read_input(cert, "client certificate", "lookup"),
        key_pem=read_input(key, "client key", "lookup"),
        subject=subject,
        person_id=None if person_id is None else _person(person_id),
        purpose=purpose,
        authorisation=authorisation,
        trust=None if trust is None else trust_from(trust, pin, "lookup"),
        out=out,
        server_name=server_name,
    )
    if json_out:
        print_json(report.to_json())
    else:
        console.print(
            f"{report.subject}: {report.served} served, {len(report.rows) - report.served} "
            f"withheld (lookup logged at leaf {report.audit_index})",
            markup=False,
        )
        for row in report.rows:
            what = row.get("verdict") or ("withheld" if row["withheld"] else "served")
            line = f"  {row['origin']} #{row['leaf_index']} {row['kind']}: {what}"
            if row["withheld"]:
                line += f" ({row['withheld']})"
            elif row.get("error"):
                line += f" (step {row['failed_step']}: {row['error']})"
            console.print(line, markup=False)
        c = report.completeness
        if c is not None and c["ok"]:
            for part in c["covered"]:
                console.print(
                    f"  complete as of {part['origin']} size {part['size']}", markup=False
                )
            if c["not_covered"]:
                console.print(f"  not covered: {', '.join(c['not_covered'])}", markup=False)
        elif c is not None:
            console.print(f"  INCOMPLETE: {c['error']}", markup=False)
    if report.failed:
        raise typer.Exit(1)


def lookups(
    subject: SubjectOpt = None,
    person_id: PersonOpt = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List every logged lookup of one subject: this node's and its mirrors' audit.lookup
    records (who asked, when, for which purpose, under which authorisation).

    \b
    Example:
      credex lookups --subject 91330100MA0YX0016X
    """
    from credex.ledger.dates import cst_time
    from credex.node.federation.mirrors import MirrorBundles
    from credex.node.home import NodeHome
    from credex.node.local import LocalNode
    from credex.node.services.audit import lookups_of
    from credex.node.services.lookup import resolve_subject

    if (subject is None) == (person_id is None):
        raise ConfigError("lookups: give exactly one of --subject and --person-id")
    h = NodeHome.open(resolve_home(home))
    with LocalNode(h) as node:
        subj = resolve_subject(node, subject or "", _person(person_id))
        found = lookups_of(node, subj, MirrorBundles(h))
    if json_out:
        print_json({"subject": subj.id, "lookups": [a.to_json() for a in found]})
        return
    console.print(f"{subj.id}: {len(found)} lookups", markup=False)
    for a in found:
        console.print(
            f"  {cst_time(a.at)} at {a.region} by {a.client} (sha256:{a.client_sha256[:16]}…) for "
            f"{a.purpose} under {a.authorisation}: {a.records} served, {a.withheld} withheld",
            markup=False,
        )


def register(app: typer.Typer) -> None:
    app.command("lookup")(lookup)
    app.command("lookups")(lookups)

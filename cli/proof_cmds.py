"""Proof commands: prove, bundle, verify, trust export."""

from pathlib import Path
from typing import Annotated, Any

import typer

from credex.cli._common import (
    HomeOpt,
    JsonOpt,
    WaitOpt,
    console,
    day,
    group,
    now,
    print_json,
    read_input,
    resolve_home,
    trust_from,
    write_bundle,
)
from credex.ledger.errors import ConfigError

__all__ = ["register"]

prove_app = group("Print RFC 9162 proofs from the log.")
trust_app = group("Trust material for verifiers.")

TrustOpt = Annotated[
    Path | None,
    typer.Option(
        help="Trust file (credex trust export) or federation manifest (credex federation "
        "export). Default: the trust of the node at --home / $CREDEX_HOME."
    ),
]
PinOpt = Annotated[
    str | None,
    typer.Option(
        help="With a manifest: the SHA-256 of its version 1 (64 hex), as the federation "
        "publishes it; the manifest is refused unless its version 1 is that one."
    ),
]


@prove_app.command("inclusion")
def prove_inclusion(
    index: Annotated[int, typer.Argument(help="0-based leaf index.")],
    size: Annotated[int | None, typer.Option(help="Tree size (default: current).")] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Inclusion proof of entry INDEX in the tree of SIZE."""
    from credex.node.pen import open_node

    with open_node(resolve_home(home)) as node:
        out: dict[str, Any] = node.inclusion(index, size)
    if json_out:
        print_json(out)
    else:
        n = out["tree_size"]
        console.print(f"leaf {index} of {n}: {out['leaf_hash']}\nroot {out['root']}")
        for i, p in enumerate(out["proof"]):
            console.print(f"  {i:2} {p}")


@prove_app.command("consistency")
def prove_consistency(
    old: Annotated[int, typer.Argument(help="Old tree size.")],
    new: Annotated[int, typer.Argument(help="New tree size.")],
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Consistency proof between tree sizes OLD and NEW (1 <= OLD <= NEW)."""
    from credex.node.pen import open_node

    with open_node(resolve_home(home)) as node:
        out: dict[str, Any] = node.consistency(old, new)
    if json_out:
        print_json(out)
    else:
        console.print(f"{old} -> {new}\nold root {out['old_root']}\nnew root {out['new_root']}")
        for i, p in enumerate(out["proof"]):
            console.print(f"  {i:2} {p}")


def bundle(
    index: Annotated[int, typer.Argument(help="0-based leaf index.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The .credex file to write.")],
    wait: WaitOpt = 0.0,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write a .credex bundle for entry INDEX (statement, receipt, checkpoint; a derived
    record's sources and policy), on a checkpoint meeting the witness quorum if any."""
    from credex.node.federation.holdings import handout
    from credex.node.pen import open_node

    with open_node(resolve_home(home)) as node:
        h = handout(node, index, now(), wait_s=wait)
    write_bundle(output, h.bundle, index, json_out, h)


def verify(
    file: Annotated[Path, typer.Argument(help="The .credex bundle.")],
    trust: TrustOpt = None,
    pin: PinOpt = None,
    purpose: Annotated[
        str | None,
        typer.Option(
            help="punitive or eligibility: refuse a record not usable for it "
            "(repaired, withdrawn, expired, under objection...)."
        ),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Judge the status on this day (default today).")
    ] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Verify a bundle offline, narrating each numbered step. Exit 0 only if all pass."""
    from credex.ledger.verify import run_verification

    data = read_input(file, "bundle", "verify")
    if purpose not in (None, "punitive", "eligibility"):
        raise ConfigError(f"verify: --purpose must be punitive or eligibility, got {purpose!r}")
    if trust is not None:
        policy = trust_from(trust, pin)
    else:
        from credex.node.home import NodeHome

        policy = NodeHome.open(resolve_home(home)).trust()
    when = now() if as_of is None else day(as_of)
    report = run_verification(data, policy, purpose=purpose, as_of=when)
    if json_out:
        print_json(report.to_json_value())
    else:
        for s in report.steps:
            mark = "[green]✓[/]" if s.ok else "[red]✗[/]"
            console.print(f"{mark} step {s.number} {s.name}: ", end="")
            console.print(s.detail, markup=False)
        if report.ok:
            console.print(
                f"[bold green]VALID[/]: {report.kind} of {report.subject} "
                f"in {report.origin} at index {report.leaf_index}"
            )
        else:
            console.print(f"[bold red]INVALID[/]: step {report.failed_step} failed")
    if not report.ok:
        raise typer.Exit(1)


@trust_app.command("export")
def trust_export(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="File to write.")] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Export this node's trust file (log key, issuer keys, windows, kinds)."""
    from credex.node.home import NodeHome

    text = NodeHome.open(resolve_home(home)).trust().to_json()
    if output is not None:
        output.write_text(text, encoding="utf-8")
        if not json_out:
            console.print(f"wrote trust file {output}")
    if json_out or output is None:
        print(text, end="")


def register(app: typer.Typer) -> None:
    app.add_typer(prove_app, name="prove")
    app.command("bundle")(bundle)
    app.command("verify")(verify)
    app.add_typer(trust_app, name="trust")

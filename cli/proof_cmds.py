"""Proof commands: prove, bundle, verify, trust export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from credex.cli._common import HomeOpt, JsonOpt, console, now, print_json, resolve_home
from credex.ledger.dates import date_to_unix, parse_date
from credex.ledger.errors import ConfigError, FormatError, OutOfRangeError
from credex.ledger.trust import TrustPolicy, TrustStore
from credex.ledger.verify import run_verification
from credex.node.home import NodeHome
from credex.node.local import LocalNode

__all__ = ["register"]

prove_app = typer.Typer(help="Print RFC 9162 proofs from the log.", no_args_is_help=True)
trust_app = typer.Typer(help="Trust material for verifiers.", no_args_is_help=True)


@prove_app.command("inclusion")
def prove_inclusion(
    index: Annotated[int, typer.Argument(help="0-based leaf index.")],
    size: Annotated[int | None, typer.Option(help="Tree size (default: current).")] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Inclusion proof of entry INDEX in the tree of SIZE."""
    with LocalNode.open(resolve_home(home)) as node:
        n = node.log.size if size is None else size
        proof = node.log.inclusion_proof(index, n)
        out: dict[str, Any] = {
            "leaf_index": index,
            "tree_size": n,
            "leaf_hash": node.log.entry(index).leaf_hash.hex(),
            "root": node.log.root(n).hex(),
            "proof": [p.hex() for p in proof],
        }
    if json_out:
        print_json(out)
    else:
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
    if old < 1:
        raise OutOfRangeError(
            f"prove: old size must be at least 1 (every tree extends the empty one), got {old}"
        )
    with LocalNode.open(resolve_home(home)) as node:
        proof = node.log.consistency_proof(old, new)
        out: dict[str, Any] = {
            "old_size": old,
            "new_size": new,
            "old_root": node.log.root(old).hex(),
            "new_root": node.log.root(new).hex(),
            "proof": [p.hex() for p in proof],
        }
    if json_out:
        print_json(out)
    else:
        console.print(f"{old} -> {new}\nold root {out['old_root']}\nnew root {out['new_root']}")
        for i, p in enumerate(out["proof"]):
            console.print(f"  {i:2} {p}")


def bundle(
    index: Annotated[int, typer.Argument(help="0-based leaf index.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The .credex file to write.")],
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write a .credex bundle for entry INDEX (statement, receipt, checkpoint)."""
    with LocalNode.open(resolve_home(home)) as node:
        b = node.bundle(index, now())
    data = b.to_bytes()
    output.write_bytes(data)
    if json_out:
        print_json({"file": str(output), "bytes": len(data), "leaf_index": index})
    else:
        console.print(f"wrote {output} ({len(data)} bytes) for entry {index}")


def _load_trust(path: Path) -> TrustPolicy:
    """A ``credex-trust/1`` JSON file, or a federation manifest chain (CBOR, from
    ``credex federation export``) verified from its version 1."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as e:
        raise ConfigError(f"verify: trust file not found: {path}") from e
    except IsADirectoryError as e:
        raise ConfigError(f"verify: trust file is a directory: {path}") from e
    if data.lstrip()[:1] != b"{":
        from credex.ledger.manifest import decode_chain, verify_manifest_chain

        return verify_manifest_chain(decode_chain(data))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FormatError(f"verify: trust file is not utf-8 json: {path}") from e
    return TrustStore.from_json(text)


def verify(
    file: Annotated[Path, typer.Argument(help="The .credex bundle.")],
    trust: Annotated[
        Path | None,
        typer.Option(
            help="Trust file (credex trust export). Default: the trust of the "
            "node at --home / $CREDEX_HOME."
        ),
    ] = None,
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
    try:
        data = file.read_bytes()
    except FileNotFoundError as e:
        raise ConfigError(f"verify: bundle not found: {file}") from e
    except IsADirectoryError as e:
        raise ConfigError(f"verify: not a file: {file}") from e
    policy = _load_trust(trust) if trust is not None else NodeHome.open(resolve_home(home)).trust()
    if purpose not in (None, "punitive", "eligibility"):
        raise ConfigError(f"verify: --purpose must be punitive or eligibility, got {purpose!r}")
    when = now() if as_of is None else date_to_unix(parse_date(as_of))
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

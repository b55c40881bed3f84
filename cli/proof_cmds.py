"""Proof commands: prove, bundle, verify, trust export."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from credex.cli._common import (
    AsciiInt,
    HomeOpt,
    JsonOpt,
    PinOpt,
    WaitOpt,
    console,
    day,
    group,
    manifest_root,
    now,
    print_json,
    read_input,
    resolve_home,
    trust_from,
    write_bundle,
)
from credex.ledger.errors import ConfigError

if TYPE_CHECKING:
    from credex.ledger.trust import TrustPolicy, TrustStore
    from credex.ledger.verify_report import VerificationReport

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


@prove_app.command("inclusion")
def prove_inclusion(
    index: Annotated[int, typer.Argument(help="0-based leaf index.", parser=AsciiInt)],
    size: Annotated[
        int | None, typer.Option(help="Tree size (default: current).", parser=AsciiInt)
    ] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Inclusion proof of entry INDEX in the tree of SIZE.

    \b
    Example:
      credex prove inclusion 24 --json
    """
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
    old: Annotated[int, typer.Argument(help="Old tree size.", parser=AsciiInt)],
    new: Annotated[int, typer.Argument(help="New tree size.", parser=AsciiInt)],
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Consistency proof between tree sizes OLD and NEW (1 <= OLD <= NEW).

    \b
    Example:
      credex prove consistency 10 24
    """
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
    index: Annotated[int, typer.Argument(help="0-based leaf index.", parser=AsciiInt)],
    output: Annotated[Path, typer.Option("-o", "--output", help="The .credex file to write.")],
    wait: WaitOpt = 0.0,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write a .credex bundle for entry INDEX (statement, receipt, checkpoint; a derived
    record's sources and policy), on a checkpoint meeting the witness quorum if any.

    \b
    Example:
      credex bundle 24 -o record.credex
    """
    from credex.node.federation.holdings import handout
    from credex.node.pen import open_node

    with open_node(resolve_home(home)) as node:
        h = handout(node, index, now(), wait_s=wait, with_body=True)
    write_bundle(output, h.bundle, index, json_out, h)


def verify(
    file: Annotated[Path, typer.Argument(help="The .credex bundle.")],
    more: Annotated[
        list[Path] | None,
        typer.Argument(
            help="More bundles: each verified (on two worker processes when there are "
            "16 or more and a second core), one line each.",
            show_default=False,
        ),
    ] = None,
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
    """Verify a bundle offline, narrating each numbered step. Exit 0 only if all pass.

    \b
    Example:
      credex verify record.credex --trust ningbo.trust.json --purpose eligibility
      credex verify bundles/*.credex --trust ningbo.trust.json
    """
    from credex.ledger.verify import run_verification

    if purpose not in (None, "punitive", "eligibility"):
        raise ConfigError(f"verify: --purpose must be punitive or eligibility, got {purpose!r}")
    files = [file, *(more or [])]
    if len(files) > 1 and any(f.name.endswith(".credex-report") for f in files):
        raise ConfigError("verify: a .credex-report is verified on its own")
    data = read_input(file, "bundle", "verify")
    if trust is not None:
        policy = trust_from(trust, pin, warn=True)
    else:
        from credex.node.home import NodeHome

        policy = NodeHome.open(resolve_home(home)).trust()
    if len(files) > 1:
        _verify_many(files, policy, purpose, now() if as_of is None else day(as_of), json_out)
        return
    if file.name.endswith(".credex-report"):
        _verify_report(data, policy, json_out)
        return
    when = now() if as_of is None else day(as_of)
    report = run_verification(data, policy, purpose=purpose, as_of=when)
    if json_out:
        root = manifest_root(policy)
        trust_info = (
            {"kind": "trust-file"}
            if root is None
            else {"kind": "manifest", "version_1": root.hex(), "pinned": pin is not None}
        )
        print_json({**report.to_json_value(), "trust": trust_info})
    else:
        if report.ok:
            _print_verified(report)
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


#: bundles read and verified at a time by ``credex verify`` of many files (memory bound)
_MANY_GROUP = 4096


def _verify_many(
    files: list[Path], policy: "TrustPolicy", purpose: str | None, when: int, json_out: bool
) -> None:
    """``credex verify A B C ...``: each bundle verified (on two worker processes when
    there are many and a second core: ``VerifierPool``), one line (or JSON object) each,
    in the order given; exit 1 if any is invalid."""
    import os

    from credex.ledger.verify import Verifier
    from credex.node.verify_pool import VerifierPool

    pool = None
    if len(files) >= 16 and (os.cpu_count() or 1) > 1:
        pool = VerifierPool(policy, purpose=purpose, as_of=when, processes=2)
    verifier = Verifier(policy, purpose=purpose, as_of=when)
    rows: list[dict[str, object]] = []
    bad = 0
    try:
        for i in range(0, len(files), _MANY_GROUP):
            group_files = files[i : i + _MANY_GROUP]
            datas = [read_input(f, "bundle", "verify") for f in group_files]
            reports = pool.run_many(datas) if pool is not None else [verifier.run(d) for d in datas]
            for f, report in zip(group_files, reports, strict=True):
                bad += not report.ok
                if json_out:
                    rows.append({"file": str(f), **report.to_json_value()})
                elif report.ok:
                    console.print("[green]✓[/] ", end="")
                    console.print(
                        f"{f}: VALID {report.kind} of {report.subject} in {report.origin} "
                        f"at index {report.leaf_index}",
                        markup=False,
                        highlight=False,
                    )
                else:
                    console.print("[red]✗[/] ", end="")
                    console.print(
                        f"{f}: INVALID at step {report.failed_step}: {report.error}",
                        markup=False,
                        highlight=False,
                    )
    finally:
        if pool is not None:
            pool.close()
    if json_out:
        print_json({"bundles": rows, "valid": len(files) - bad, "invalid": bad})
    else:
        console.print(f"{len(files) - bad} valid, {bad} invalid of {len(files)} bundles")
    if bad:
        raise typer.Exit(1)


def _verify_report(data: bytes, policy: "TrustPolicy", json_out: bool) -> None:
    """``credex verify FILE.credex-report``: every part, offline; exit 1 on the first
    failure (named: the missing index, the foreign record, the wrong proof)."""
    from credex.cli.report_cmds import print_checked_report, report_json
    from credex.ledger.errors import CredexError
    from credex.ledger.report_verify import verify_report

    try:
        checked = verify_report(data, policy)
    except CredexError as e:
        if json_out:
            print_json({"valid": False, "code": e.code, "error": str(e)})
        else:
            console.print(f"[bold red]INVALID[/] report: {e}", highlight=False)
        raise typer.Exit(1) from e
    if json_out:
        print_json(report_json(checked))
    else:
        print_checked_report(checked)


def _print_verified(report: "VerificationReport") -> None:
    """The verified record's main fields (and a derived one's sources and policy)."""
    import json

    from credex.ledger.dates import cst_day

    rec = report.record or {}
    until = rec.get("valid_until")
    ends = "open" if until is None else cst_day(until)
    console.print(
        f"{rec.get('kind')} of {rec.get('subject', {}).get('id')} ({rec.get('region')}), "
        f"valid {cst_day(rec.get('valid_from', 0))} to {ends}",
        markup=False,
    )
    for name, value in sorted((rec.get("body") or {}).items()):
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        console.print(f"  {name}: {shown}", markup=False)
    d = report.derivation or {}
    for item in [*d.get("sources", []), *([d["policy"]] if "policy" in d else [])]:
        console.print(
            f"  from {item['kind']} {item['origin']} #{item['leaf_index']} {item['leaf_hash']}",
            markup=False,
        )


@trust_app.command("export")
def trust_export(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="File to write.")] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Export this node's trust file (log key, issuer keys, windows, kinds).

    \b
    Example:
      credex trust export -o ningbo.trust.json
    """
    from credex.node.home import NodeHome

    text = NodeHome.open(resolve_home(home)).trust().to_json()
    if output is not None:
        output.write_text(text, encoding="utf-8")
        if not json_out:
            console.print(f"wrote trust file {output}")
    if json_out or output is None:
        print(text, end="")


def _trust_file(path: Path, command: str) -> "TrustStore":
    """A ``credex-trust/1`` file the user named (a manifest is refused, named)."""
    from credex.ledger.errors import FormatError
    from credex.ledger.trust import TrustStore

    data = read_input(path, "trust file", command)
    if data.lstrip()[:1] != b"{":
        raise FormatError(
            f"{command}: {path} is not a credex-trust/1 file (a federation manifest "
            "already trusts every member: give it to verify as it is)"
        )
    try:
        return TrustStore.from_json(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise FormatError(f"{command}: {path} is not utf-8 json") from e


@trust_app.command("merge")
def trust_merge(
    files: Annotated[list[Path], typer.Argument(help="Two or more trust files.")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="File to write.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Merge trust files of several regions into one. Two different keys under one log
    origin or issuer id (or different witness keys or quorums) are a conflict: it is
    named and nothing is written.

    \b
    Example:
      credex trust merge ningbo.trust.json hangzhou.trust.json -o banks.trust.json
    """
    from credex.ledger.trust_merge import merge_trust
    from credex.node.files import write_atomic

    merged = merge_trust([(str(f), _trust_file(f, "trust merge")) for f in files])
    text = merged.to_json()
    if output is not None:
        write_atomic(output, text.encode("utf-8"))
        if not json_out:
            console.print(
                f"wrote {output}: {len(merged.logs)} logs, {len(merged.issuers)} issuer keys",
                markup=False,
            )
    if json_out or output is None:
        print(text, end="")


@trust_app.command("show")
def trust_show(
    file: Annotated[Path, typer.Argument(help="A trust file (credex trust export or merge).")],
    json_out: JsonOpt = False,
) -> None:
    """Print who a trust file trusts for what: each log, each issuer key with its region,
    window and kinds, and the witnesses with their quorum.

    \b
    Example:
      credex trust show banks.trust.json
    """
    from credex.ledger.dates import cst_day
    from credex.ledger.record import KINDS

    store = _trust_file(file, "trust show")
    if json_out:
        print_json(store.to_json_value())
        return
    for g in store.logs:
        console.print(f"log      {g.origin}  key {g.public_key.hex()}", markup=False)
    for i in store.issuers:
        until = "open" if i.valid_until is None else cst_day(i.valid_until)
        since = "the start" if i.valid_from == 0 else cst_day(i.valid_from)
        kinds = "every kind" if set(KINDS) <= i.kinds else ", ".join(sorted(i.kinds))
        console.print(
            f"issuer   {i.issuer_id} ({i.region})  key {i.public_key.hex()[:16]}…  "
            f"valid from {since} to {until}  for {kinds}",
            markup=False,
        )
    for w in store.witnesses:
        console.print(f"witness  {w.name}  key {w.public_key.hex()[:16]}…", markup=False)
    console.print(
        f"quorum   {store.quorum} of {len(store.witnesses)} witness cosignatures per checkpoint",
        markup=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(prove_app, name="prove")
    app.command("bundle")(bundle)
    app.command("verify")(verify)
    app.add_typer(trust_app, name="trust")

"""Evidence commands: list, export and verify split-view evidence.

``list`` and ``export`` read the node's witness store (``--home``); ``verify`` needs nothing
but the file (and, to pin the key, ``--log-key``): anyone can check evidence alone.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from credex.cli._common import AsciiInt, HomeOpt, JsonOpt, console, group, print_json, resolve_home
from credex.ledger.errors import ConfigError, CredexError, FormatError

if TYPE_CHECKING:
    from credex.ledger.evidence import Evidence
    from credex.ledger.storage.witness import EvidenceInfo, WitnessStore

__all__ = ["evidence_app", "register"]

evidence_app = group(
    "Split-view evidence: two signed checkpoints of one log that cannot both be true."
)


def _summary(ev: "Evidence") -> dict[str, Any]:
    a, b = ev.checkpoint_a, ev.checkpoint_b
    return {
        "origin": ev.origin,
        "kind": ev.kind,
        "conclusive": ev.conclusive,
        "log_note_name": ev.log_note_name,
        "log_kid": ev.log_kid.hex(),
        "a": {"tree_size": a.size, "root": a.root.hex()},
        "b": {"tree_size": b.size, "root": b.root.hex()},
        "proof_hashes": len(ev.proof),
        "digest": ev.digest.hex(),
    }


def _info_json(info: "EvidenceInfo") -> dict[str, Any]:
    return {"id": info.id, "created_at": info.created_at, **_summary(info.evidence)}


def _store(home: Path | None) -> "WitnessStore":
    from credex.ledger.storage.witness import WitnessStore
    from credex.node.home import NodeHome

    return WitnessStore(NodeHome.open(resolve_home(home)).db_url)


@evidence_app.command("list")
def list_(home: HomeOpt = None, json_out: JsonOpt = False) -> None:
    """List the evidence this node recorded, oldest first.

    \b
    Example:
      credex evidence list
    """
    with _store(home) as store:
        infos = store.list_evidence()
    if json_out:
        print_json([_info_json(i) for i in infos])
        return
    if not infos:
        console.print("no evidence recorded")
        return
    for i in infos:
        s = _summary(i.evidence)
        console.print(
            f"{i.id:4}  {s['origin']}  {s['kind']}  sizes {s['a']['tree_size']} / "
            f"{s['b']['tree_size']}  at {i.created_at}",
            markup=False,
        )


@evidence_app.command("export")
def export(
    evidence_id: Annotated[
        int, typer.Argument(metavar="ID", help="Evidence id (see list).", parser=AsciiInt)
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="The file to write (CBOR).")],
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write evidence ID as a portable, self-verifying CBOR file.

    \b
    Example:
      credex evidence export 1 -o split-view.cbor
    """
    with _store(home) as store:
        info = store.get_evidence(evidence_id)
    data = info.evidence.to_bytes()
    output.write_bytes(data)
    if json_out:
        print_json({"file": str(output), "bytes": len(data), **_info_json(info)})
    else:
        console.print(f"wrote {output} ({len(data)} bytes): {info.evidence.kind} of {info.origin}")


def _read(file: Path) -> bytes:
    from credex.ledger.evidence import MAX_EVIDENCE_BYTES

    try:
        with file.open("rb") as f:
            data = f.read(MAX_EVIDENCE_BYTES + 1)
    except FileNotFoundError as e:
        raise ConfigError(f"evidence: file not found: {file}") from e
    except IsADirectoryError as e:
        raise ConfigError(f"evidence: not a file: {file}") from e
    return data


def _log_key(value: str | None) -> bytes | None:
    if value is None:
        return None
    try:
        key = bytes.fromhex(value)
    except ValueError as e:
        raise FormatError("evidence: --log-key is not hex") from e
    if len(key) != 32:
        raise FormatError(f"evidence: --log-key must be 32 bytes, got {len(key)}")
    return key


@evidence_app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="The evidence file (credex evidence export).")],
    log_key: Annotated[
        str | None,
        typer.Option(
            help="Require this log public key (64 hex) for the origin, e.g. from the "
            "federation manifest. Without it the file proves only that the holder of the "
            "key inside it signed both checkpoints."
        ),
    ] = None,
    conclusive: Annotated[
        bool,
        typer.Option("--conclusive", help="Accept only kinds that are conclusive on their own."),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Check evidence alone. Exit 0 only if both notes are signed and cannot both be true.

    \b
    Example:
      credex evidence verify split-view.cbor --log-key KEYHEX
    """
    from credex.ledger.evidence import Evidence, verify_evidence
    from credex.ledger.trust import TrustedLog

    ev = Evidence.from_bytes(_read(file))
    pinned = _log_key(log_key)
    trusted = None if pinned is None else TrustedLog(ev.origin, ev.log_note_name, pinned)
    summary = _summary(ev)
    try:
        verify_evidence(ev, trusted_log=trusted, conclusive_only=conclusive)
    except CredexError as e:
        if not json_out:
            raise
        print_json({"valid": False, "code": e.code, "error": str(e), **summary})
        raise typer.Exit(1) from e
    if json_out:
        print_json({"valid": True, "key_pinned": pinned is not None, **summary})
        return
    a, b = summary["a"], summary["b"]
    strength = "conclusive" if ev.conclusive else "not conclusive alone (see docs)"
    console.print(
        f"[bold green]VALID[/] evidence: {ev.kind} of {ev.origin} ({strength})", highlight=False
    )
    console.print(
        f"  a: size {a['tree_size']} root {a['root']}\n  b: size {b['tree_size']} root {b['root']}"
        f"\n  log key id {summary['log_kid']}"
        + ("" if pinned is not None else " (not pinned: pass --log-key to check it)"),
        markup=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(evidence_app, name="evidence")

"""Node operator commands: init, issuer add/list, issue, import, checkpoint, log info."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from credex.adapters.base import ADAPTERS
from credex.cli._common import HomeOpt, JsonOpt, console, err_console, now, print_json, resolve_home
from credex.ledger.dates import CST, date_to_unix, parse_date
from credex.ledger.errors import ConfigError, CredexError, FormatError, RecordError
from credex.ledger.identifiers import validate_org_id
from credex.ledger.record import KINDS, Record, Subject
from credex.ledger.subject import person_subject_id
from credex.node.home import NodeHome, read_secret
from credex.node.local import IssueResult, LocalNode
from credex.node.services.importer import import_bytes

__all__ = ["register"]


def _today(t: int) -> int:
    """Midnight (China Standard Time) of the day containing ``t``."""
    return date_to_unix(datetime.fromtimestamp(t, CST).date())


def _date_opt(text: str | None, default: int | None) -> int | None:
    return default if text is None else date_to_unix(parse_date(text))


def init(
    region: Annotated[str, typer.Option(help="Region id, e.g. cn-zj-ningbo.")],
    origin: Annotated[str, typer.Option(help="Log origin, e.g. credex.ningbo.example/log.")],
    home_arg: Annotated[Path | None, typer.Argument(metavar="HOME", show_default=False)] = None,
    db: Annotated[str | None, typer.Option(help="Database URL (default: HOME/log.sqlite).")] = None,
    subject_key: Annotated[
        Path | None,
        typer.Option(
            help="Adopt the federation's person-subject key (a keys/subject.key file from "
            "another member, mode 0600) so person pseudonyms match across regions. "
            "Default: a new key."
        ),
    ] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Create a node home: log key, subject key and a platform issuer for every kind."""
    path = home_arg or resolve_home(home)
    secret = read_secret(subject_key) if subject_key is not None else os.urandom(32)
    h = NodeHome.init(
        path,
        region=region,
        origin=origin,
        db=db,
        now=now(),
        log_seed=os.urandom(32),
        subject_secret=secret,
        platform_seed=os.urandom(32),
    )
    try:
        with LocalNode(h):  # creates the database tables now, so errors show at init
            pass
    except CredexError:
        h.discard()  # nothing half-made is left behind: init can simply be run again
        raise
    info = {
        "home": str(path),
        "region": h.region,
        "origin": h.origin,
        "log_public_key": h.log_key().public_key.hex(),
        "platform_issuer": h.platform_issuer,
        "subject_key_id": h.subject_key().key_id,
    }
    if json_out:
        print_json(info)
    else:
        console.print(f"initialised node [bold]{h.region}[/] at {path}")
        console.print(f"  origin           {h.origin}")
        console.print(f"  log key          {info['log_public_key']}")
        console.print(f"  platform issuer  {h.platform_issuer} (all kinds)")


issuer_app = typer.Typer(
    help="Manage issuers (data sources with their own keys).", no_args_is_help=True
)


@issuer_app.command("add")
def issuer_add(
    issuer_id: Annotated[str, typer.Argument(help="<region>/<name>, e.g. cn-zj-ningbo/court.")],
    kinds: Annotated[str, typer.Option(help="Comma-separated record kinds it may sign.")],
    valid_from: Annotated[str | None, typer.Option(help="First valid day (default now).")] = None,
    valid_until: Annotated[str | None, typer.Option(help="First invalid day.")] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Register an issuer key (a second key for the same id is a key rotation)."""
    h = NodeHome.open(resolve_home(home))
    entry = h.add_issuer(
        issuer_id,
        [k.strip() for k in kinds.split(",") if k.strip()],
        valid_from=_date_opt(valid_from, now()) or 0,
        valid_until=_date_opt(valid_until, None),
        seed=os.urandom(32),
    )
    out = {
        "issuer_id": entry.issuer_id,
        "public_key": entry.public_key.hex(),
        "valid_from": entry.valid_from,
        "valid_until": entry.valid_until,
        "kinds": sorted(entry.kinds),
    }
    if json_out:
        print_json(out)
    else:
        console.print(f"added issuer {entry.issuer_id} key {out['public_key']}")


@issuer_app.command("list")
def issuer_list(home: HomeOpt = None, json_out: JsonOpt = False) -> None:
    """List registered issuers and their key windows."""
    h = NodeHome.open(resolve_home(home))
    rows: list[dict[str, Any]] = [
        {
            "issuer_id": e.issuer_id,
            "public_key": e.public_key.hex(),
            "valid_from": e.valid_from,
            "valid_until": e.valid_until,
            "kinds": sorted(e.kinds),
        }
        for e in h.issuers()
    ]
    if json_out:
        print_json(rows)
        return
    for r in rows:
        kinds = "all kinds" if len(r["kinds"]) == len(KINDS) else ", ".join(r["kinds"])
        console.print(
            f"{r['issuer_id']}  {r['public_key'][:16]}…  "
            f"[{r['valid_from']}, {r['valid_until'] or '∞'})  {kinds}"
        )


def _result_json(r: IssueResult) -> dict[str, Any]:
    return {"index": r.index, "leaf_hash": r.leaf_hash.hex(), "new": r.is_new, "kind": r.kind}


def _record_from_json(obj: Any, region: str, h: NodeHome, default_from: int) -> Record:
    if not isinstance(obj, dict):
        raise RecordError("issue: each record must be a json object")
    if "person_id" in obj:
        subject = Subject("person", person_subject_id(h.subject_key(), str(obj["person_id"])))
    else:
        subj = obj.get("subject")
        if not isinstance(subj, dict):
            raise RecordError("issue: record needs subject {type, id} or person_id")
        stype, sid = subj.get("type", "org"), str(subj.get("id", ""))
        subject = Subject(stype, validate_org_id(sid).id if stype == "org" else sid)
    vf = obj.get("valid_from", default_from)
    vu = obj.get("valid_until")
    return Record(
        kind=str(obj.get("kind", "")),
        region=region,
        subject=subject,
        body=obj.get("body", {}),
        valid_from=date_to_unix(parse_date(vf)) if isinstance(vf, str) else vf,
        valid_until=date_to_unix(parse_date(vu)) if isinstance(vu, str) else vu,
        refs=_refs(obj.get("refs", [])),
    )


def _refs(value: Any) -> tuple[bytes, ...]:
    if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
        raise RecordError("issue: refs must be a list of hex leaf hashes")
    try:
        return tuple(bytes.fromhex(r) for r in value)
    except ValueError as e:
        raise RecordError("issue: refs must be a list of hex leaf hashes") from e


def issue(
    kind: Annotated[str | None, typer.Option(help="Record kind, e.g. score.city.")] = None,
    subject: Annotated[
        str | None, typer.Option(help="Organisation id (USCC or HK number).")
    ] = None,
    person_id: Annotated[
        str | None,
        typer.Option(
            help="A resident ID number, or - to read it from standard input (keeps it out "
            "of shell history); it is validated, then replaced by a keyed hash and never "
            "stored or printed."
        ),
    ] = None,
    body: Annotated[str | None, typer.Option(help="The record body as a JSON object.")] = None,
    records: Annotated[
        Path | None, typer.Option(help="A JSON-lines file of records to issue.")
    ] = None,
    issuer: Annotated[str | None, typer.Option(help="Issuer id (default: the platform).")] = None,
    valid_from: Annotated[str | None, typer.Option(help="Start day (default today).")] = None,
    valid_until: Annotated[str | None, typer.Option(help="End day.")] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Sign records as an issuer and append them to the log (durable before it returns).

    Issuing the same record again (same kind, subject, body and window) logs nothing new.
    """
    h = NodeHome.open(resolve_home(home))
    t = now()
    objs: list[Any] = []
    if records is not None:
        for n, line in enumerate(records.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    objs.append(json.loads(line))
                except ValueError as e:
                    raise FormatError(f"issue: line {n} of {records.name} is not json") from e
    else:
        if kind is None or (subject is None) == (person_id is None):
            raise ConfigError(
                "issue: give --kind and exactly one of --subject / --person-id, or --records FILE"
            )
        try:
            body_obj = json.loads(body or "{}")
        except ValueError as e:
            raise FormatError("issue: --body is not valid json") from e
        obj: dict[str, Any] = {
            "kind": kind,
            "body": body_obj,
            "valid_from": _date_opt(valid_from, _today(t)),
        }
        if valid_until is not None:
            obj["valid_until"] = _date_opt(valid_until, None)
        if person_id is not None:
            # "-" reads the number from standard input, keeping it out of shell history
            obj["person_id"] = sys.stdin.readline().strip() if person_id == "-" else person_id
        else:
            obj["subject"] = {"type": "org", "id": subject}
        objs.append(obj)
    recs = []
    for n, o in enumerate(objs, 1):
        try:
            recs.append(_record_from_json(o, h.region, h, _today(t)))
        except CredexError as e:
            if records is None:
                raise
            raise type(e)(f"record {n} of {records.name}: {e}") from e
    with LocalNode(h) as node:
        results = node.issue(recs, issuer_id=issuer, iat=t)
    if json_out:
        print_json([_result_json(r) for r in results])
    else:
        for r in results:
            state = "logged" if r.is_new else "already logged"
            console.print(f"{state}: {r.kind} at index {r.index} leaf {r.leaf_hash.hex()}")


def import_(
    file: Annotated[Path, typer.Argument(help="The file to import.", exists=True, dir_okay=False)],
    adapter: Annotated[str, typer.Option(help=f"Input format: {', '.join(sorted(ADAPTERS))}.")],
    issuer: Annotated[str | None, typer.Option(help="Issuer id (default: the platform).")] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Import a regional file: good rows are signed and logged, bad rows reported by line."""
    ad = ADAPTERS.get(adapter)
    if ad is None:
        raise ConfigError(
            f"import: unknown adapter {adapter!r}: expected one of {', '.join(sorted(ADAPTERS))}"
        )
    h = NodeHome.open(resolve_home(home))
    data = file.read_bytes()
    with (
        LocalNode(h) as node,
        Progress(
            TextColumn("importing"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err_console,
            transient=True,
            disable=json_out or not err_console.is_terminal,
        ) as progress,
    ):
        task = progress.add_task("rows", total=ad.count_rows(data))
        summary = import_bytes(
            node, ad, data, iat=now(), issuer_id=issuer, on_rows=lambda n: progress.advance(task, n)
        )
    if json_out:
        print_json({"file": file.name, **summary.to_json_value()})
    else:
        for w in summary.warnings:
            err_console.print(f"warning: {w}", markup=False)
        for e in summary.errors:
            err_console.print(f"line {e.line}: {e.reason}", markup=False)
        console.print(
            f"{file.name}: {summary.imported} imported, {summary.already_present} "
            f"already present, {summary.rejected} rejected"
        )
    if summary.errors:
        raise typer.Exit(1)


def checkpoint(home: HomeOpt = None, json_out: JsonOpt = False) -> None:
    """Sign a checkpoint of the current tree (if it grew) and print it."""
    with LocalNode.open(resolve_home(home)) as node:
        note = node.publish_checkpoint(now())
    cp = note.checkpoint
    if json_out:
        print_json(
            {
                "origin": cp.origin,
                "tree_size": cp.size,
                "root": cp.root.hex(),
                "note": note.to_text(),
            }
        )
    else:
        print(note.to_text(), end="")


def log_info(home: HomeOpt = None, json_out: JsonOpt = False) -> None:
    """Show the log's size, root and latest checkpoint."""
    with LocalNode.open(resolve_home(home)) as node:
        size = node.log.size
        root = node.log.root(size)
        note = node.latest_checkpoint()
        out = {
            "origin": node.home.origin,
            "region": node.home.region,
            "tree_size": size,
            "root": root.hex(),
            "checkpoint_size": None if note is None else note.checkpoint.size,
        }
    if json_out:
        print_json(out)
    else:
        for k, v in out.items():
            console.print(f"{k:16} {v}")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.add_typer(issuer_app, name="issuer")
    app.command("issue")(issue)
    app.command("import")(import_)
    app.command("checkpoint")(checkpoint)
    app.command("info")(log_info)

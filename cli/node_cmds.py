"""Node operator commands: init, issuer add/list, issue, import, checkpoint, info.

Each command parses its options, calls ``credex.node`` and prints; the rules (what a
record value is, how a home is created, how a file is imported) live there.
"""

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from credex.cli._common import (
    HomeOpt,
    JsonOpt,
    console,
    day_opt,
    group,
    now,
    print_json,
    resolve_home,
    today,
)
from credex.ledger.errors import ConfigError

if TYPE_CHECKING:
    from credex.adapters.base import Adapter
    from credex.node.local import LocalNode
    from credex.node.services.importer import Tally

__all__ = ["register"]

#: the adapters of ``credex.adapters.base.ADAPTERS`` (a test keeps this in step)
ADAPTER_NAMES = (
    "penalty-csv, hk-report-json, license-csv, red-list-csv, black-list-csv, "
    "court-list-csv, tax-a-list-csv"
)


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
    """Create a node home: log key, subject key and a platform issuer for every kind.

    \b
    Example:
      credex init ~/credex/ningbo --region cn-zj-ningbo --origin credex.ningbo.example/log
    """
    from credex.node.files import read_secret
    from credex.node.local import create_home

    path = home_arg or resolve_home(home)
    secret = read_secret(subject_key) if subject_key is not None else None
    h = create_home(path, region=region, origin=origin, db=db, now=now(), subject_secret=secret)
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


issuer_app = group("Manage issuers (data sources with their own keys).")


@issuer_app.command("add")
def issuer_add(
    issuer_id: Annotated[str, typer.Argument(help="<region>/<name>, e.g. cn-zj-ningbo/court.")],
    kinds: Annotated[str, typer.Option(help="Comma-separated record kinds it may sign.")],
    valid_from: Annotated[str | None, typer.Option(help="First valid day (default now).")] = None,
    valid_until: Annotated[str | None, typer.Option(help="First invalid day.")] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Register an issuer key (a second key for the same id is a key rotation).

    \b
    Example:
      credex issuer add cn-zj-ningbo/court --kinds court.dishonest-debtor --valid-from 2026-01-01
    """
    from credex.node.home import NodeHome

    h = NodeHome.open(resolve_home(home))
    entry = h.add_issuer(
        issuer_id,
        [k.strip() for k in kinds.split(",") if k.strip()],
        valid_from=day_opt(valid_from, now()) or 0,
        valid_until=day_opt(valid_until, None),
    )
    if json_out:
        print_json(entry.to_json())
    else:
        console.print(f"added issuer {entry.issuer_id} key {entry.public_key.hex()}")


@issuer_app.command("list")
def issuer_list(home: HomeOpt = None, json_out: JsonOpt = False) -> None:
    """List registered issuers and their key windows.

    \b
    Example:
      credex issuer list
    """
    from credex.ledger.dates import cst_time
    from credex.ledger.record import KINDS
    from credex.node.home import NodeHome

    rows = [e.to_json() for e in NodeHome.open(resolve_home(home)).issuers()]
    if json_out:
        print_json(rows)
        return
    for r in rows:
        kinds = "all kinds" if len(r["kinds"]) == len(KINDS) else ", ".join(r["kinds"])
        start = "always" if r["valid_from"] == 0 else f"from {cst_time(r['valid_from'])}"
        until = "" if r["valid_until"] is None else f" until {cst_time(r['valid_until'])}"
        console.print(
            f"{r['issuer_id']}  {r['public_key'][:16]}…  {start}{until}  {kinds}", markup=False
        )


VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="A line per record (and every refused row).")
]
RejectsOpt = Annotated[
    Path | None,
    typer.Option(
        "--rejects",
        help="Write every refused row to this CSV file (line, reason) instead of the "
        "terminal; the exit code is still 1 when a row was refused.",
        dir_okay=False,
    ),
]


def _stream(
    node: "LocalNode",
    path: Path,
    adapter: "Adapter",
    *,
    issuer: str | None,
    iat: int,
    facts: bool,
    json_out: bool,
    verbose: bool,
    rejects: Path | None,
    logged_word: str,
) -> "Tally":
    """Stream ``path`` through ``adapter`` into the log, printing as it goes."""
    from credex.adapters.base import AdapterContext
    from credex.cli._bulk import BulkOutput, read_chunks
    from credex.node.services.importer import import_stream
    from credex.node.services.parsing import parsed_rows

    with (
        path.open("rb") as f,
        BulkOutput(
            name=path.name,
            total_bytes=path.stat().st_size,
            json_out=json_out,
            verbose=verbose,
            rejects=rejects,
            logged_word=logged_word,
        ) as out,
    ):
        node.limit_memory_for_bulk()
        ctx = AdapterContext(node.home.region, node.home.subject_key())
        with parsed_rows(adapter, read_chunks(f, out.read), ctx, size=path.stat().st_size) as rows:
            tally = import_stream(
                node, adapter, b"", iat=iat, issuer_id=issuer, sink=out, facts=facts, results=rows
            )
        out.finish(tally)
    return tally


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
        Path | None,
        typer.Option(
            help="A JSON-lines file of records to issue, streamed in batches: a bad line "
            "is refused (exit code 1), the others are logged; run again after an "
            "interruption, it finishes the file without logging anything twice.",
            dir_okay=False,
        ),
    ] = None,
    issuer: Annotated[str | None, typer.Option(help="Issuer id (default: the platform).")] = None,
    valid_from: Annotated[str | None, typer.Option(help="Start day (default today).")] = None,
    valid_until: Annotated[str | None, typer.Option(help="End day.")] = None,
    verbose: VerboseOpt = False,
    rejects: RejectsOpt = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Sign records as an issuer and append them to the log (durable before it returns).

    Issuing the same record again (same kind, subject, body and window) logs nothing.
    With --records: a progress bar on a terminal, one summary line at the end (--verbose:
    a line per record; --json: one JSON object per line).

    \b
    Example:
      credex issue --records scores.jsonl --rejects rejected.csv
    """
    from credex.node.pen import open_node
    from credex.node.services.records import JsonLinesRecords, record_from_value, record_value

    t = now()
    with open_node(resolve_home(home)) as node:
        h = node.home
        if records is not None:
            if not records.is_file():
                raise ConfigError(f"issue: records file not found: {records}")
            tally = _stream(
                node,
                records,
                JsonLinesRecords(default_from=today(t)),
                issuer=issuer,
                iat=t,
                facts=False,
                json_out=json_out,
                verbose=verbose,
                rejects=rejects,
                logged_word="logged",
            )
            if tally.rejected:
                raise typer.Exit(1)
            return
        if kind is None or (subject is None) == (person_id is None):
            raise ConfigError(
                "issue: give --kind and exactly one of --subject / --person-id, or --records FILE"
            )
        if person_id == "-":  # keeps the number out of shell history
            person_id = sys.stdin.readline().strip()
        value = record_value(
            kind=kind,
            body_json=body,
            subject=subject,
            person_id=person_id,
            valid_from=day_opt(valid_from, today(t)) or 0,
            valid_until=day_opt(valid_until, None),
        )
        recs = [
            record_from_value(
                value, region=h.region, subject_key=h.subject_key(), default_from=today(t)
            )
        ]
        results = node.issue(recs, issuer_id=issuer, iat=t)
    if json_out:
        print_json([r.to_json() for r in results])
    else:
        for r in results:
            state = "logged" if r.is_new else "already logged"
            console.print(f"{state}: {r.kind} at index {r.index} leaf {r.leaf_hash.hex()}")


def import_(
    file: Annotated[Path, typer.Argument(help="The file to import.", exists=True, dir_okay=False)],
    adapter: Annotated[str, typer.Option(help=f"Input format: {ADAPTER_NAMES}.")],
    issuer: Annotated[str | None, typer.Option(help="Issuer id (default: the platform).")] = None,
    verbose: VerboseOpt = False,
    rejects: RejectsOpt = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Import a regional file: good rows are signed and logged, bad rows reported by line.

    The file is streamed in batches (memory does not grow with it): a progress bar on a
    terminal, one summary line at the end, refused rows on stderr or in --rejects FILE.csv
    (exit code 1 when any), --verbose for a line per record, --json for one JSON object
    per line. Interrupted, run it again: it finishes the file and logs nothing twice.

    \b
    Example:
      credex import --adapter penalty-csv 行政处罚.csv --rejects rejected.csv
    """
    from credex.adapters.registry import adapter_named
    from credex.node.pen import open_node

    ad = adapter_named(adapter)
    with open_node(resolve_home(home)) as node:
        tally = _stream(
            node,
            file,
            ad,
            issuer=issuer,
            iat=now(),
            facts=True,
            json_out=json_out,
            verbose=verbose,
            rejects=rejects,
            logged_word="imported",
        )
    if tally.rejected:
        raise typer.Exit(1)


def checkpoint(home: HomeOpt = None, json_out: JsonOpt = False) -> None:
    """Sign a checkpoint of the current tree (if it grew) and print it.

    \b
    Example:
      credex checkpoint
    """
    from credex.node.pen import open_node

    with open_node(resolve_home(home)) as node:
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
    """Show the log's size, root and latest checkpoint.

    \b
    Example:
      credex info --json
    """
    from credex.node.pen import open_node

    with open_node(resolve_home(home)) as node:
        out = node.info()
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

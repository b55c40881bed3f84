"""Finding records: ``credex records`` (search this node's log and mirrors) and ``credex
show`` (one record in full). The rules live in ``credex.node.services.finding`` and
``showing``; this module parses, calls one of them and prints."""

import re
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from credex.cli._common import HomeOpt, JsonOpt, console, day, now, print_json, resolve_home
from credex.ledger.errors import ConfigError

if TYPE_CHECKING:
    from credex.node.services.finding import RecordList
    from credex.node.services.showing import RecordDetail

__all__ = ["register"]

_INDEX_RE = re.compile(r"^[0-9]{1,19}\Z")
_LEAF_RE = re.compile(r"^[0-9a-fA-F]{64}\Z")


def records(
    subject: Annotated[
        str | None,
        typer.Option(help="A USCC, a HK CR/BR number or a person pseudonym hmac:<keyid>:<hex>."),
    ] = None,
    person_id: Annotated[
        str | None,
        typer.Option(
            "--person-id",
            help="A resident ID number, or - to read it from standard input; it becomes "
            "this node's pseudonym and is never stored or printed.",
        ),
    ] = None,
    kind: Annotated[str | None, typer.Option(help="Only records of this kind.")] = None,
    decision_no: Annotated[
        str | None,
        typer.Option("--decision-no", help="A penalty's decision number (决定书文号)."),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only records logged on or after this day.")
    ] = None,
    all_: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Allow a search with no subject or decision number on a "
            "large log (it reads every entry).",
        ),
    ] = False,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List matching records of this node's log and its mirrors: origin, index, leaf
    hash, kind, issuer, day logged and status, found through the log's indexes.

    \b
    Example:
      credex records --subject 91330200MA0YX00163 --kind penalty.admin
    """
    from credex.node.local import LocalNode
    from credex.node.services.finding import RecordQuery, find_records

    if person_id == "-":  # keeps the number out of shell history
        person_id = sys.stdin.readline().strip()
    query = RecordQuery(
        subject=subject,
        person_id=person_id,
        kind=kind,
        decision_no=decision_no,
        since=None if since is None else day(since),
        all_=all_,
    )
    with LocalNode.open(resolve_home(home)) as node:
        found = find_records(node, query, now())
    if json_out:
        print_json(found.to_json())
    else:
        _print_list(found)


def _print_list(found: "RecordList") -> None:
    from credex.ledger.dates import cst_day

    for r in found.records:
        extra = f"  about {r.about.hex()[:16]}…" if r.about is not None else ""
        if r.decision_no is not None:
            extra += f"  decision {r.decision_no}"
        if not r.body_held:
            extra += "  (body not held here)"
        console.print(
            f"{r.origin} #{r.index}  {r.kind}  {r.state}  logged {cst_day(r.iat)}  "
            f"by {r.issuer}{extra}\n  leaf {r.leaf_hash.hex()}",
            markup=False,
        )
    logs = ", ".join(f"{o} ({s} entries)" for o, s in found.searched)
    n = len(found.records)
    console.print(f"{n} record{'' if n == 1 else 's'} in {logs}", markup=False)
    for note in found.notes:
        console.print(f"note: {note}", markup=False)


def _ref(text: str) -> int | bytes:
    """An index (decimal) or a leaf hash (64 hex characters)."""
    value = text.strip()
    if _INDEX_RE.match(value):
        return int(value)
    if _LEAF_RE.match(value):
        return bytes.fromhex(value)
    raise ConfigError(
        f"show: record: expected an index or a leaf hash of 64 hex characters, got {value[:70]!r}"
    )


def show(
    record: Annotated[str, typer.Argument(metavar="INDEX|LEAFHEX", help="Index or leaf hash.")],
    origin: Annotated[
        str | None,
        typer.Option(help="The log to look in: this node's origin or a followed peer's."),
    ] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Print one record in full: its fields, body (or why it is not here), status and
    lifecycle history. An index is this node's unless --origin names a mirrored peer.

    \b
    Example:
      credex show 24
    """
    from credex.node.local import LocalNode
    from credex.node.services.showing import show_record

    ref = _ref(record)
    with LocalNode.open(resolve_home(home)) as node:
        detail = show_record(node, ref, now(), origin=origin)
    if json_out:
        print_json(detail.to_json())
    else:
        _print_detail(detail)


def _line(label: str, value: object) -> None:
    console.print(f"  {label:<10} {value}", markup=False)


def _print_detail(d: "RecordDetail") -> None:
    import json

    from credex.ledger.dates import cst_day, cst_time
    from credex.ledger.lifecycle import Status
    from credex.ledger.record_json import json_value

    st = d.statement
    console.print(f"{st.kind}  {d.origin} #{d.index}", markup=False)
    _line("leaf", st.leaf_hash.hex())
    _line("issuer", st.claims.iss)
    _line("logged", cst_time(st.claims.iat))
    _line("subject", st.claims.sub)
    if st.has_body:
        rec = st.record
        until = "open" if rec.valid_until is None else cst_day(rec.valid_until)
        _line("region", rec.region)
        _line("valid", f"{cst_day(rec.valid_from)} to {until}")
        for ref in rec.refs:
            _line("ref", ref.hex())
        if d.decision_no is not None:
            _line("decision", d.decision_no)
        for name, value in sorted(json_value(rec.body).items()):
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            _line("body", f"{name}: {shown}")
    else:
        _line("body", d.body_note)
    if d.about is not None:
        _line("about", d.about.hex())
    if isinstance(d.status, Status):
        usable = ", ".join(
            f"{k} {'yes' if v else 'no'}" for k, v in sorted(d.status.usable_for.items())
        )
        _line("status", f"{d.status.state} as of {cst_day(d.status.as_of)} ({usable})")
        for reason in d.status.reasons:
            _line("reason", reason)
    elif d.status is not None:
        _line("status", d.status)
    for h in d.history:
        s = h.statement
        mark = "" if h.took_effect else "  (did not take effect)"
        _line(
            "history",
            f"{h.origin} #{h.index} {s.kind} by {s.claims.iss} on {cst_day(s.claims.iat)}"
            f"{mark}: {s.leaf_hash.hex()}",
        )


def register(app: typer.Typer) -> None:
    app.command("records")(records)
    app.command("show")(show)

"""Subject reports: ``credex report`` (a node compiles one; ``credex verify`` checks it)."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from credex.cli._common import HomeOpt, JsonOpt, console, day, now, print_json, resolve_home
from credex.ledger.errors import ConfigError

if TYPE_CHECKING:
    from credex.ledger.report_verify import CheckedReport

__all__ = ["print_checked_report", "register", "report_json"]


def report(
    subject: Annotated[
        str | None,
        typer.Argument(help="A USCC, a HK CR/BR number or a person pseudonym hmac:<keyid>:<hex>."),
    ] = None,
    out: Annotated[Path, typer.Option("-o", "--out", help="Write the report to this file.")] = Path(
        "subject.credex-report"
    ),
    person_id: Annotated[
        str | None,
        typer.Option(
            "--person-id",
            help="- to read a resident ID number from standard input; it is turned into the "
            "federation pseudonym at once and never stored or printed.",
        ),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Judge statuses on this day (default today).")
    ] = None,
    federation: Annotated[
        bool,
        typer.Option(
            "--federation",
            help="One part per member log: this node's and each log it mirrors, each with "
            "its own proof.",
        ),
    ] = False,
    pdf: Annotated[
        Path | None,
        typer.Option(
            "--pdf",
            help="Also print the 信用报告 to this PDF, with the QR code of its page (an "
            "organisation's report is then published on this node's public side).",
        ),
    ] = None,
    base_url: Annotated[
        str | None, typer.Option(help="Public base URL for --pdf's QR code (default: credex.toml).")
    ] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write a signed report on one subject: every record in force with its bundle, the
    records withheld and why (index and reason only), and the index proof that nothing
    else about the subject is in this log as of the checkpoint.

    \b
    Example:
      credex report 91330200MA2H2F1A1Q -o company.credex-report
      credex report 91330200MA2H2F1A1Q --federation -o company.credex-report
      credex verify company.credex-report --trust ningbo.trust.json
      credex report 91330200MA2H2F1A1Q -o company.credex-report --pdf 信用报告.pdf
    """
    import sys

    from credex.node.federation.holdings import Holdings
    from credex.node.pen import open_node
    from credex.node.services.lookup import resolve_subject
    from credex.node.services.reports import compile_report

    if person_id not in (None, "-"):
        raise ConfigError("report: --person-id takes only - (the number is read from stdin)")
    pid = sys.stdin.readline().strip() if person_id == "-" else ""
    t = now()
    when = t if as_of is None else day(as_of)
    with open_node(resolve_home(home)) as node:
        subj = resolve_subject(node, subject or "", pid)
        del pid
        holdings = Holdings.of(node) if federation else None
        rep = compile_report(node, subj.id, when, t, holdings=holdings)
    out.write_bytes(rep.to_bytes())
    url = None
    if pdf is not None:
        from credex.node.home import NodeHome
        from credex.node.services.report_pdf import print_report

        url = print_report(NodeHome.open(resolve_home(home)), rep.to_bytes(), pdf, base_url)
        if not json_out:
            console.print(f"wrote {pdf}" + ("" if url is None else f": {url}"), markup=False)
    counts = [(p.origin, len(p.bundles), len(p.entries)) for p in rep.parts]
    if json_out:
        print_json(
            {
                "subject": rep.subject,
                "file": str(out),
                "parts": [{"origin": o, "in_force": n, "entries": m} for o, n, m in counts],
                **({} if pdf is None else {"pdf": str(pdf), "url": url}),
            }
        )
        return
    for o, n, m in counts:
        console.print(
            f"wrote {out}: {rep.subject} in {o}: {n} in force of {m} entries", markup=False
        )


def report_json(checked: "CheckedReport") -> dict[str, object]:
    from credex.ledger.subject_report import reason_label

    return {
        "valid": True,
        "subject": checked.subject,
        "as_of": checked.as_of,
        "signed_by": checked.signed_by,
        "covered": [p.origin for p in checked.parts],
        "not_covered": list(checked.not_covered),
        "parts": [
            {
                "origin": p.origin,
                "size": p.size,
                "complete": True,
                "records": [
                    {
                        "index": r.index,
                        "kind": r.kind,
                        "issuer": r.issuer,
                        "valid_from": r.valid_from,
                        "status": r.status,
                    }
                    for r in p.records
                ],
                "withheld": [
                    {
                        "index": w.index,
                        "kind": w.kind,
                        "reason": w.state,
                        "proven": w.index in p.proven,
                        "shown": reason_label(w.state, w.index in p.proven),
                    }
                    for w in p.withheld
                ],
                "statements": p.statements,
            }
            for p in checked.parts
        ],
    }


def print_checked_report(checked: "CheckedReport") -> None:
    """The verified report as a table per log, and its completeness line."""
    from rich.table import Table

    from credex.ledger.dates import cst_day
    from credex.ledger.subject_report import reason_label

    console.print(
        f"report on {checked.subject} as of {cst_day(checked.as_of)}, signed by "
        f"{checked.signed_by}",
        markup=False,
    )
    for p in checked.parts:
        table = Table("index", "kind", "issuer", "date", "status", title=p.origin)
        for column in table.columns:
            column.overflow = "fold"
        table.columns[-1].no_wrap = True
        rows = [(r.index, r.kind, r.issuer, cst_day(r.valid_from), r.status) for r in p.records]
        rows += [(w.index, w.kind, "-", "-", f"withheld ({w.state})") for w in p.withheld]
        for index, *cells in sorted(rows):
            table.add_row(str(index), *cells)
        console.print(table)
        for w in p.withheld:
            shown = reason_label(w.state, w.index in p.proven)
            console.print(f"  #{w.index} reason: {shown}", markup=False)
        console.print(
            f"[bold green]complete[/] as of {p.origin} size {p.size}: {len(p.records)} in "
            f"force, {len(p.withheld)} withheld, {p.statements} statements about the subject",
            highlight=False,
        )
    covered = ", ".join(p.origin for p in checked.parts)
    console.print(f"covered: {covered}", markup=False)
    if checked.not_covered:
        console.print(
            f"[yellow]not covered[/]: {', '.join(checked.not_covered)} (trusted logs with "
            "no part in this report: nothing is proven about them)",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    app.command("report")(report)

"""``credex conflicts``: subjects whose records disagree across regions (issue #4 point 8).

Reads this node's own log and every peer mirror it holds (``--compare HOME`` adds the
views another node home on this machine holds) and prints the conflicts found by
``credex.node.services.conflicts.node_conflicts``: a table, or JSON with ``--json``.

``--as-of`` takes a day (YYYY-MM-DD, YYYYMMDD, ...: 00:00 CST) or Unix seconds (9+ digits).
``--json`` prints ``{"as_of", "conflicts": [{"type", "severity", "subject_id", "regions",
"views", "leaf_hashes", "reason"}], "views": [{"holder", "origin", "size"}], "compared",
"not_comparable", "notes"}``.

Exit codes: 0 no conflict, 1 conflicts found (or an operation failed), 2 usage or
configuration error. Output names kinds, regions, views, leaf hashes and subject
pseudonyms / organisation codes; never a record body or a raw personal identifier.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from credex.cli._common import (
    AsciiPositiveInt,
    HomeOpt,
    JsonOpt,
    console,
    now,
    print_json,
    resolve_home,
)

if TYPE_CHECKING:
    from credex.ledger.conflicts import ConflictReport, ConflictType
from credex.ledger.errors import FormatError

__all__ = ["conflicts", "register"]

#: ``credex.ledger.conflicts.CONFLICT_TYPES`` (a test keeps this in step)
CONFLICT_TYPE_NAMES = (
    "listed-red-and-black, red-list-vs-dishonest-debtor, red-list-vs-serious-penalty, "
    "repaired-but-used, stale-mirror, score-divergence"
)


def _as_of(text: str | None) -> int:
    from credex.ledger.dates import parse_time

    return now() if text is None else parse_time(text)


def _types(given: list[str] | None) -> "tuple[ConflictType, ...]":
    from credex.ledger.conflicts import CONFLICT_TYPES

    if not given:
        return CONFLICT_TYPES
    out: list[ConflictType] = []
    for t in given:
        match = next((c for c in CONFLICT_TYPES if c == t), None)
        if match is None:
            raise FormatError(
                f"conflicts: unknown type: expected one of {', '.join(CONFLICT_TYPES)}, got {t!r}"
            )
        out.append(match)
    return tuple(out)


def _subject(subject_id: str) -> str:
    """A person's pseudonym shortened for the table (the JSON keeps it whole)."""
    if subject_id.startswith("hmac:"):
        return subject_id[:26] + "…"
    return subject_id


def _json(report: "ConflictReport") -> dict[str, Any]:
    return {
        "as_of": report.as_of,
        "conflicts": [c.to_json_value() for c in report.conflicts],
        "views": [{"holder": v.holder, "origin": v.origin, "size": v.size} for v in report.views],
        "compared": report.compared,
        "not_comparable": report.not_comparable,
        "notes": list(report.notes),
    }


def _print(report: "ConflictReport") -> None:
    views = ", ".join(f"{v.label} ({v.size})" for v in report.views)
    console.print(f"views: {views}", markup=False)
    console.print(
        f"records compared: {report.compared}, not comparable: {report.not_comparable}",
        markup=False,
    )
    for note in report.notes:
        console.print(f"note: {note}", markup=False)
    if not report.conflicts:
        console.print("no conflicts", markup=False)
        return
    table = Table(title=f"{len(report.conflicts)} conflict(s)")
    table.add_column("#", justify="right")
    table.add_column("type", no_wrap=True)
    table.add_column("severity")
    table.add_column("reason", overflow="fold")
    for n, c in enumerate(report.conflicts, 1):
        table.add_row(str(n), c.type, c.severity, c.reason)
    console.print(table)
    for n, c in enumerate(report.conflicts, 1):
        leaves = " ".join(h[:16] + "…" for h in c.leaf_hashes)
        console.print(
            f"#{n} subject {_subject(c.subject_id)}; seen in {' / '.join(c.views)}; "
            f"leaves {leaves}",
            markup=False,
        )


def conflicts(
    home: HomeOpt = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Judge on this day (ISO date) or Unix time (default now)."),
    ] = None,
    type_: Annotated[
        list[str] | None,
        typer.Option("--type", help=f"Only these types (repeatable): {CONFLICT_TYPE_NAMES}."),
    ] = None,
    threshold: Annotated[
        int,
        typer.Option(
            "--threshold", help="Level gap for score-divergence.", parser=AsciiPositiveInt
        ),
    ] = 2,
    compare: Annotated[
        list[Path] | None,
        typer.Option("--compare", help="Also the views another node home holds (repeatable)."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Find subjects whose records disagree across regions; exit 1 if any are found.

    \b
    Example:
      credex conflicts --as-of 2026-06-04 --type listed-red-and-black
    """
    from credex.node.services.conflicts import node_conflicts

    report = node_conflicts(
        resolve_home(home),
        _as_of(as_of),
        types=_types(type_),
        score_threshold=threshold,
        compare=tuple(compare or ()),
    )
    if json_out:
        print_json(_json(report))
    else:
        _print(report)
    if report.conflicts:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("conflicts")(conflicts)

"""Credit commitments (核查—承诺—履约): ``credex commitments make|due|keep|breach``.

- ``make SUBJECT --type T --matter TEXT [--deadline DAY] [--gate NAME ...]``: every gate
  rule is checked first; a deny refuses with the rule's reason and logs nothing.
- ``due [--within 30d] [--as-of DAY]``: commitments whose deadline falls within the
  window (overdue ones too) and that have no outcome yet: the reminders.
- ``keep LEAFHEX`` / ``breach LEAFHEX [--on DAY]``: the outcome; a breach also logs the
  negative record (``commitment.breach``) linked to the commitment.

The rules are ``credex.node.services.commitments``; this module parses and prints.
"""

import re
from datetime import date
from typing import Annotated

import typer

from credex.cli._common import (
    HomeOpt,
    JsonOpt,
    console,
    day_opt,
    group,
    leaf_arg,
    now,
    print_json,
    resolve_home,
)
from credex.cli.rules_cmds import IssuerOpt, PersonOpt, SubjectArg, subject_of
from credex.ledger.errors import ConfigError

__all__ = ["commitments_app", "register"]

commitments_app = group("Credit commitments (信用承诺): check, commit, remind, keep or breach.")
TargetArg = Annotated[str, typer.Argument(help="Leaf hash (hex) of the commitment.")]
_WITHIN_RE = re.compile(r"^([0-9]{1,4})d?\Z", re.ASCII)


def _date(text: str | None) -> date | None:
    from credex.ledger.dates import parse_date

    return None if text is None else parse_date(text)


@commitments_app.command("make")
def make(
    subject: SubjectArg = None,
    type_: Annotated[
        str,
        typer.Option(
            "--type", help="容缺受理, 告知承诺, 信用修复型, 审批替代型, 主动公示型 or 行业自律型."
        ),
    ] = "",
    matter: Annotated[str, typer.Option(help="What is committed to (no personal data).")] = "",
    deadline: Annotated[str | None, typer.Option(help="The day it must be kept by.")] = None,
    gate: Annotated[
        list[str] | None,
        typer.Option(help="A purpose rule checked first (repeatable; default COMMITMENT_GATE)."),
    ] = None,
    person_id: PersonOpt = None,
    issuer: IssuerOpt = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Check the subject (核查), then log its commitment (承诺); refused: nothing logged.

    \b
    Example:
      credex commitments make 91330200MA2H3X1Y07 --type 容缺受理 --matter licence
    """
    from credex.node.local import LocalNode
    from credex.node.services.commitments import DEFAULT_GATES, make_commitment

    if not type_ or not matter:
        raise ConfigError("commitments make: --type and --matter are required")
    with LocalNode.open(resolve_home(home)) as node:
        subj = subject_of(node, subject, person_id)
        made = make_commitment(
            node,
            subj,
            commitment_type=type_,
            matter=matter,
            deadline=_date(deadline),
            gates=tuple(gate) if gate else DEFAULT_GATES,
            issuer_id=issuer,
            now=now(),
        )
    out = {
        **made.result.to_json(),
        "checks": [
            {
                "rule": d.prepared.rule.name,
                "result": d.prepared.result,
                "provenance": d.prepared.rule.provenance.grade,
                "decision": d.result.leaf_hash.hex(),
            }
            for d in made.decisions
        ],
    }
    if json_out:
        print_json(out)
        return
    for c in out["checks"]:
        console.print(f"checked {c['rule']}: {c['result']} [{c['provenance']}]", markup=False)
    r = made.result
    state = "logged" if r.is_new else "already logged"
    console.print(f"{state}: commitment at index {r.index} leaf {r.leaf_hash.hex()}")


@commitments_app.command("due")
def due_cmd(
    within: Annotated[str, typer.Option(help="Window, e.g. 30d (days).")] = "30d",
    as_of: Annotated[str | None, typer.Option("--as-of", help="Day (default: today).")] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Commitments due within the window, and overdue ones, without an outcome yet.

    \b
    Example:
      credex commitments due --within 30d
    """
    from credex.node.local import LocalNode
    from credex.node.services.commitments import due

    m = _WITHIN_RE.match(within.strip())
    if m is None:
        raise ConfigError(f"commitments due: --within: expected days such as 30d, got {within!r}")
    t = now()
    with LocalNode.open(resolve_home(home)) as node:
        found = due(node, as_of=day_opt(as_of, t) or t, within_days=int(m.group(1)))
    if json_out:
        print_json([d.to_json() for d in found])
        return
    console.print(f"{len(found)} commitments due within {m.group(1)} days", markup=False)
    for d in found:
        when = f"OVERDUE by {-d.days_left} days" if d.days_left < 0 else f"in {d.days_left} days"
        console.print(
            f"  {d.deadline} ({when}) {d.commitment_type} {d.subject}: {d.matter} "
            f"[index {d.index} leaf {d.leaf_hash.hex()[:16]}…]",
            markup=False,
        )


@commitments_app.command("keep")
def keep_cmd(target: TargetArg, home: HomeOpt = None, json_out: JsonOpt = False) -> None:
    """Log that the commitment was kept (履约).

    \b
    Example:
      credex commitments keep LEAFHEX
    """
    from credex.node.local import LocalNode
    from credex.node.services.commitments import keep

    with LocalNode.open(resolve_home(home)) as node:
        done = keep(node, leaf_arg(target, "commitment leaf hash"), now=now())
    r = done.result
    if json_out:
        print_json(r.to_json())
    else:
        console.print(f"logged: commitment kept at index {r.index} leaf {r.leaf_hash.hex()}")


@commitments_app.command("breach")
def breach_cmd(
    target: TargetArg,
    on: Annotated[str | None, typer.Option("--on", help="Day of the breach.")] = None,
    issuer: IssuerOpt = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Log the breach and the negative record its type prescribes, linked to it.

    \b
    Example:
      credex commitments breach LEAFHEX
    """
    from credex.node.local import LocalNode
    from credex.node.services.commitments import breach

    with LocalNode.open(resolve_home(home)) as node:
        done = breach(
            node,
            leaf_arg(target, "commitment leaf hash"),
            breached_on=_date(on),
            issuer_id=issuer,
            now=now(),
        )
    out = {"outcome": done.outcome.result.to_json(), "breach": done.record.to_json()}
    if json_out:
        print_json(out)
    else:
        console.print(
            f"logged: outcome BREACHED at index {done.outcome.result.index}; negative record "
            f"commitment.breach at index {done.record.index} leaf {done.record.leaf_hash.hex()}"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(commitments_app, name="commitments")

"""Rules (codes, grades, purpose rules): ``credex rule add``, ``credex evaluate``,
``credex check``.

- ``credex rule add FILE.json``: validate a rule (docs/rules.md) and sign + log it.
- ``credex evaluate SUBJECT --rule LEAFHEX|NAME [--as-of DAY] [-o FILE.credex]``: the
  code or grade with its evidence; logged as a ``derived.*`` record whose bundle any
  bank verifies offline (step 8 replays the evaluation).
- ``credex check SUBJECT --purpose NAME``: allow / deny (信用+) with the reason and
  evidence; the decision and an ``audit.check`` (who asked, rule, result) are logged.

Every printed result carries its provenance grade (``[published]``, ``[reported]``,
``[ILLUSTRATIVE]``). The rules are ``credex.node.services.rules``; this module parses
options and prints.
"""

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from credex.cli._common import (
    HomeOpt,
    JsonOpt,
    console,
    day_opt,
    group,
    now,
    print_json,
    read_input,
    resolve_home,
)
from credex.ledger.errors import ConfigError

if TYPE_CHECKING:
    from credex.ledger.record import Subject
    from credex.node.local import LocalNode
    from credex.node.services.rules import EvaluationResult

__all__ = ["PersonOpt", "SubjectArg", "register", "rule_app", "subject_of"]

rule_app = group("Rule policies: codes, grades and purpose rules (signed, logged data).")

SubjectArg = Annotated[
    str | None,
    typer.Argument(help="A USCC, a HK CR/BR number or a person pseudonym hmac:<keyid>:<hex>."),
]
PersonOpt = Annotated[
    str | None,
    typer.Option(
        "--person-id",
        help="A resident ID number, or - to read it from standard input (instead of "
        "SUBJECT); it is turned into the pseudonym and never stored or printed.",
    ),
]
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="Evaluate as of this day (default: now).")
]
OutOpt = Annotated[
    Path | None, typer.Option("-o", "--output", help="Write the .credex bundle here.")
]
IssuerOpt = Annotated[
    str | None, typer.Option("--issuer", help="Issuer id (default: the platform).")
]


def subject_of(node: "LocalNode", subject: str | None, person_id: str | None) -> "Subject":
    """The subject named by SUBJECT or --person-id (exactly one)."""
    from credex.node.services.lookup import resolve_subject

    if (subject is None) == (person_id is None):
        raise ConfigError("cli: give exactly one of SUBJECT and --person-id")
    pid = "" if person_id is None else person_id
    if pid == "-":  # keeps the number out of shell history
        pid = sys.stdin.readline().strip()
    return resolve_subject(node, subject or "", pid)


def _label(grade: Any) -> str:
    from credex.ledger.provenance import label

    return label(grade if isinstance(grade, str) else None)


def _show(done: "EvaluationResult", output: Path | None, json_out: bool) -> dict[str, Any]:
    from credex.ledger.dates import cst_time

    rec = done.prepared.record
    body = rec.body
    data = done.bundle.to_bytes()
    if output is not None:
        output.write_bytes(data)
    out: dict[str, Any] = {
        **done.result.to_json(),
        "subject": rec.subject.id,
        "rule": body["rule"],
        "rule_version": body["version"],
        "rule_leaf": done.prepared.rule_leaf.hex(),
        "result": body.get("grade", body.get("result")),
        "provenance": body["provenance"],
        "because": body["because"],
        "facts": dict(body["facts"]),
        "as_of": body["as_of"],
        "evidence": [f.evidence.leaf_hash.hex() for f in done.prepared.found],
    }
    if output is not None:
        out |= {"file": str(output), "bytes": len(data)}
    if json_out:
        return out
    scheme = body.get("scheme", body.get("purpose"))
    console.print(
        f"{scheme} for {rec.subject.id} as of {cst_time(body['as_of'])}: "
        f"{out['result']} {_label(body['provenance'])}",
        markup=False,
    )
    console.print(f"  because: {body['because']}", markup=False)
    facts = ", ".join(f"{k} {v}" for k, v in body["facts"].items()) or "none"
    console.print(f"  facts: {facts}", markup=False)
    console.print(
        f"  rule {body['rule']} v{body['version']}; {len(out['evidence'])} evidence record(s); "
        f"logged at index {done.result.index} leaf {done.result.leaf_hash.hex()}",
        markup=False,
    )
    if output is not None:
        console.print(f"  wrote {output} ({len(data)} bytes) with its evidence and rule")
    return out


@rule_app.command("add")
def rule_add(
    file: Annotated[Path, typer.Argument(help='Rule JSON: {"name", "version", "rules"}.')],
    issuer: IssuerOpt = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Validate a rule (total, known kinds and fields, no floats) and sign + log it.

    \b
    Example:
      credex rule add adapters/rules/huixin_code.json
    """
    from credex.node.local import LocalNode
    from credex.node.services.rules import add_rule, rule_file_value

    value = rule_file_value(read_input(file, "file", "rule"))
    with LocalNode.open(resolve_home(home)) as node:
        r = add_rule(node, value, issuer_id=issuer, now=now())
    grade = value["rules"]["provenance"]["grade"]
    out = {**r.to_json(), "name": value["name"], "version": value["version"], "provenance": grade}
    if json_out:
        print_json(out)
    else:
        state = "logged" if r.is_new else "already logged"
        console.print(
            f"{state}: rule {value['name']} v{value['version']} {_label(grade)} at index "
            f"{r.index} leaf {r.leaf_hash.hex()}",
            markup=False,
        )


def evaluate(
    subject: SubjectArg = None,
    rule: Annotated[
        str, typer.Option("--rule", help="The rule: its leaf hash (hex) or its name.")
    ] = "",
    person_id: PersonOpt = None,
    as_of: AsOfOpt = None,
    output: OutOpt = None,
    issuer: IssuerOpt = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Compute a code or grade under a logged rule; log it and print it with its evidence.

    \b
    Example:
      credex evaluate 91441300MA4W000000 --rule huixin-code -o code.credex
    """
    from credex.ledger.encoding import hex32
    from credex.ledger.errors import FormatError
    from credex.node.local import LocalNode
    from credex.node.services.rules import find_rule, log_evaluation, prepare_evaluation

    if not rule:
        raise ConfigError("evaluate: --rule is required (a leaf hash or a rule name)")
    t = now()
    with LocalNode.open(resolve_home(home)) as node:
        subj = subject_of(node, subject, person_id)
        try:
            leaf = hex32(rule, "--rule", "evaluate")
        except FormatError:
            leaf = find_rule(node, rule)[1].leaf_hash
        prepared = prepare_evaluation(node, subj, leaf, as_of=day_opt(as_of, t) or t, now=t)
        done = log_evaluation(node, prepared, issuer_id=issuer, now=t)
        out = _show(done, output, json_out)
    if json_out:
        print_json(out)


def check(
    subject: SubjectArg = None,
    purpose: Annotated[str, typer.Option("--purpose", help="The purpose rule's name.")] = "",
    person_id: PersonOpt = None,
    asker: Annotated[
        str, typer.Option("--asker", help="Who asks (a service or client name; logged).")
    ] = "operator",
    authorisation: Annotated[
        str | None, typer.Option(help="An application or consent reference (logged).")
    ] = None,
    as_of: AsOfOpt = None,
    output: OutOpt = None,
    issuer: IssuerOpt = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Answer allow or deny for a purpose (信用+) with reasons and evidence; the decision
    and an audit.check statement are logged. Exit code 1 on deny.

    \b
    Example:
      credex check 91330200MA2H3X1Y07 --purpose deposit-free --asker library-desk-3
    """
    from credex.node.local import LocalNode
    from credex.node.services.rules import check_purpose

    if not purpose:
        raise ConfigError("check: --purpose is required")
    t = now()
    with LocalNode.open(resolve_home(home)) as node:
        subj = subject_of(node, subject, person_id)
        done = check_purpose(
            node,
            subj,
            purpose,
            asker=asker,
            now=t,
            as_of=day_opt(as_of, None),
            authorisation=authorisation,
            issuer_id=issuer,
        )
        out = _show(done.decision, output, json_out)
    out["audit"] = done.audit.to_json()
    if json_out:
        print_json(out)
    else:
        console.print(
            f"  asked by {asker}; audit.check logged at index {done.audit.index}", markup=False
        )
    if out["result"] == "deny":
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(rule_app, name="rule")
    app.command("evaluate")(evaluate)
    app.command("check")(check)

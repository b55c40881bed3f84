"""Recognition and lifecycle commands: policy add, recognize, lifecycle ..., status.

- ``credex policy add FILE.json``: sign + log a conversion policy (scales embedded).
- ``credex recognize --bundle SOURCE --policy LEAFHEX -o OUT``: convert another
  region's verified record under a logged policy; OUT carries the source and policy.
- ``credex lifecycle repair|object|resolve|withdraw|outcome LEAFHEX ...``: a lifecycle
  statement about a logged (or, with ``--target-origin``, a peer's mirrored) record,
  checked (window, issuer or manifest delegation, open objection) before it is logged.
- ``credex lifecycle bundle INDEX -o FILE``: a bundle carrying the record's lifecycle
  statements, so ``credex verify --purpose ...`` can judge its status offline.
- ``credex status LEAFHEX [--as-of DATE]``: the status with its evidence.

The rules are ``credex.node.services.recognition`` and ``credex.node.services.lifecycle``;
this module parses options and prints.
"""

from datetime import date
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
    leaf_arg,
    now,
    print_json,
    read_input,
    resolve_home,
    trust_from,
    write_bundle,
)
from credex.ledger.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable

    from credex.node.local import IssueResult, LocalNode
    from credex.node.services.lifecycle import LifecycleResult

__all__ = ["lifecycle_app", "policy_app", "register"]

policy_app = group("Conversion policies (signed, logged data).")
lifecycle_app = group(
    "Lifecycle statements: repair, objection, resolution, withdrawal, commitment outcome."
)

IssuerOpt = Annotated[
    str | None, typer.Option("--issuer", help="Issuer id (default: the platform).")
]
OriginOpt = Annotated[
    str | None,
    typer.Option(
        "--target-origin",
        help="Log holding the record: this node's origin or a followed peer's "
        "(default: this node's log, then each peer mirror).",
    ),
]
TargetArg = Annotated[str, typer.Argument(help="Leaf hash (hex) of the record.")]
EraseOpt = Annotated[
    bool,
    typer.Option(
        "--erase-body",
        help="For a person's record: erase its off-log body now (the leaf and the tree "
        "stay; credex body purge does the same for every ended record).",
    ),
]
#: ``credex.ledger.lifecycle.OBJECTION_OUTCOMES`` (a test keeps this in step)
OBJECTION_OUTCOME_NAMES = "CORRECTED, UPHELD, REJECTED, UNDETERMINED"


def _date(text: str | None) -> date | None:
    from credex.ledger.dates import parse_date

    return None if text is None else parse_date(text)


def _print_result(r: "IssueResult", json_out: bool, extra: dict[str, Any] | None = None) -> None:
    out = {**r.to_json(), **(extra or {})}
    if json_out:
        print_json(out)
    else:
        state = "logged" if r.is_new else "already logged"
        console.print(f"{state}: {r.kind} at index {r.index} leaf {r.leaf_hash.hex()}")
        if out.get("body_erased"):
            console.print("  the record's off-log body is erased (the leaf stays in the log)")


def _act(
    home: Path | None,
    target: str,
    json_out: bool,
    act: "Callable[[LocalNode, bytes, int], LifecycleResult]",
) -> None:
    """Log one lifecycle statement about ``target`` (``act``) and print the result."""
    from credex.node.pen import open_node

    leaf = leaf_arg(target, "target leaf hash")
    with open_node(resolve_home(home)) as node:
        done = act(node, leaf, now())
    _print_lifecycle(done, json_out)


def _print_lifecycle(done: "LifecycleResult", json_out: bool) -> None:
    extra: dict[str, Any] = {"target": done.target.hex()}
    if done.body_erased is not None:
        extra["body_erased"] = done.body_erased
    _print_result(done.result, json_out, extra)


# --- policies -----------------------------------------------------------------------


@policy_app.command("add")
def policy_add(
    file: Annotated[
        Path | None, typer.Argument(help='Policy JSON: {"name", "version", "rules"}.')
    ] = None,
    builtin: Annotated[
        str | None,
        typer.Option(help="A policy shipped with credex instead of FILE (see --list)."),
    ] = None,
    list_builtin: Annotated[
        bool, typer.Option("--list", help="List the shipped policies and exit.")
    ] = False,
    issuer: IssuerOpt = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Validate a conversion policy (FILE or --builtin NAME) and sign + log it; prints
    its leaf hash and index.

    \b
    Example:
      credex policy add adapters/policies/tianyi_to_qianjiang.json
    """
    from credex.node.services.recognition import (
        add_policy,
        builtin_policies,
        builtin_policy,
        policy_file_value,
    )

    if list_builtin:
        names = builtin_policies()
        if json_out:
            print_json(names)
        else:
            console.print("\n".join(names), markup=False)
        return
    if (file is None) == (builtin is None):
        raise ConfigError("policy add: give FILE or --builtin NAME (credex policy add --list)")
    from credex.node.pen import open_node

    if builtin is not None:
        data = builtin_policy(builtin)
    else:
        assert file is not None
        data = read_input(file, "file", "policy")
    value = policy_file_value(data)
    with open_node(resolve_home(home)) as node:
        r = add_policy(node, value, issuer_id=issuer, now=now())
    _print_result(r, json_out, {"name": value["name"], "version": value["version"]})


# --- recognition --------------------------------------------------------------------


def recognize_cmd(
    bundle: Annotated[Path, typer.Option("--bundle", help="The source .credex bundle.")],
    policy: Annotated[str, typer.Option("--policy", help="Leaf hash (hex) of the policy.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The .credex file to write.")],
    issuer: IssuerOpt = None,
    trust: Annotated[
        Path | None,
        typer.Option(
            help="Trust for the source bundle: a trust file or federation manifest "
            "chain (default: this node's manifest, else its own trust)."
        ),
    ] = None,
    pin: PinOpt = None,
    wait: WaitOpt = 0.0,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Convert a verified source record under a logged policy and write the bundle (with
    its source and policy; --wait: on a checkpoint the witnesses have cosigned).

    \b
    Example:
      credex recognize --bundle ningbo-score.credex --policy LEAFHEX -o derived.credex \\
        --trust yangtze.manifest
    """
    from credex.ledger.provenance import label
    from credex.ledger.statement import Statement
    from credex.node.federation.holdings import handout
    from credex.node.federation.members import federation_manifest
    from credex.node.pen import open_node
    from credex.node.services.recognition import recognize

    policy_leaf = leaf_arg(policy, "policy leaf hash")
    data = read_input(bundle, "bundle", "recognize")
    with open_node(resolve_home(home)) as node:
        trust_policy = (
            trust_from(trust, pin, "recognize")
            if trust is not None
            else federation_manifest(node.home) or node.home.trust()
        )
        t = now()
        rec = recognize(node, data, policy_leaf, trust_policy, issuer_id=issuer, now=t)
        h = handout(node, rec.result.index, t, wait_s=wait, with_body=True)
    r = rec.result
    body = Statement.from_bytes(rec.bundle.statement, rec.bundle.preimage).record.body
    grade = body.get("provenance")
    if json_out:
        out = h.bundle.to_bytes()
        output.write_bytes(out)
        quorum = None
        if h.quorum is not None:
            quorum = {"k": h.quorum, "met": h.quorum_met, "waited_s": round(h.waited, 1)}
        print_json(
            {
                **r.to_json(),
                "source": rec.source.leaf_hash.hex(),
                "policy": rec.policy.leaf_hash.hex(),
                "provenance": grade,
                "file": str(output),
                "bytes": len(out),
                "quorum": quorum,
            }
        )
        return
    state = "logged" if r.is_new else "already logged"
    console.print(f"{state}: {r.kind} at index {r.index} leaf {r.leaf_hash.hex()} {label(grade)}")
    write_bundle(output, h.bundle, r.index, json_out, h)


# --- lifecycle ----------------------------------------------------------------------


@lifecycle_app.command("repair")
def repair(
    target: TargetArg,
    route: Annotated[str, typer.Option(help="The repair route, e.g. 'fine paid'.")],
    decided_on: Annotated[
        str | None, typer.Option("--decided-on", help="Decision day (default today).")
    ] = None,
    channel: Annotated[str | None, typer.Option(help="Where it was applied for.")] = None,
    target_origin: OriginOpt = None,
    issuer: IssuerOpt = None,
    erase_body: EraseOpt = False,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Record a credit repair (信用修复); refused before the minimum publication end
    or by an issuer other than the one that made the finding.

    \b
    Example:
      credex lifecycle repair LEAFHEX --route "fine paid, commitment signed"
    """
    from credex.node.services.lifecycle import repair

    def act(node: "LocalNode", leaf: bytes, t: int) -> "LifecycleResult":
        return repair(
            node,
            leaf,
            route=route,
            decided_on=_date(decided_on),
            channel=channel,
            issuer_id=issuer,
            target_origin=target_origin,
            erase_body=erase_body,
            now=t,
        )

    _act(home, target, json_out, act)


@lifecycle_app.command("object")
def object_(
    target: TargetArg,
    raised_on: Annotated[
        str | None, typer.Option("--raised-on", help="Day raised (default today).")
    ] = None,
    grounds: Annotated[str | None, typer.Option(help="Grounds of the objection.")] = None,
    due_by: Annotated[str | None, typer.Option("--due-by", help="Answer due by.")] = None,
    rule: Annotated[
        str | None,
        typer.Option(
            "--rule",
            help="Compute --due-by from a time-limit rule: gz-public-credit (14 working days), "
            "credit-reporting-art25 (20 days), nantong-public-credit (20 working days).",
        ),
    ] = None,
    filed_by: Annotated[
        str | None,
        typer.Option("--filed-by", help="Who filed it: subject (the record's subject), or a body."),
    ] = None,
    channel: Annotated[
        str | None, typer.Option(help="Where it was filed (e.g. this node, 信用中国).")
    ] = None,
    target_origin: OriginOpt = None,
    issuer: IssuerOpt = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Open an objection (异议): the record is suspended while it is checked. A subject
    may file through any node (--filed-by subject, --target-origin for a peer's record);
    --rule sets the answer deadline in working days (public holidays as data).

    \b
    Example:
      credex lifecycle object LEAFHEX --raised-on 2026-11-02
    """
    from credex.node.services.lifecycle import raise_objection

    def act(node: "LocalNode", leaf: bytes, t: int) -> "LifecycleResult":
        return raise_objection(
            node,
            leaf,
            raised_on=_date(raised_on),
            grounds=grounds,
            due_by=_date(due_by),
            rule=rule,
            filed_by=filed_by,
            channel=channel,
            issuer_id=issuer,
            target_origin=target_origin,
            now=t,
        )

    _act(home, target, json_out, act)


@lifecycle_app.command("resolve")
def resolve(
    target: TargetArg,
    outcome: Annotated[str, typer.Option(help=f"One of {OBJECTION_OUTCOME_NAMES}.")],
    closed_on: Annotated[
        str | None, typer.Option("--closed-on", help="Day closed (default today).")
    ] = None,
    objection: Annotated[
        str | None,
        typer.Option(help="Leaf hash of the objection closed (default: the oldest open)."),
    ] = None,
    target_origin: OriginOpt = None,
    issuer: IssuerOpt = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Resolve an open objection.

    \b
    Example:
      credex lifecycle resolve LEAFHEX --outcome UPHELD --closed-on 2026-11-10
    """
    from credex.node.services.lifecycle import resolve_objection

    closes = None if objection is None else leaf_arg(objection, "objection leaf hash")

    def act(node: "LocalNode", leaf: bytes, t: int) -> "LifecycleResult":
        return resolve_objection(
            node,
            leaf,
            outcome=outcome,
            closed_on=_date(closed_on),
            objection=closes,
            issuer_id=issuer,
            target_origin=target_origin,
            now=t,
        )

    _act(home, target, json_out, act)


@lifecycle_app.command("withdraw")
def withdraw(
    target: TargetArg,
    reason: Annotated[str, typer.Option(help="Why the record is withdrawn.")],
    on: Annotated[str | None, typer.Option("--on", help="Day withdrawn (default today).")] = None,
    target_origin: OriginOpt = None,
    issuer: IssuerOpt = None,
    erase_body: EraseOpt = False,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Withdraw a record (only its issuer may).

    \b
    Example:
      credex lifecycle withdraw LEAFHEX --reason "entered in error"
    """
    from credex.node.services.lifecycle import withdraw

    def act(node: "LocalNode", leaf: bytes, t: int) -> "LifecycleResult":
        return withdraw(
            node,
            leaf,
            reason=reason,
            on=_date(on),
            issuer_id=issuer,
            target_origin=target_origin,
            erase_body=erase_body,
            now=t,
        )

    _act(home, target, json_out, act)


@lifecycle_app.command("outcome")
def outcome_cmd(
    target: Annotated[str, typer.Argument(help="Leaf hash (hex) of the commitment record.")],
    outcome: Annotated[
        str, typer.Option(help="FULFILLED (logged as KEPT) or BREACHED.", show_default=False)
    ],
    verified_on: Annotated[
        str | None, typer.Option("--verified-on", help="Day verified (default today).")
    ] = None,
    verified_by: Annotated[
        str | None, typer.Option("--verified-by", help="Who checked it (optional text).")
    ] = None,
    target_origin: OriginOpt = None,
    issuer: IssuerOpt = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Record whether a credit commitment (信用承诺) was kept: commitment.outcome. Only
    the commitment's issuer (or one the manifest delegates) may; the first outcome counts.

    \b
    Example:
      credex lifecycle outcome LEAFHEX --outcome FULFILLED --verified-on 2026-12-01
    """
    from credex.node.services.lifecycle import record_outcome

    def act(node: "LocalNode", leaf: bytes, t: int) -> "LifecycleResult":
        return record_outcome(
            node,
            leaf,
            outcome=outcome,
            verified_on=_date(verified_on),
            verified_by=verified_by,
            issuer_id=issuer,
            target_origin=target_origin,
            now=t,
        )

    _act(home, target, json_out, act)


@lifecycle_app.command("bundle")
def lifecycle_bundle(
    index: Annotated[int, typer.Argument(help="0-based leaf index.", parser=AsciiInt)],
    output: Annotated[Path, typer.Option("-o", "--output", help="The .credex file to write.")],
    wait: WaitOpt = 0.0,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write a bundle for entry INDEX carrying every lifecycle statement about it that
    this node holds (its log and its mirrors), so verify --purpose judges its status.

    \b
    Example:
      credex lifecycle bundle 24 -o record.credex
    """
    from credex.node.federation.holdings import handout
    from credex.node.pen import open_node

    with open_node(resolve_home(home)) as node:
        h = handout(node, index, now(), fresh=True, wait_s=wait, with_body=True)
    write_bundle(output, h.bundle, index, json_out, h)


# --- status -------------------------------------------------------------------------


def status(
    target: TargetArg,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Judge the status on this day (default now).")
    ] = None,
    target_origin: OriginOpt = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Show a record's status (active, under objection, repaired, ...) with evidence
    and, for a commitment, its outcome.

    \b
    Example:
      credex status LEAFHEX --as-of 2026-11-23
    """
    from credex.ledger.dates import cst_day
    from credex.node.pen import open_node
    from credex.node.services.lifecycle import status_of

    leaf = leaf_arg(target, "target leaf hash")
    when = now() if as_of is None else day(as_of)
    with open_node(resolve_home(home)) as node:
        stmt, st = status_of(node, leaf, when, target_origin=target_origin)
    if json_out:
        print_json({"leaf_hash": leaf.hex(), "kind": stmt.kind, **st.to_json()})
        return
    usable = ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in sorted(st.usable_for.items()))
    console.print(f"{stmt.kind} {leaf.hex()}", markup=False)
    console.print(f"  state     {st.state} as of {cst_day(st.as_of)}", markup=False)
    console.print(f"  usable    {usable}", markup=False)
    if st.outcome is not None:
        shown = "FULFILLED (KEPT)" if st.outcome == "KEPT" else st.outcome
        console.print(f"  outcome   {shown}", markup=False)
    for r in st.reasons:
        console.print(f"  reason    {r}", markup=False)
    for e in st.evidence:
        console.print(f"  evidence  {e}", markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(policy_app, name="policy")
    app.command("recognize")(recognize_cmd)
    app.add_typer(lifecycle_app, name="lifecycle")
    app.command("status")(status)

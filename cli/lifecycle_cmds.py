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

The node-side logic is ``credex.node.services.recognition``; this module parses and prints.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from credex.cli._common import HomeOpt, JsonOpt, console, now, print_json, resolve_home
from credex.cli.proof_cmds import _load_trust
from credex.ledger.dates import CST, date_to_unix, parse_date
from credex.ledger.errors import ConfigError, FormatError
from credex.ledger.lifecycle import Status
from credex.node.local import IssueResult, LocalNode
from credex.node.services.erasure import erase_if_ended
from credex.node.services.recognition import add_lifecycle, add_policy, recognize, status_of

__all__ = ["lifecycle_app", "policy_app", "register"]

policy_app = typer.Typer(help="Conversion policies (signed, logged data).", no_args_is_help=True)
lifecycle_app = typer.Typer(
    help="Lifecycle statements: repair, objection, resolution, withdrawal, commitment outcome.",
    no_args_is_help=True,
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
OUTCOMES = ("CORRECTED", "UPHELD", "REJECTED", "UNDETERMINED")
#: commitment outcomes as typed -> as logged (ledger/lifecycle.py: KEPT / BREACHED)
COMMITMENT_OUTCOMES = {"FULFILLED": "KEPT", "KEPT": "KEPT", "BREACHED": "BREACHED"}


def _leaf(text: str, what: str = "leaf hash") -> bytes:
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise FormatError(f"cli: {what} must be 64 hex characters, got {text!r}")
    return raw


def _iso(text: str) -> str:
    return parse_date(text).isoformat()


def _today(t: int) -> str:
    return datetime.fromtimestamp(t, CST).date().isoformat()


def _print_result(r: IssueResult, json_out: bool, extra: dict[str, Any] | None = None) -> None:
    out = {
        "index": r.index,
        "leaf_hash": r.leaf_hash.hex(),
        "new": r.is_new,
        "kind": r.kind,
        **(extra or {}),
    }
    if json_out:
        print_json(out)
    else:
        state = "logged" if r.is_new else "already logged"
        console.print(f"{state}: {r.kind} at index {r.index} leaf {r.leaf_hash.hex()}")
        if out.get("body_erased"):
            console.print("  the record's off-log body is erased (the leaf stays in the log)")


# --- policies -----------------------------------------------------------------------


@policy_app.command("add")
def policy_add(
    file: Annotated[Path, typer.Argument(help='Policy JSON: {"name", "version", "rules"}.')],
    issuer: IssuerOpt = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Validate a conversion policy and sign + log it; prints its leaf hash and index."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise ConfigError(f"policy: file not found: {file}") from e
    except UnicodeDecodeError as e:
        raise FormatError(f"policy: file is not utf-8: {file}") from e
    try:
        value = json.loads(text)
    except ValueError as e:
        raise FormatError(f"policy: file is not valid json: {file}") from e
    with LocalNode.open(resolve_home(home)) as node:
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
            "chain (default: this node's trust)."
        ),
    ] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Convert a verified source record under a logged policy and write the bundle."""
    policy_leaf = _leaf(policy, "policy leaf hash")
    try:
        data = bundle.read_bytes()
    except FileNotFoundError as e:
        raise ConfigError(f"recognize: bundle not found: {bundle}") from e
    with LocalNode.open(resolve_home(home)) as node:
        trust_policy = _load_trust(trust) if trust is not None else node.home.trust()
        rec = recognize(node, data, policy_leaf, trust_policy, issuer_id=issuer, now=now())
    out = rec.bundle.to_bytes()
    output.write_bytes(out)
    r = rec.result
    if json_out:
        print_json(
            {
                "index": r.index,
                "leaf_hash": r.leaf_hash.hex(),
                "new": r.is_new,
                "kind": r.kind,
                "source": rec.source.leaf_hash.hex(),
                "policy": rec.policy.leaf_hash.hex(),
                "file": str(output),
                "bytes": len(out),
            }
        )
    else:
        state = "logged" if r.is_new else "already logged"
        console.print(f"{state}: {r.kind} at index {r.index} leaf {r.leaf_hash.hex()}")
        console.print(f"wrote {output} ({len(out)} bytes) with its source and policy")


# --- lifecycle ----------------------------------------------------------------------


EraseOpt = Annotated[
    bool,
    typer.Option(
        "--erase-body",
        help="For a person's record: erase its off-log body now (the leaf and the tree "
        "stay; credex body purge does the same for every ended record).",
    ),
]


def _lifecycle(
    home: Path | None,
    target: str,
    kind: str,
    body: dict[str, Any],
    issuer: str | None,
    json_out: bool,
    extra_refs: tuple[bytes, ...] = (),
    target_origin: str | None = None,
    erase_body: bool = False,
) -> None:
    leaf = _leaf(target, "target leaf hash")
    extra: dict[str, Any] = {"target": leaf.hex()}
    with LocalNode.open(resolve_home(home)) as node:
        t = now()
        r = add_lifecycle(
            node,
            leaf,
            kind,
            body,
            extra_refs=extra_refs,
            issuer_id=issuer,
            target_origin=target_origin,
            now=t,
        )
        if erase_body:
            info = erase_if_ended(node, leaf, t)
            extra["body_erased"] = info is not None and not info.held
    _print_result(r, json_out, extra)


@lifecycle_app.command("repair")
def repair(
    target: Annotated[str, typer.Argument(help="Leaf hash (hex) of the record.")],
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
    or by an issuer other than the one that made the finding."""
    body: dict[str, Any] = {"route": route, "decided_on": _iso(decided_on or _today(now()))}
    if channel is not None:
        body["channel"] = channel
    _lifecycle(
        home, target, "lifecycle.repair", body, issuer, json_out, (), target_origin, erase_body
    )


@lifecycle_app.command("object")
def object_(
    target: Annotated[str, typer.Argument(help="Leaf hash (hex) of the record.")],
    raised_on: Annotated[
        str | None, typer.Option("--raised-on", help="Day raised (default today).")
    ] = None,
    grounds: Annotated[str | None, typer.Option(help="Grounds of the objection.")] = None,
    due_by: Annotated[str | None, typer.Option("--due-by", help="Answer due by.")] = None,
    target_origin: OriginOpt = None,
    issuer: IssuerOpt = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Open an objection (异议): the record is suspended while it is checked."""
    body: dict[str, Any] = {"raised_on": _iso(raised_on or _today(now()))}
    if grounds is not None:
        body["grounds"] = grounds
    if due_by is not None:
        body["due_by"] = _iso(due_by)
    _lifecycle(home, target, "lifecycle.objection", body, issuer, json_out, (), target_origin)


@lifecycle_app.command("resolve")
def resolve(
    target: Annotated[str, typer.Argument(help="Leaf hash (hex) of the record.")],
    outcome: Annotated[str, typer.Option(help=f"One of {', '.join(OUTCOMES)}.")],
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
    """Resolve an open objection."""
    body = {"outcome": outcome.upper(), "closed_on": _iso(closed_on or _today(now()))}
    refs = () if objection is None else (_leaf(objection, "objection leaf hash"),)
    _lifecycle(
        home, target, "lifecycle.objection-resolved", body, issuer, json_out, refs, target_origin
    )


@lifecycle_app.command("withdraw")
def withdraw(
    target: Annotated[str, typer.Argument(help="Leaf hash (hex) of the record.")],
    reason: Annotated[str, typer.Option(help="Why the record is withdrawn.")],
    on: Annotated[str | None, typer.Option("--on", help="Day withdrawn (default today).")] = None,
    target_origin: OriginOpt = None,
    issuer: IssuerOpt = None,
    erase_body: EraseOpt = False,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Withdraw a record (only its issuer may)."""
    body = {"reason": reason, "withdrawn_on": _iso(on or _today(now()))}
    _lifecycle(
        home, target, "lifecycle.withdrawal", body, issuer, json_out, (), target_origin, erase_body
    )


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
    the commitment's issuer (or one the manifest delegates) may; the first outcome counts."""
    value = COMMITMENT_OUTCOMES.get(outcome.strip().upper())
    if value is None:
        raise FormatError(
            f"cli: commitment outcome: expected FULFILLED or BREACHED, got {outcome!r}"
        )
    body: dict[str, Any] = {
        "outcome": value,
        "verified_on": _iso(verified_on or _today(now())),
    }
    if verified_by is not None:
        body["verified_by"] = verified_by
    _lifecycle(home, target, "commitment.outcome", body, issuer, json_out, (), target_origin)


@lifecycle_app.command("bundle")
def lifecycle_bundle(
    index: Annotated[int, typer.Argument(help="0-based leaf index.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The .credex file to write.")],
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write a bundle for entry INDEX carrying its lifecycle statements (status)."""
    with LocalNode.open(resolve_home(home)) as node:
        b = node.bundle_with_status(index, now())
    data = b.to_bytes()
    output.write_bytes(data)
    if json_out:
        print_json(
            {"file": str(output), "bytes": len(data), "leaf_index": index, "status": len(b.status)}
        )
    else:
        console.print(
            f"wrote {output} ({len(data)} bytes) for entry {index} "
            f"with {len(b.status)} lifecycle statements"
        )


# --- status -------------------------------------------------------------------------


def _status_json(leaf: bytes, kind: str, st: Status) -> dict[str, Any]:
    w = st.window
    return {
        "leaf_hash": leaf.hex(),
        "kind": kind,
        "state": st.state,
        "as_of": st.as_of,
        "usable_for": dict(st.usable_for),
        "reasons": list(st.reasons),
        "evidence": list(st.evidence),
        "outcome": st.outcome,
        "window": None
        if w is None
        else {
            "min_until": w.min_until,
            "max_until": w.max_until,
            "regime": None if w.regime is None else str(w.regime),
            "severity": w.severity,
            "reason": w.reason,
        },
    }


def status(
    target: Annotated[str, typer.Argument(help="Leaf hash (hex) of the record.")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Judge the status on this day (default now).")
    ] = None,
    target_origin: OriginOpt = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Show a record's status (active, under objection, repaired, ...) with evidence
    and, for a commitment, its outcome."""
    leaf = _leaf(target, "target leaf hash")
    when = now() if as_of is None else date_to_unix(parse_date(as_of))
    with LocalNode.open(resolve_home(home)) as node:
        stmt, st = status_of(node, leaf, when, target_origin=target_origin)
    out = _status_json(leaf, stmt.kind, st)
    if json_out:
        print_json(out)
        return
    usable = ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in sorted(st.usable_for.items()))
    console.print(f"{stmt.kind} {leaf.hex()}", markup=False)
    console.print(f"  state     {st.state} as of {_today(st.as_of)}", markup=False)
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

"""Off-log bodies of personal records: ``credex body list|erase|purge``.

A record about a person is logged as a hash envelope; its body is kept by the node
(``credex.node.services.erasure``). These commands count, erase one, or erase every body whose
record has ended (repaired, withdrawn, publication window expired). Each erasure shows
the tree before and after: the log is never touched. Nothing here prints a body.
"""

from __future__ import annotations

from typing import Annotated

import typer

from credex.cli._common import HomeOpt, JsonOpt, console, now, print_json, resolve_home
from credex.ledger.dates import date_to_unix, parse_date
from credex.ledger.errors import FormatError
from credex.ledger.storage.bodies import ERASE_REASONS
from credex.node.local import LocalNode
from credex.node.services.erasure import purge_ended

__all__ = ["body_app", "register"]

body_app = typer.Typer(
    help="Off-log bodies of personal records (hash envelopes): list, erase, purge.",
    no_args_is_help=True,
)


def _leaf(text: str) -> bytes:
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise FormatError(f"cli: leaf hash must be 64 hex characters, got {text!r}")
    return raw


def _tree(node: LocalNode) -> dict[str, object]:
    size = node.log.size
    return {"size": size, "root": node.log.root(size).hex()}


def _print_tree(before: dict[str, object], after: dict[str, object]) -> None:
    same = "unchanged" if before == after else "CHANGED"
    console.print(
        f"tree {same}: size {before['size']} root {before['root']} -> "
        f"size {after['size']} root {after['root']}",
        markup=False,
    )


@body_app.command("list")
def list_cmd(home: HomeOpt = None, json_out: JsonOpt = False) -> None:
    """Count the bodies this node holds and has erased (never their content)."""
    with LocalNode.open(resolve_home(home)) as node:
        counts = node.bodies.counts()
        tree = _tree(node)
    if json_out:
        print_json({"held": counts.held, "erased": counts.erased, "tree": tree})
        return
    console.print(f"bodies held {counts.held}, erased {counts.erased}", markup=False)


@body_app.command("erase")
def erase_cmd(
    leaf: Annotated[str, typer.Argument(help="Leaf hash (hex) of the enveloped record.")],
    reason: Annotated[
        str,
        typer.Option("--reason", help=f"Why: {', '.join(ERASE_REASONS)}.", show_default=False),
    ],
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Erase one record's body; the leaf and the tree stay as they are."""
    leaf_hash = _leaf(leaf)
    with LocalNode.open(resolve_home(home)) as node:
        before = _tree(node)
        node.log.index_of(leaf_hash)  # NotFoundError for a leaf not in this log
        info = node.bodies.erase(leaf_hash, reason, now())
        after = _tree(node)
    out = {
        "leaf_hash": leaf_hash.hex(),
        "erased_at": info.erased_at,
        "reason": info.erase_reason,
        "tree_before": before,
        "tree_after": after,
    }
    if json_out:
        print_json(out)
        return
    console.print(f"erased body of {leaf_hash.hex()} ({info.erase_reason})", markup=False)
    _print_tree(before, after)


@body_app.command("purge")
def purge_cmd(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Judge each record's status on this day (default now)."),
    ] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Erase the body of every record that is repaired, withdrawn or expired."""
    when = now() if as_of is None else date_to_unix(parse_date(as_of))
    with LocalNode.open(resolve_home(home)) as node:
        before = _tree(node)
        r = purge_ended(node, when)
        after = _tree(node)
    out = {
        "as_of": when,
        "checked": r.checked,
        "erased": r.erased,
        "erased_total": sum(r.erased.values()),
        "kept": r.kept,
        "undetermined": r.undetermined,
        "orphans": r.orphans,
        "tree_before": before,
        "tree_after": after,
    }
    if json_out:
        print_json(out)
        return
    per = ", ".join(f"{k} {v}" for k, v in sorted(r.erased.items())) or "none"
    console.print(
        f"checked {r.checked} bodies: erased {out['erased_total']} ({per}), kept {r.kept}, "
        f"undetermined {r.undetermined}",
        markup=False,
    )
    _print_tree(before, after)


def register(app: typer.Typer) -> None:
    app.add_typer(body_app, name="body")

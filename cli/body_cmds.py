"""Off-log bodies of personal records: ``credex body list|erase|purge``.

A record about a person is logged as a hash envelope; its body is kept by the node
(``credex.node.services.erasure``). These commands count, erase one, or erase every
body whose record has ended (repaired, withdrawn, publication window expired). Each erasure shows
the tree before and after: the log is never touched. Nothing here prints a body.
"""

from typing import Annotated

import typer

from credex.cli._common import (
    HomeOpt,
    JsonOpt,
    console,
    day,
    group,
    leaf_arg,
    now,
    print_json,
    resolve_home,
)

__all__ = ["body_app", "register"]

#: ``credex.ledger.storage.bodies.ERASE_REASONS`` (a test keeps this in step)
ERASE_REASON_NAMES = "repaired, window-ended, withdrawn, request"

body_app = group("Off-log bodies of personal records (hash envelopes): list, erase, purge.")


def _print_tree(before: dict[str, object], after: dict[str, object]) -> None:
    same = "unchanged" if before == after else "CHANGED"
    console.print(
        f"tree {same}: size {before['size']} root {before['root']} -> "
        f"size {after['size']} root {after['root']}",
        markup=False,
    )


@body_app.command("list")
def list_cmd(home: HomeOpt = None, json_out: JsonOpt = False) -> None:
    """Count the bodies this node holds and has erased (never their content).

    \b
    Example:
      credex body list
    """
    from credex.node.pen import open_node
    from credex.node.services.erasure import tree_head

    with open_node(resolve_home(home)) as node:
        counts = node.bodies.counts()
        tree = tree_head(node)
    if json_out:
        print_json({"held": counts.held, "erased": counts.erased, "tree": tree})
        return
    console.print(f"bodies held {counts.held}, erased {counts.erased}", markup=False)


@body_app.command("erase")
def erase_cmd(
    leaf: Annotated[str, typer.Argument(help="Leaf hash (hex) of the enveloped record.")],
    reason: Annotated[
        str,
        typer.Option("--reason", help=f"Why: {ERASE_REASON_NAMES}.", show_default=False),
    ],
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Erase one record's body; the leaf and the tree stay as they are.

    \b
    Example:
      credex body erase LEAFHEX --reason repaired
    """
    from credex.node.pen import open_node
    from credex.node.services.erasure import erase_body

    leaf_hash = leaf_arg(leaf)
    with open_node(resolve_home(home)) as node:
        done = erase_body(node, leaf_hash, reason, now())
    if json_out:
        print_json(done.to_json())
        return
    console.print(f"erased body of {leaf_hash.hex()} ({done.info.erase_reason})", markup=False)
    _print_tree(done.tree_before, done.tree_after)


@body_app.command("purge")
def purge_cmd(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Judge each record's status on this day (default now)."),
    ] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Erase the body of every record that is repaired, withdrawn or expired.

    \b
    Example:
      credex body purge --as-of 2026-12-01
    """
    from credex.node.pen import open_node
    from credex.node.services.erasure import purge

    when = now() if as_of is None else day(as_of)
    with open_node(resolve_home(home)) as node:
        r, before, after = purge(node, when)
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

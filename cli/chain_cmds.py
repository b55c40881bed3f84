"""The federation manifest chain as a file and on screen: ``credex federation show``,
``export``, ``import`` and ``verify`` (registered on the ``federation`` group by
``credex.cli.federation_cmds``).

``verify`` needs no node home: it is what a bank runs on the chain file it was handed,
against the hash of version 1 the federation publishes.
"""

from pathlib import Path
from typing import Annotated

import typer

from credex.cli._common import (
    HomeOpt,
    JsonOpt,
    console,
    leaf_arg,
    now,
    print_json,
    read_input,
    resolve_home,
)

__all__ = ["CHAIN_COMMANDS"]


def show(home: HomeOpt = None, json_out: JsonOpt = False) -> None:
    """Show the current manifest version (verified from version 1).

    \b
    Example:
      credex federation show --json
    """
    from credex.ledger.dates import cst_time
    from credex.node.federation import manifests as fed
    from credex.node.federation.travel import refused_versions
    from credex.node.home import NodeHome

    h = NodeHome.open(resolve_home(home))
    m = fed.load_manifest(h)
    b = m.latest
    refused = refused_versions(h)
    if json_out:
        print_json({**b.to_json(m.hash), "refused": [r.to_json() for r in refused]})
        return
    console.print(f"federation [bold]{b.federation}[/] version {b.version}  {m.hash.hex()}")
    reach = "" if b.quorum <= b.quorum_n else "  (unreachable: too few members)"
    console.print(f"  witness quorum {b.quorum} of {b.quorum_n}{reach}")
    console.print(f"  admins {len(b.admins)}, threshold {b.admin_threshold}")
    for mem in b.members:
        console.print(f"  {mem.region}  {mem.origin}  {mem.endpoint}", markup=False)
        console.print(f"    log key {mem.log_key.hex()[:16]}…  witness {mem.witness_name}")
        for i in mem.issuers:
            start = "always" if i.valid_from == 0 else f"from {cst_time(i.valid_from)}"
            until = "" if i.valid_until is None else f" until {cst_time(i.valid_until)}"
            console.print(
                f"    issuer {i.issuer_id} {i.key.hex()[:16]}…  {start}{until}  "
                f"{', '.join(i.kinds)}",
                markup=False,
            )
    for r in b.recognitions:
        console.print(f"  recognition {r.describe()}", markup=False)
    for d in b.delegations:
        console.print(f"  delegation  {d.describe()}", markup=False)
    for bad in refused:
        console.print(
            f"  refused version {bad.version} from {bad.served_by} on {cst_time(bad.at)}: "
            f"{bad.reason} (evidence {bad.file})",
            markup=False,
        )


def export(
    output: Annotated[Path, typer.Option("-o", "--output", help="The chain file to write.")],
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write the signed chain (versions 1..n) as one file for `credex verify --trust`.

    \b
    Example:
      credex federation export -o yangtze.manifest
    """
    from credex.ledger.manifest import encode_chain
    from credex.node.federation import manifests as fed
    from credex.node.home import NodeHome

    h = NodeHome.open(resolve_home(home))
    m = fed.load_manifest(h)
    data = encode_chain(m.versions)
    output.write_bytes(data)
    out = {"file": str(output), "versions": len(m.versions), "hash": m.hash.hex()}
    if json_out:
        print_json(out)
    else:
        console.print(f"wrote {output}: {len(m.versions)} versions, latest {out['hash']}")


def import_chain(
    file: Annotated[Path, typer.Argument(help="A chain file from `credex federation export`.")],
    pin: Annotated[
        str | None, typer.Option(help="Expected hash of version 1 (hex), checked if given.")
    ] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Install a chain that extends this node's manifest (or starts it).

    \b
    Example:
      credex federation import yangtze.manifest --pin HASHHEX
    """
    from credex.node.federation.admin import import_chain as install_chain
    from credex.node.home import NodeHome

    added, latest = install_chain(
        NodeHome.open(resolve_home(home)),
        read_input(file, "chain file", "federation"),
        pin=None if pin is None else leaf_arg(pin, "--pin"),
        now=now(),
    )
    if json_out:
        print_json({"installed": [p.body.version for p in added], "hash": latest.hex()})
    else:
        console.print(f"installed {len(added)} versions; latest {latest.hex()}")


def verify_chain(
    file: Annotated[Path, typer.Argument(help="A chain file (credex federation export).")],
    pin: Annotated[
        str, typer.Option(help="The hash of version 1 the federation publishes (64 hex).")
    ],
    json_out: JsonOpt = False,
) -> None:
    """Check a manifest chain against the published hash of its version 1, with no node
    home (what a bank runs before trusting the file): every version signed by enough
    admins of the one before, each naming the one before. Exit 1 if it does not verify.

    \b
    Example:
      credex federation verify yangtze.manifest --pin HASHHEX
    """
    from credex.ledger.manifest import decode_chain, verify_manifest_chain

    data = read_input(file, "chain file", "federation")
    m = verify_manifest_chain(decode_chain(data), pinned_hash=leaf_arg(pin, "--pin"))
    b = m.latest
    members = [mem.region for mem in b.members]
    out = {
        "federation": b.federation,
        "versions": len(m.versions),
        "version_1": m.versions[0].hash.hex(),
        "latest": m.hash.hex(),
        "quorum": {"k": b.quorum, "n": b.quorum_n},
        "members": members,
    }
    if json_out:
        print_json(out)
        return
    console.print(
        f"{file}: federation {b.federation}, versions 1..{len(m.versions)} verified from the "
        f"pinned version 1; latest {out['latest']}",
        markup=False,
    )
    console.print(
        f"  members {', '.join(members)}; witness quorum {b.quorum} of {b.quorum_n}",
        markup=False,
    )


#: (name, command) in help order
CHAIN_COMMANDS = (
    ("show", show),
    ("export", export),
    ("import", import_chain),
    ("verify", verify_chain),
)

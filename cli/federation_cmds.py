"""Federation commands: init, add-member, remove-member, set-quorum, rotate-key,
recognize-add, recognize-remove, delegate-add, delegate-remove, admins, admin-key, sign,
show, export, import, verify.

Each command that changes the manifest makes the next version, signs it with this node's
admin key and installs it (written under HOME/federation/ and logged) when that is enough
signatures; otherwise it writes ``proposed-<n>.cbor`` for the other admins to ``sign``.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from credex.cli._common import (
    AsciiInt,
    HomeOpt,
    JsonOpt,
    console,
    group,
    leaf_arg,
    now,
    print_json,
    read_input,
    resolve_home,
)
from credex.cli.chain_cmds import CHAIN_COMMANDS

if TYPE_CHECKING:
    from credex.node.federation import manifests as fed

__all__ = ["federation_app", "register"]

federation_app = group("The federation manifest: members, keys, validity windows, witness quorum.")


def _report(p: "fed.Proposal", json_out: bool) -> None:
    out = {
        "federation": p.body.federation,
        "version": p.body.version,
        "hash": p.signed.hash.hex(),
        "installed": p.installed,
        "file": str(p.path),
        "signatures": len(p.signed.signatures),
        "logged_index": None if p.logged is None else p.logged.index,
    }
    if json_out:
        print_json(out)
    elif p.installed:
        console.print(f"installed {p.body.federation} version {p.body.version} ({out['hash']})")
        if p.logged is not None:
            console.print(f"  logged as entry {p.logged.index}")
    else:
        console.print(
            f"proposed {p.body.federation} version {p.body.version}: needs more admin "
            f"signatures; have each admin run: credex federation sign {p.path}"
        )


@federation_app.command("init")
def init(
    name: Annotated[str, typer.Argument(help="Federation name, e.g. yangtze-delta.")],
    endpoint: Annotated[str, typer.Option(help="This node's gRPC endpoint HOST:PORT.")],
    tls_cert: Annotated[
        Path | None, typer.Option(help="This node's TLS certificate (PEM).", show_default=False)
    ] = None,
    tls_cert_sha256: Annotated[
        str | None, typer.Option(help="Or its SHA-256 fingerprint (hex of DER).")
    ] = None,
    witness_key: Annotated[
        str | None, typer.Option(help="Witness public key hex (default: keys/witness.key).")
    ] = None,
    quorum: Annotated[
        int, typer.Option(help="Witness cosignatures each checkpoint needs.", parser=AsciiInt)
    ] = 0,
    mtls_endpoint: Annotated[
        str | None, typer.Option(help="This node's mTLS endpoint HOST:PORT (Submit, Witness).")
    ] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Create version 1 with this node as first member and admin.

    Without --tls-cert / --tls-cert-sha256 the node's own TLS certificate (created if
    missing) and CA are listed, so peers can connect and register it as a client.

    \b
    Example:
      credex federation init yangtze --endpoint ningbo.example:7420 \\
        --mtls-endpoint ningbo.example:7421 --quorum 2
    """
    from credex.node.federation.admin import init_federation
    from credex.node.home import NodeHome

    h = NodeHome.open(resolve_home(home))
    p = init_federation(
        h,
        name,
        endpoint=endpoint,
        quorum=quorum,
        now=now(),
        mtls_endpoint=mtls_endpoint,
        tls_cert_pem=None if tls_cert is None else tls_cert.read_text(encoding="utf-8"),
        tls_sha256=None
        if tls_cert_sha256 is None
        else leaf_arg(tls_cert_sha256, "--tls-cert-sha256"),
        witness_key=None if witness_key is None else leaf_arg(witness_key, "--witness-key"),
    )
    _report(p, json_out)


@federation_app.command("add-member")
def add_member_cmd(
    from_info: Annotated[
        Path | None, typer.Option(help="The other node's `credex node info --json` output.")
    ] = None,
    region: Annotated[str | None, typer.Option(help="Region id.")] = None,
    origin: Annotated[str | None, typer.Option(help="Log origin.")] = None,
    endpoint: Annotated[str | None, typer.Option(help="gRPC endpoint HOST:PORT.")] = None,
    mtls_endpoint: Annotated[
        str | None, typer.Option(help="mTLS endpoint HOST:PORT (default: node info's).")
    ] = None,
    tls_cert_sha256: Annotated[str | None, typer.Option(help="TLS certificate SHA-256.")] = None,
    log_key: Annotated[str | None, typer.Option(help="Log public key (hex).")] = None,
    witness_key: Annotated[str | None, typer.Option(help="Witness public key (hex).")] = None,
    issuer: Annotated[
        list[str] | None,
        typer.Option(help="ID:KEYHEX:KIND[,KIND]:FROM:UNTIL (repeatable; UNTIL may be empty)."),
    ] = None,
    replace: Annotated[bool, typer.Option(help="Replace an existing member.")] = False,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Propose the next version with one more member (from its node info or options).

    \b
    Example:
      credex federation add-member --from-info hangzhou.json
    """
    from credex.node.federation import admin
    from credex.node.home import NodeHome

    h = NodeHome.open(resolve_home(home))
    if from_info is not None:
        p = admin.add_member_from_info(
            h,
            read_input(from_info, "node info", "federation"),
            endpoint=endpoint,
            mtls_endpoint=mtls_endpoint,
            replace=replace,
            now=now(),
        )
    else:
        p = admin.add_member_given(
            h,
            region=region,
            origin=origin,
            endpoint=endpoint,
            mtls_endpoint=mtls_endpoint,
            tls_cert_sha256=tls_cert_sha256,
            log_key=log_key,
            witness_key=witness_key,
            issuers=issuer,
            replace=replace,
            now=now(),
        )
    _report(p, json_out)


@federation_app.command("rotate-key")
def rotate_key(
    region: Annotated[str, typer.Option(help="The member's region id.")],
    issuer: Annotated[str, typer.Option(help="Issuer id, e.g. cn-zj-ningbo/platform.")],
    new_key: Annotated[str, typer.Option(help="The new public key (hex).")],
    at: Annotated[str, typer.Option(help="Switch time: YYYY-MM-DD or Unix seconds.")],
    kinds: Annotated[
        str | None, typer.Option(help="Kinds of the new key (default: the old key's).")
    ] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Close the issuer's current key window at AT and add the new key from AT.

    \b
    Example:
      credex federation rotate-key --region cn-zj-ningbo --issuer cn-zj-ningbo/court \\
        --new-key KEYHEX --at 2026-12-01
    """
    from credex.node.federation import admin
    from credex.node.home import NodeHome

    p = admin.rotate_key(
        NodeHome.open(resolve_home(home)),
        region=region,
        issuer=issuer,
        new_key=leaf_arg(new_key, "--new-key"),
        at=admin.time_of(at, "--at"),
        kinds=None if kinds is None else admin.items([kinds]),
        now=now(),
    )
    _report(p, json_out)


@federation_app.command("recognize-add")
def recognize_add(
    region: Annotated[str, typer.Option(help="The recognising region (a member).")],
    recognises: Annotated[str, typer.Option(help="The source region (a member).")],
    kinds: Annotated[str, typer.Option(help="Source kinds, comma-separated (score.city,...).")],
    valid_from: Annotated[
        str, typer.Option("--from", help="Start: YYYY-MM-DD (CST midnight) or Unix seconds.")
    ],
    valid_until: Annotated[
        str | None, typer.Option("--until", help="End (exclusive); default open-ended.")
    ] = None,
    issuers: Annotated[
        list[str] | None,
        typer.Option(help="Source issuer ids (repeatable or comma-separated; default any)."),
    ] = None,
    policy: Annotated[
        list[str] | None,
        typer.Option(help="Allowed policy leaf hash, hex (repeatable; default any)."),
    ] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Propose the next version with a recognition agreement: REGION accepts KINDS from
    RECOGNISES (by ISSUERS, under POLICY) for derived records signed in [FROM, UNTIL).

    \b
    Example:
      credex federation recognize-add --region cn-zj-hangzhou --recognises cn-zj-ningbo \\
        --kinds score.city --policy LEAFHEX --from 2026-11-01
    """
    from credex.node.federation import admin
    from credex.node.home import NodeHome

    p = admin.recognize_add(
        NodeHome.open(resolve_home(home)),
        region=region,
        recognises=recognises,
        kinds=admin.items([kinds]),
        issuers=admin.items(issuers),
        policies=[leaf_arg(x, "--policy") for x in admin.items(policy)],
        valid_from=admin.time_of(valid_from, "--from"),
        valid_until=None if valid_until is None else admin.time_of(valid_until, "--until"),
        now=now(),
    )
    _report(p, json_out)


@federation_app.command("recognize-remove")
def recognize_remove(
    region: Annotated[str, typer.Option(help="The recognising region.")],
    recognises: Annotated[str, typer.Option(help="The source region.")],
    kinds: Annotated[
        str | None, typer.Option(help="Only the agreement with exactly these kinds.")
    ] = None,
    valid_from: Annotated[
        str | None, typer.Option("--from", help="Only the agreement starting at this time.")
    ] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Propose the next version without the agreements of REGION for RECOGNISES (those
    matching --kinds / --from if given). Derived records signed before the new version
    keep verifying: the chain closes the agreement at its issued_at.

    \b
    Example:
      credex federation recognize-remove --region cn-zj-hangzhou --recognises cn-zj-ningbo
    """
    from credex.node.federation import admin
    from credex.node.home import NodeHome

    p = admin.recognize_remove(
        NodeHome.open(resolve_home(home)),
        region=region,
        recognises=recognises,
        kinds=None if kinds is None else admin.items([kinds]),
        valid_from=None if valid_from is None else admin.time_of(valid_from, "--from"),
        now=now(),
    )
    _report(p, json_out)


@federation_app.command("delegate-add")
def delegate_add(
    region: Annotated[str, typer.Option(help="The region whose records (a member).")],
    issuer: Annotated[str, typer.Option(help="The delegated issuer id (listed by a member).")],
    kinds: Annotated[
        str, typer.Option(help="Target record kinds, comma-separated (penalty.admin,...).")
    ],
    valid_from: Annotated[
        str, typer.Option("--from", help="Start: YYYY-MM-DD (CST midnight) or Unix seconds.")
    ],
    valid_until: Annotated[
        str | None, typer.Option("--until", help="End (exclusive); default open-ended.")
    ] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Propose the next version with a repair delegation: REGION lets ISSUER repair,
    resolve objections on and record commitment outcomes for REGION's records of KINDS,
    for statements signed in [FROM, UNTIL).

    \b
    Example:
      credex federation delegate-add --region cn-zj-ningbo --issuer cn-zj-hangzhou/platform \\
        --kinds penalty.admin --from 2026-11-01
    """
    from credex.node.federation import admin
    from credex.node.home import NodeHome

    p = admin.delegate_add(
        NodeHome.open(resolve_home(home)),
        region=region,
        issuer=issuer,
        kinds=admin.items([kinds]),
        valid_from=admin.time_of(valid_from, "--from"),
        valid_until=None if valid_until is None else admin.time_of(valid_until, "--until"),
        now=now(),
    )
    _report(p, json_out)


@federation_app.command("delegate-remove")
def delegate_remove(
    region: Annotated[str, typer.Option(help="The delegating region.")],
    issuer: Annotated[str, typer.Option(help="The delegated issuer id.")],
    kinds: Annotated[
        str | None, typer.Option(help="Only the delegation with exactly these kinds.")
    ] = None,
    valid_from: Annotated[
        str | None, typer.Option("--from", help="Only the delegation starting at this time.")
    ] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Propose the next version without the delegations of REGION to ISSUER (those
    matching --kinds / --from if given). Statements signed before the new version stay
    authorised: the chain closes the delegation at its issued_at.

    \b
    Example:
      credex federation delegate-remove --region cn-zj-ningbo --issuer cn-zj-hangzhou/platform
    """
    from credex.node.federation import admin
    from credex.node.home import NodeHome

    p = admin.delegate_remove(
        NodeHome.open(resolve_home(home)),
        region=region,
        issuer=issuer,
        kinds=None if kinds is None else admin.items([kinds]),
        valid_from=None if valid_from is None else admin.time_of(valid_from, "--from"),
        now=now(),
    )
    _report(p, json_out)


@federation_app.command("set-quorum")
def set_quorum_cmd(
    quorum: Annotated[
        int,
        typer.Argument(
            help="Cosignatures of other members each checkpoint needs.", parser=AsciiInt
        ),
    ],
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Propose the next version with witness quorum QUORUM (at most the number of
    members minus one: a log's own witness never counts).

    \b
    Example:
      credex federation set-quorum 2
    """
    from credex.node.federation.membership import set_witness_quorum
    from credex.node.home import NodeHome

    p = set_witness_quorum(NodeHome.open(resolve_home(home)), quorum=quorum, now=now())
    _report(p, json_out)


@federation_app.command("remove-member")
def remove_member_cmd(
    region: Annotated[str, typer.Option(help="The member's region id.")],
    quorum: Annotated[
        int | None,
        typer.Option(
            help="The new witness quorum (needed if the old one is too high).", parser=AsciiInt
        ),
    ] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Propose the next version without REGION's member, its recognition agreements and
    the delegations involving it. What it signed before stays verifiable.

    \b
    Example:
      credex federation remove-member --region cn-gd-huizhou
    """
    from credex.node.federation.membership import remove_member_region
    from credex.node.home import NodeHome

    p = remove_member_region(
        NodeHome.open(resolve_home(home)), region=region, quorum=quorum, now=now()
    )
    _report(p, json_out)


@federation_app.command("sign")
def sign(
    file: Annotated[Path, typer.Argument(help="A proposed version (proposed-<n>.cbor).")],
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Add this admin's signature to a proposed version (written back to FILE).

    \b
    Example:
      credex federation sign proposed-2.cbor
    """
    from credex.node.federation.admin import sign_proposal
    from credex.node.home import NodeHome

    _report(sign_proposal(NodeHome.open(resolve_home(home)), file, now()), json_out)


@federation_app.command("admin-key")
def admin_key_cmd(home: HomeOpt = None, json_out: JsonOpt = False) -> None:
    """Print this node's federation admin public key (created if missing).

    \b
    Example:
      credex federation admin-key
    """
    from credex.node.federation import manifests as fed
    from credex.node.home import NodeHome

    key = fed.admin_key(NodeHome.open(resolve_home(home)), create=True)
    if json_out:
        print_json({"admin_public_key": key.public_key.hex()})
    else:
        print(key.public_key.hex())


@federation_app.command("admins")
def admins(
    add: Annotated[list[str] | None, typer.Option(help="Admin public key to add (hex).")] = None,
    remove: Annotated[
        list[str] | None, typer.Option(help="Admin public key to remove (hex).")
    ] = None,
    threshold: Annotated[
        int | None, typer.Option(help="Signatures a new version needs.", parser=AsciiInt)
    ] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Propose the next version with a changed admin set or threshold.

    \b
    Example:
      credex federation admins --add KEYHEX --threshold 2
    """
    from credex.node.federation.admin import change_admins
    from credex.node.home import NodeHome

    p = change_admins(
        NodeHome.open(resolve_home(home)),
        add=[leaf_arg(k, "--add") for k in add or []],
        remove=[leaf_arg(k, "--remove") for k in remove or []],
        threshold=threshold,
        now=now(),
    )
    _report(p, json_out)


# the chain as a file and on screen: ``credex.cli.chain_cmds``
for _name, _command in CHAIN_COMMANDS:
    federation_app.command(_name)(_command)


def register(app: typer.Typer) -> None:
    app.add_typer(federation_app, name="federation")

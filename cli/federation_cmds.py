"""Federation commands: init, add-member, rotate-key, recognize-add, recognize-remove,
delegate-add, delegate-remove, admins, admin-key, sign, show, export, import.

Each command that changes the manifest makes the next version, signs it with this node's
admin key and installs it (written under HOME/federation/ and logged) when that is enough
signatures; otherwise it writes ``proposed-<n>.cbor`` for the other admins to ``sign``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Protocol, TypeVar

import typer

from credex.cli._common import HomeOpt, JsonOpt, console, now, print_json, resolve_home
from credex.ledger.dates import date_to_unix, parse_date
from credex.ledger.errors import ConfigError, FormatError, VerificationError
from credex.ledger.manifest import (
    Delegation,
    IssuerKey,
    ManifestBody,
    Member,
    Recognition,
    add_delegation,
    add_member,
    add_recognition,
    decode_chain,
    encode_chain,
    rotate_issuer_key,
    verify_manifest_chain,
)
from credex.ledger.record import KINDS
from credex.node.federation import manifests as fed
from credex.node.home import NodeHome

__all__ = ["federation_app"]

federation_app = typer.Typer(
    help="The federation manifest: members, keys, validity windows, witness quorum.",
    no_args_is_help=True,
)


def _hex32(text: str, what: str) -> bytes:
    try:
        value = bytes.fromhex(text)
    except ValueError as e:
        raise FormatError(f"federation: {what} is not hex") from e
    if len(value) != 32:
        raise FormatError(f"federation: {what} must be 64 hex characters")
    return value


def _time(text: str, what: str) -> int:
    """A date (YYYY-MM-DD, China Standard Time midnight) or Unix seconds."""
    if text.isdigit():
        return int(text)
    try:
        return date_to_unix(parse_date(text))
    except FormatError as e:
        raise FormatError(f"federation: {what} is not a date or unix time: {text!r}") from e


def _kinds(kinds: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    unknown = sorted(k for k in kinds if k not in KINDS)
    if unknown or not kinds:
        raise FormatError(f"federation: unknown or no kinds: {', '.join(unknown)}")
    return tuple(kinds)


def _issuer_opt(text: str) -> IssuerKey:
    """``ID:KEYHEX:KIND[,KIND...]:FROM:UNTIL`` (UNTIL may be empty: open-ended)."""
    parts = text.split(":")
    if len(parts) != 5:
        raise FormatError("federation: --issuer must be ID:KEYHEX:KINDS:FROM:UNTIL")
    issuer_id, key, kinds, frm, until = parts
    return IssuerKey(
        issuer_id,
        _hex32(key, "issuer key"),
        _time(frm, "issuer FROM") if frm else 0,
        _time(until, "issuer UNTIL") if until else None,
        _kinds([k for k in kinds.split(",") if k]),
    )


def _current(h: NodeHome) -> ManifestBody:
    return fed.load_manifest(h).latest


def _report(p: fed.Proposal, json_out: bool) -> None:
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
    quorum: Annotated[int, typer.Option(help="Witness cosignatures each checkpoint needs.")] = 0,
    mtls_endpoint: Annotated[
        str | None, typer.Option(help="This node's mTLS endpoint HOST:PORT (Submit, Witness).")
    ] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Create version 1 with this node as first member and admin.

    Without --tls-cert / --tls-cert-sha256 the node's own TLS certificate (created if
    missing) and CA are listed, so peers can connect and register it as a client.
    """
    h = NodeHome.open(resolve_home(home))
    if fed.load_chain(h):
        raise ConfigError("federation: this node already has a manifest")
    chain: bytes | None = None
    if tls_cert is not None:
        tls = fed.tls_cert_sha256(tls_cert.read_text(encoding="utf-8"))
    elif tls_cert_sha256 is not None:
        tls = _hex32(tls_cert_sha256, "--tls-cert-sha256")
    else:
        tls, chain = fed.node_tls_chain(h, now())
    if quorum < 0:
        raise FormatError("federation: --quorum must be >= 0")
    admin = fed.admin_key(h, create=True)
    member = fed.local_member(
        h,
        endpoint=endpoint,
        tls_sha256=tls,
        witness_key=None if witness_key is None else _hex32(witness_key, "--witness-key"),
        mtls_endpoint=mtls_endpoint,
        tls_chain_pem=chain,
    )
    t = now()
    body = ManifestBody(name, 1, None, t, (member,), quorum, (admin.public_key,), 1)
    _report(fed.propose(h, body, t), json_out)


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
    """Propose the next version with one more member (from its node info or options)."""
    h = NodeHome.open(resolve_home(home))
    if from_info is not None:
        try:
            info = json.loads(from_info.read_text(encoding="utf-8"))
        except ValueError as e:
            raise FormatError(f"federation: node info is not json: {from_info}") from e
        member = fed.member_from_info(info, endpoint=endpoint, mtls_endpoint=mtls_endpoint)
    else:
        given = {
            "--region": region,
            "--origin": origin,
            "--endpoint": endpoint,
            "--tls-cert-sha256": tls_cert_sha256,
            "--log-key": log_key,
            "--witness-key": witness_key,
        }
        missing = [k for k, v in given.items() if v is None]
        if missing:
            raise ConfigError(f"federation: pass --from-info FILE or {', '.join(missing)}")
        assert region and origin and endpoint and tls_cert_sha256 and log_key and witness_key
        member = Member(
            region=region,
            origin=origin,
            endpoint=endpoint,
            tls_cert_sha256=_hex32(tls_cert_sha256, "--tls-cert-sha256"),
            log_key=_hex32(log_key, "--log-key"),
            log_note_name=origin,
            witness_name=origin,
            witness_key=_hex32(witness_key, "--witness-key"),
            issuers=tuple(_issuer_opt(i) for i in issuer or []),
            mtls_endpoint=mtls_endpoint,
        )
    for i in member.issuers:
        _kinds(i.kinds)
    current = _current(h)
    if current.member(member.region) is not None and not replace:
        raise ConfigError(f"federation: {member.region} is already a member (use --replace)")
    t = now()
    _report(fed.propose(h, add_member(current, member, t), t), json_out)


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
    """Close the issuer's current key window at AT and add the new key from AT."""
    h = NodeHome.open(resolve_home(home))
    kind_list = None if kinds is None else _kinds([k for k in kinds.split(",") if k])
    t = now()
    body = rotate_issuer_key(
        _current(h),
        region,
        issuer,
        _hex32(new_key, "--new-key"),
        _time(at, "--at"),
        issued_at=t,
        kinds=kind_list,
    )
    _report(fed.propose(h, body, t), json_out)


def _items(values: list[str] | None) -> list[str]:
    """Repeatable options that may also hold comma-separated items."""
    return [x.strip() for v in values or [] for x in v.split(",") if x.strip()]


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
    RECOGNISES (by ISSUERS, under POLICY) for derived records signed in [FROM, UNTIL)."""
    h = NodeHome.open(resolve_home(home))
    current = _current(h)
    source = current.member(recognises)
    if source is None or current.member(region) is None:
        missing = region if source is not None else recognises
        raise ConfigError(f"federation: {missing} is not a member")
    issuer_ids = _items(issuers)
    listed = {i.issuer_id for i in source.issuers}
    unknown = sorted(set(issuer_ids) - listed)
    if unknown:
        raise ConfigError(
            f"federation: {recognises} lists no issuer {', '.join(unknown)} "
            f"(it lists: {', '.join(sorted(listed)) or 'none'})"
        )
    agreement = Recognition(
        region,
        recognises,
        _kinds(_items([kinds])),
        tuple(issuer_ids),
        tuple(_hex32(p, "--policy") for p in _items(policy)),
        _time(valid_from, "--from"),
        None if valid_until is None else _time(valid_until, "--until"),
    )
    t = now()
    _report(fed.propose(h, add_recognition(current, agreement, t), t), json_out)


class _Windowed(Protocol):
    @property
    def kinds(self) -> tuple[str, ...]: ...

    @property
    def valid_from(self) -> int: ...


_W = TypeVar("_W", bound=_Windowed)


def _narrowed(items: list[_W], kinds: str | None, valid_from: str | None) -> list[_W]:
    """``items`` with exactly ``kinds`` (if given) and starting at ``valid_from`` (if
    given): what a ``*-remove`` command takes out of the manifest."""
    want = None if kinds is None else tuple(sorted(set(_kinds(_items([kinds])))))
    start = None if valid_from is None else _time(valid_from, "--from")
    return [
        x
        for x in items
        if (want is None or x.kinds == want) and (start is None or x.valid_from == start)
    ]


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
    keep verifying: the chain closes the agreement at its issued_at."""
    h = NodeHome.open(resolve_home(home))
    current = _current(h)
    pair = [r for r in current.recognitions if (r.region, r.recognises) == (region, recognises)]
    chosen = _narrowed(pair, kinds, valid_from)
    if not chosen:
        raise ConfigError(
            f"federation: version {current.version} has no matching agreement of "
            f"{region} recognising {recognises}"
        )
    t = now()
    kept = tuple(r for r in current.recognitions if r not in chosen)
    _report(fed.propose(h, current.next_version(t, recognitions=kept), t), json_out)


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
    for statements signed in [FROM, UNTIL)."""
    h = NodeHome.open(resolve_home(home))
    current = _current(h)
    if current.member(region) is None:
        raise ConfigError(f"federation: {region} is not a member")
    listed = {i.issuer_id for m in current.members for i in m.issuers}
    if issuer not in listed:
        raise ConfigError(f"federation: no member lists issuer {issuer}")
    delegation = Delegation(
        region,
        issuer,
        _kinds(_items([kinds])),
        _time(valid_from, "--from"),
        None if valid_until is None else _time(valid_until, "--until"),
    )
    t = now()
    _report(fed.propose(h, add_delegation(current, delegation, t), t), json_out)


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
    authorised: the chain closes the delegation at its issued_at."""
    h = NodeHome.open(resolve_home(home))
    current = _current(h)
    pair = [d for d in current.delegations if (d.region, d.issuer) == (region, issuer)]
    chosen = _narrowed(pair, kinds, valid_from)
    if not chosen:
        raise ConfigError(
            f"federation: version {current.version} has no matching delegation of "
            f"{region} to {issuer}"
        )
    t = now()
    kept = tuple(d for d in current.delegations if d not in chosen)
    _report(fed.propose(h, current.next_version(t, delegations=kept), t), json_out)


@federation_app.command("sign")
def sign(
    file: Annotated[Path, typer.Argument(help="A proposed version (proposed-<n>.cbor).")],
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Add this admin's signature to a proposed version (written back to FILE)."""
    h = NodeHome.open(resolve_home(home))
    proposal = fed.read_proposal(file.read_bytes())
    chain = fed.load_chain(h)
    body = proposal.body
    if not chain or body.version != len(chain) + 1 or body.prev != chain[-1].hash:
        raise VerificationError(
            f"federation: proposed version {body.version} does not extend this node's "
            f"manifest (at version {len(chain)})"
        )
    signed = proposal.sign(fed.admin_key(h))
    file.write_bytes(signed.to_bytes())
    _report(fed.submit_signed(h, signed, now()), json_out)


@federation_app.command("admin-key")
def admin_key_cmd(home: HomeOpt = None, json_out: JsonOpt = False) -> None:
    """Print this node's federation admin public key (created if missing)."""
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
    threshold: Annotated[int | None, typer.Option(help="Signatures a new version needs.")] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Propose the next version with a changed admin set or threshold."""
    h = NodeHome.open(resolve_home(home))
    current = _current(h)
    keys = set(current.admins) | {_hex32(k, "--add") for k in add or []}
    keys -= {_hex32(k, "--remove") for k in remove or []}
    t = now()
    body = current.next_version(
        t,
        admins=tuple(keys),
        admin_threshold=current.admin_threshold if threshold is None else threshold,
    )
    _report(fed.propose(h, body, t), json_out)


def _body_json(body: ManifestBody, digest: bytes) -> dict[str, Any]:
    return {
        "federation": body.federation,
        "version": body.version,
        "hash": digest.hex(),
        "prev": None if body.prev is None else body.prev.hex(),
        "issued_at": body.issued_at,
        "quorum": {"k": body.quorum, "n": body.quorum_n},
        "admins": [a.hex() for a in body.admins],
        "admin_threshold": body.admin_threshold,
        "members": [
            {
                "region": m.region,
                "origin": m.origin,
                "endpoint": m.endpoint,
                "mtls_endpoint": m.mtls_endpoint,
                "tls_cert_sha256": m.tls_cert_sha256.hex(),
                "log_key": m.log_key.hex(),
                "log_note_name": m.log_note_name,
                "retired_log_keys": [
                    {"key": r.key.hex(), "note_name": r.note_name, "retired_at": r.retired_at}
                    for r in m.retired_log_keys
                ],
                "witness_name": m.witness_name,
                "witness_key": m.witness_key.hex(),
                "issuers": [
                    {
                        "issuer_id": i.issuer_id,
                        "public_key": i.key.hex(),
                        "valid_from": i.valid_from,
                        "valid_until": i.valid_until,
                        "kinds": list(i.kinds),
                    }
                    for i in m.issuers
                ],
            }
            for m in body.members
        ],
        "recognitions": [
            {
                "region": r.region,
                "recognises": r.recognises,
                "kinds": list(r.kinds),
                "issuers": list(r.issuers),
                "policies": [p.hex() for p in r.policies],
                "valid_from": r.valid_from,
                "valid_until": r.valid_until,
            }
            for r in body.recognitions
        ],
        "delegations": [
            {
                "region": d.region,
                "issuer": d.issuer,
                "kinds": list(d.kinds),
                "valid_from": d.valid_from,
                "valid_until": d.valid_until,
            }
            for d in body.delegations
        ],
    }


@federation_app.command("show")
def show(home: HomeOpt = None, json_out: JsonOpt = False) -> None:
    """Show the current manifest version (verified from version 1)."""
    m = fed.load_manifest(NodeHome.open(resolve_home(home)))
    b = m.latest
    if json_out:
        print_json(_body_json(b, m.hash))
        return
    console.print(f"federation [bold]{b.federation}[/] version {b.version}  {m.hash.hex()}")
    reach = "" if b.quorum <= b.quorum_n else "  (unreachable: too few members)"
    console.print(f"  witness quorum {b.quorum} of {b.quorum_n}{reach}")
    console.print(f"  admins {len(b.admins)}, threshold {b.admin_threshold}")
    for mem in b.members:
        console.print(f"  {mem.region}  {mem.origin}  {mem.endpoint}", markup=False)
        console.print(f"    log key {mem.log_key.hex()[:16]}…  witness {mem.witness_name}")
        for i in mem.issuers:
            console.print(
                f"    issuer {i.issuer_id} {i.key.hex()[:16]}…  "
                f"[{i.valid_from}, {i.valid_until or '∞'})  {', '.join(i.kinds)}",
                markup=False,
            )
    for r in b.recognitions:
        console.print(f"  recognition {r.describe()}", markup=False)
    for d in b.delegations:
        console.print(f"  delegation  {d.describe()}", markup=False)


@federation_app.command("export")
def export(
    output: Annotated[Path, typer.Option("-o", "--output", help="The chain file to write.")],
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write the signed chain (versions 1..n) as one file for `credex verify --trust`."""
    h = NodeHome.open(resolve_home(home))
    m = fed.load_manifest(h)
    data = encode_chain(m.versions)
    output.write_bytes(data)
    out = {"file": str(output), "versions": len(m.versions), "hash": m.hash.hex()}
    if json_out:
        print_json(out)
    else:
        console.print(f"wrote {output}: {len(m.versions)} versions, latest {out['hash']}")


@federation_app.command("import")
def import_chain(
    file: Annotated[Path, typer.Argument(help="A chain file from `credex federation export`.")],
    pin: Annotated[
        str | None, typer.Option(help="Expected hash of version 1 (hex), checked if given.")
    ] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Install a chain that extends this node's manifest (or starts it)."""
    h = NodeHome.open(resolve_home(home))
    versions = decode_chain(file.read_bytes())
    verify_manifest_chain(versions, pinned_hash=None if pin is None else _hex32(pin, "--pin"))
    local = fed.load_chain(h)
    if [v.hash for v in versions[: len(local)]] != [v.hash for v in local]:
        raise VerificationError("federation: the chain does not extend this node's manifest")
    t = now()
    added = [fed.install(h, v, t) for v in versions[len(local) :]]
    if json_out:
        print_json({"installed": [p.body.version for p in added], "hash": versions[-1].hash.hex()})
    else:
        console.print(f"installed {len(added)} versions; latest {versions[-1].hash.hex()}")

"""The manifest changes an operator makes: each proposes the next version at this node.

Every function here checks what only the current manifest can tell (a region is a
member, an issuer is listed, the agreement exists), builds the next version with the
pure edits of ``credex.ledger.manifest`` and hands it to ``manifests.propose``: it is
signed with this node's admin key and installed when that is enough signatures, else
written as ``proposed-<n>.cbor`` for the other admins (``sign_proposal``).

Options as people type them are parsed here too: kinds (``KINDS``), times (a day or Unix
seconds: ``credex.ledger.dates.parse_time``), issuer keys in the ``--issuer`` form
``ID:KEYHEX:KIND[,KIND]:FROM:UNTIL``. Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Final, Protocol, TypeVar

from credex.ledger import strict_json
from credex.ledger.dates import parse_time
from credex.ledger.encoding import hex32
from credex.ledger.errors import (
    ConfigError,
    DateFormatError,
    FormatError,
    VerificationError,
)
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
    remove_delegations,
    remove_recognitions,
    rotate_issuer_key,
    verify_manifest_chain,
)
from credex.ledger.record import KINDS
from credex.node.federation.manifests import (
    Proposal,
    admin_key,
    chain_lock,
    install_held,
    load_chain,
    load_manifest,
    local_member,
    member_from_info,
    node_tls_chain,
    propose,
    read_proposal,
    submit_signed,
    tls_cert_sha256,
)
from credex.node.home import NodeHome

__all__ = [
    "add_member_from_info",
    "add_member_given",
    "change_admins",
    "delegate_add",
    "delegate_remove",
    "import_chain",
    "init_federation",
    "issuer_key_spec",
    "items",
    "kinds_of",
    "recognize_add",
    "recognize_remove",
    "rotate_key",
    "sign_proposal",
    "time_of",
]

#: another node's ``credex node info --json`` (certificates included)
MAX_NODE_INFO_BYTES: Final = 256 * 1024


def time_of(text: str, what: str) -> int:
    """A time option: a day (CST midnight) or Unix seconds."""
    try:
        return parse_time(text)
    except DateFormatError as e:
        raise FormatError(f"federation: {what} is not a date or unix time") from e


def kinds_of(kinds: Sequence[str]) -> tuple[str, ...]:
    """Record kinds, each known.

    Raises:
        FormatError: none, or an unknown one (named).
    """
    unknown = sorted(k for k in kinds if k not in KINDS)
    if unknown or not kinds:
        raise FormatError(f"federation: unknown or no kinds: {', '.join(unknown)}")
    return tuple(kinds)


def items(values: Iterable[str] | None) -> list[str]:
    """Repeatable options that may also hold comma-separated items."""
    return [x.strip() for v in values or [] for x in v.split(",") if x.strip()]


def issuer_key_spec(text: str) -> IssuerKey:
    """``ID:KEYHEX:KIND[,KIND...]:FROM:UNTIL`` (UNTIL may be empty: open-ended)."""
    parts = text.split(":")
    if len(parts) != 5:
        raise FormatError("federation: --issuer must be ID:KEYHEX:KINDS:FROM:UNTIL")
    issuer_id, key, kinds, frm, until = parts
    return IssuerKey(
        issuer_id,
        hex32(key, "issuer key", "federation"),
        time_of(frm, "issuer FROM") if frm else 0,
        time_of(until, "issuer UNTIL") if until else None,
        kinds_of([k for k in kinds.split(",") if k]),
    )


def _current(home: NodeHome) -> ManifestBody:
    return load_manifest(home).latest


def init_federation(
    home: NodeHome,
    name: str,
    *,
    endpoint: str,
    quorum: int,
    now: int,
    mtls_endpoint: str | None = None,
    tls_cert_pem: str | None = None,
    tls_sha256: bytes | None = None,
    witness_key: bytes | None = None,
) -> Proposal:
    """Version 1 with this node as first member and admin. Without a TLS certificate (or
    its SHA-256) the node's own (created if missing) and its CA are listed.

    Raises:
        ConfigError: this node already has a manifest, or a quorum its one member cannot
            meet (k counts cosignatures of the *other* members: start at 0 and raise it
            with ``membership.set_witness_quorum`` once members joined).
        FormatError: a negative quorum.
    """
    if load_chain(home):
        raise ConfigError("federation: this node already has a manifest")
    if quorum > 0:
        raise ConfigError(
            f"federation: --quorum {quorum} cannot be met: a checkpoint is cosigned by the "
            "other members, and version 1 has none; start with --quorum 0 and run credex "
            "federation set-quorum K once members joined"
        )
    chain: bytes | None = None
    if tls_cert_pem is not None:
        tls = tls_cert_sha256(tls_cert_pem)
    elif tls_sha256 is not None:
        tls = tls_sha256
    else:
        tls, chain = node_tls_chain(home, now, (endpoint, mtls_endpoint))
    if quorum < 0:
        raise FormatError("federation: --quorum must be >= 0")
    admin = admin_key(home, create=True)
    member = local_member(
        home,
        endpoint=endpoint,
        tls_sha256=tls,
        witness_key=witness_key,
        mtls_endpoint=mtls_endpoint,
        tls_chain_pem=chain,
    )
    body = ManifestBody(name, 1, None, now, (member,), quorum, (admin.public_key,), 1)
    return propose(home, body, now)


def _add(home: NodeHome, member: Member, replace: bool, now: int) -> Proposal:
    kinds_of([k for i in member.issuers for k in i.kinds] or list(KINDS))
    current = _current(home)
    if current.member(member.region) is not None and not replace:
        raise ConfigError(f"federation: {member.region} is already a member (use --replace)")
    return propose(home, add_member(current, member, now), now)


def add_member_from_info(
    home: NodeHome,
    info_json: bytes,
    *,
    now: int,
    endpoint: str | None = None,
    mtls_endpoint: str | None = None,
    replace: bool = False,
) -> Proposal:
    """The next version with the member described by another node's ``credex node info
    --json`` output."""
    info = strict_json.loads(info_json, "federation: node info", max_bytes=MAX_NODE_INFO_BYTES)
    member = member_from_info(info, endpoint=endpoint, mtls_endpoint=mtls_endpoint)
    _require_cert_covers_endpoints(info, member)
    return _add(home, member, replace, now)


def _require_cert_covers_endpoints(info: Any, member: Member) -> None:
    """A member's pinned certificate must name the hosts it is reached at, or no TLS
    client of the others will accept it."""
    from credex.node.rpc.tls import cert_names, endpoint_host

    pem = info.get("tls_cert_pem")
    if not isinstance(pem, str):
        return
    names = cert_names(pem.encode("ascii"))
    hosts = [member.endpoint, member.mtls_endpoint]
    missing = sorted({h for e in hosts if e and (h := endpoint_host(e)) and h not in names})
    if missing:
        raise ConfigError(
            f"federation: {member.region}'s node certificate does not cover "
            f"{', '.join(missing)} (its endpoint): on that node run credex node info --san "
            f"{missing[0]} --json and send that instead"
        )


def add_member_given(
    home: NodeHome,
    *,
    now: int,
    replace: bool = False,
    **given: Any,
) -> Proposal:
    """The next version with a member given field by field: ``region``, ``origin``,
    ``endpoint``, ``tls_cert_sha256``, ``log_key``, ``witness_key`` (hex), optional
    ``mtls_endpoint`` and ``issuers`` (``--issuer`` specs)."""
    needed = ("region", "origin", "endpoint", "tls_cert_sha256", "log_key", "witness_key")
    missing = ["--" + k.replace("_", "-") for k in needed if given.get(k) is None]
    if missing:
        raise ConfigError(f"federation: pass --from-info FILE or {', '.join(missing)}")
    member = Member(
        region=given["region"],
        origin=given["origin"],
        endpoint=given["endpoint"],
        tls_cert_sha256=hex32(given["tls_cert_sha256"], "--tls-cert-sha256", "federation"),
        log_key=hex32(given["log_key"], "--log-key", "federation"),
        log_note_name=given["origin"],
        witness_name=given["origin"],
        witness_key=hex32(given["witness_key"], "--witness-key", "federation"),
        issuers=tuple(issuer_key_spec(i) for i in given.get("issuers") or []),
        mtls_endpoint=given.get("mtls_endpoint"),
    )
    return _add(home, member, replace, now)


def rotate_key(
    home: NodeHome,
    *,
    region: str,
    issuer: str,
    new_key: bytes,
    at: int,
    now: int,
    kinds: Sequence[str] | None = None,
) -> Proposal:
    """The next version with ``issuer``'s open key windows closed at ``at`` and
    ``new_key`` valid from ``at``."""
    body = rotate_issuer_key(
        _current(home),
        region,
        issuer,
        new_key,
        at,
        issued_at=now,
        kinds=None if kinds is None else kinds_of(kinds),
    )
    return propose(home, body, now)


def recognize_add(
    home: NodeHome,
    *,
    region: str,
    recognises: str,
    kinds: Sequence[str],
    valid_from: int,
    now: int,
    valid_until: int | None = None,
    issuers: Sequence[str] = (),
    policies: Sequence[bytes] = (),
) -> Proposal:
    """The next version with a recognition agreement: ``region`` accepts ``kinds`` from
    ``recognises`` (by ``issuers``, under ``policies``; empty: any) in the window.

    Raises:
        ConfigError: a region that is not a member, or an issuer the source region does
            not list (the listed ones are named).
    """
    current = _current(home)
    source = current.member(recognises)
    if source is None or current.member(region) is None:
        missing = region if source is not None else recognises
        raise ConfigError(f"federation: {missing} is not a member")
    listed = {i.issuer_id for i in source.issuers}
    unknown = sorted(set(issuers) - listed)
    if unknown:
        raise ConfigError(
            f"federation: {recognises} lists no issuer {', '.join(unknown)} "
            f"(it lists: {', '.join(sorted(listed)) or 'none'})"
        )
    agreement = Recognition(
        region,
        recognises,
        kinds_of(kinds),
        tuple(issuers),
        tuple(policies),
        valid_from,
        valid_until,
    )
    return propose(home, add_recognition(current, agreement, now), now)


class _Windowed(Protocol):
    @property
    def kinds(self) -> tuple[str, ...]: ...

    @property
    def valid_from(self) -> int: ...


_W = TypeVar("_W", bound=_Windowed)


def _narrowed(found: Sequence[_W], kinds: Sequence[str] | None, valid_from: int | None) -> list[_W]:
    """``found`` with exactly ``kinds`` (if given) and starting at ``valid_from`` (if
    given): what a ``*-remove`` command takes out of the manifest."""
    want = None if kinds is None else tuple(sorted(set(kinds_of(kinds))))
    return [
        x
        for x in found
        if (want is None or x.kinds == want) and (valid_from is None or x.valid_from == valid_from)
    ]


def recognize_remove(
    home: NodeHome,
    *,
    region: str,
    recognises: str,
    now: int,
    kinds: Sequence[str] | None = None,
    valid_from: int | None = None,
) -> Proposal:
    """The next version without ``region``'s agreements for ``recognises`` (those with
    exactly ``kinds`` / starting at ``valid_from`` if given). Derived records signed
    before it keep verifying: the chain closes the agreement at its ``issued_at``.

    Raises:
        ConfigError: no matching agreement.
    """
    current = _current(home)
    pair = [r for r in current.recognitions if (r.region, r.recognises) == (region, recognises)]
    chosen = _narrowed(pair, kinds, valid_from)
    if not chosen:
        raise ConfigError(
            f"federation: version {current.version} has no matching agreement of "
            f"{region} recognising {recognises}"
        )
    return propose(home, remove_recognitions(current, chosen, now), now)


def delegate_add(
    home: NodeHome,
    *,
    region: str,
    issuer: str,
    kinds: Sequence[str],
    valid_from: int,
    now: int,
    valid_until: int | None = None,
) -> Proposal:
    """The next version with a repair delegation: ``region`` lets ``issuer`` repair,
    resolve objections on and record commitment outcomes for its records of ``kinds``.

    Raises:
        ConfigError: ``region`` is not a member, or no member lists ``issuer``.
    """
    current = _current(home)
    if current.member(region) is None:
        raise ConfigError(f"federation: {region} is not a member")
    listed = {i.issuer_id for m in current.members for i in m.issuers}
    if issuer not in listed:
        raise ConfigError(f"federation: no member lists issuer {issuer}")
    delegation = Delegation(region, issuer, kinds_of(kinds), valid_from, valid_until)
    return propose(home, add_delegation(current, delegation, now), now)


def delegate_remove(
    home: NodeHome,
    *,
    region: str,
    issuer: str,
    now: int,
    kinds: Sequence[str] | None = None,
    valid_from: int | None = None,
) -> Proposal:
    """The next version without ``region``'s delegations to ``issuer`` (those with
    exactly ``kinds`` / starting at ``valid_from`` if given); statements signed before it
    stay authorised.

    Raises:
        ConfigError: no matching delegation.
    """
    current = _current(home)
    pair = [d for d in current.delegations if (d.region, d.issuer) == (region, issuer)]
    chosen = _narrowed(pair, kinds, valid_from)
    if not chosen:
        raise ConfigError(
            f"federation: version {current.version} has no matching delegation of "
            f"{region} to {issuer}"
        )
    return propose(home, remove_delegations(current, chosen, now), now)


def change_admins(
    home: NodeHome,
    *,
    now: int,
    add: Sequence[bytes] = (),
    remove: Sequence[bytes] = (),
    threshold: int | None = None,
) -> Proposal:
    """The next version with admins added or removed, or a new admin threshold."""
    current = _current(home)
    keys = (set(current.admins) | set(add)) - set(remove)
    body = current.next_version(
        now,
        admins=tuple(keys),
        admin_threshold=current.admin_threshold if threshold is None else threshold,
    )
    return propose(home, body, now)


def sign_proposal(home: NodeHome, path: Path, now: int) -> Proposal:
    """Add this admin's signature to the proposed version in ``path`` (written back) and
    install it if that is enough.

    Raises:
        VerificationError: the proposal does not extend this node's manifest.
    """
    proposal = read_proposal(path.read_bytes())
    chain = load_chain(home)
    body = proposal.body
    if not chain or body.version != len(chain) + 1 or body.prev != chain[-1].hash:
        raise VerificationError(
            f"federation: proposed version {body.version} does not extend this node's "
            f"manifest (at version {len(chain)})"
        )
    signed = proposal.sign(admin_key(home))
    path.write_bytes(signed.to_bytes())
    return submit_signed(home, signed, now)


def import_chain(
    home: NodeHome, data: bytes, *, now: int, pin: bytes | None = None
) -> tuple[list[Proposal], bytes]:
    """Install the versions of a chain file that this node does not have yet (the chain
    must extend this node's, or start it; ``pin``: the expected hash of version 1).
    Returns the versions installed and the chain's latest hash.

    Raises:
        VerificationError: the chain does not verify, is not the pinned one, or does not
            extend this node's manifest.
    """
    versions = decode_chain(data)
    verify_manifest_chain(versions, pinned_hash=pin)
    with chain_lock(home):  # the running server's follow loop may be installing too
        local = load_chain(home)
        if len(local) > len(versions):
            local = local[: len(versions)]
        if [v.hash for v in versions[: len(local)]] != [v.hash for v in local]:
            raise VerificationError("federation: the chain does not extend this node's manifest")
        done = len(load_chain(home))
        added = [install_held(home, v, now) for v in versions[done:]]
    return added, versions[-1].hash

"""Editing a manifest: each function returns the next version's body (pure).

Adding or replacing a member, removing one, rotating an issuer key, retiring a log key,
setting the quorum, adding or removing recognition agreements and repair delegations.
Nothing here signs: ``SignedManifest`` collects admin signatures on the result.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from credex.ledger.manifest._fields import (
    fail,
)
from credex.ledger.manifest.agreements import Delegation, Recognition
from credex.ledger.manifest.body import ManifestBody
from credex.ledger.manifest.members import IssuerKey, Member, RetiredLogKey

__all__ = [
    "add_delegation",
    "add_member",
    "add_recognition",
    "remove_delegation",
    "remove_delegations",
    "remove_member",
    "remove_recognition",
    "remove_recognitions",
    "retire_log_key",
    "rotate_issuer_key",
    "set_quorum",
]


def add_member(body: ManifestBody, member: Member, issued_at: int) -> ManifestBody:
    """The next version with ``member`` added (or replacing the member of its region)."""
    others = tuple(m for m in body.members if m.region != member.region)
    return body.next_version(issued_at, members=(*others, member))


def _require_reachable(quorum: int, members: int) -> None:
    if quorum > members - 1:
        raise fail(
            f"quorum {quorum} cannot be met: with {members} member(s) each log has "
            f"{members - 1} other witness(es); expected k <= {members - 1}"
        )


def set_quorum(body: ManifestBody, quorum: int, issued_at: int) -> ManifestBody:
    """The next version with witness quorum ``quorum`` (k cosignatures of the *other*
    members per checkpoint).

    Raises:
        FormatError: more than the other members can give, or negative.
    """
    if quorum < 0:
        raise fail(f"quorum must be >= 0, got {quorum}")
    _require_reachable(quorum, len(body.members))
    return body.next_version(issued_at, quorum=quorum)


def remove_member(
    body: ManifestBody, region: str, issued_at: int, *, quorum: int | None = None
) -> ManifestBody:
    """The next version without the member of ``region``, its recognition agreements
    (either side) and the delegations of its records or to its issuers; ``quorum`` sets
    k at once (required when the old k could no longer be met). Its keys stay trusted
    for what they signed before this version (``Manifest`` closes their windows).

    Raises:
        FormatError: no such member, the last member, or a quorum the rest cannot meet.
    """
    member = body.member(region)
    if member is None:
        raise fail(f"no member with region {region!r}")
    members = tuple(m for m in body.members if m.region != region)
    if not members:
        raise fail("the last member cannot be removed")
    k = body.quorum if quorum is None else quorum
    _require_reachable(k, len(members))
    issuers = {i.issuer_id for i in member.issuers}
    return body.next_version(
        issued_at,
        members=members,
        quorum=k,
        recognitions=tuple(r for r in body.recognitions if region not in (r.region, r.recognises)),
        delegations=tuple(
            d for d in body.delegations if d.region != region and d.issuer not in issuers
        ),
    )


def _replace_member(
    body: ManifestBody, region: str, issued_at: int, **changes: Any
) -> ManifestBody:
    old = body.member(region)
    if old is None:
        raise fail(f"no member with region {region!r}")
    new = dataclasses.replace(old, **changes)
    return add_member(body, new, issued_at)


def rotate_issuer_key(
    body: ManifestBody,
    region: str,
    issuer_id: str,
    new_key: bytes,
    at: int,
    issued_at: int,
    kinds: Sequence[str] | None = None,
) -> ManifestBody:
    """Close every open window of ``issuer_id`` at ``at`` and add ``new_key`` from ``at``.

    The old keys stay listed (with their closed windows), so bundles signed before
    ``at`` keep verifying. ``kinds`` default to the union of the old keys' kinds.
    """
    member = body.member(region)
    if member is None:
        raise fail(f"no member with region {region!r}")
    old = [i for i in member.issuers if i.issuer_id == issuer_id]
    if not old and not kinds:
        raise fail(f"member {region} has no issuer {issuer_id!r} (give kinds to add one)")
    if any(i.key == new_key for i in old):
        raise fail(f"issuer {issuer_id}: the new key is already listed")
    kept: list[IssuerKey] = []
    for i in member.issuers:
        if i.issuer_id == issuer_id and (i.valid_until is None or i.valid_until > at):
            if i.valid_from >= at:
                raise fail(f"issuer {issuer_id}: a key starts at or after the rotation time")
            i = dataclasses.replace(i, valid_until=at)
        kept.append(i)
    new_kinds = tuple(kinds) if kinds else tuple(sorted({k for i in old for k in i.kinds}))
    kept.append(IssuerKey(issuer_id, new_key, at, None, new_kinds))
    return _replace_member(body, region, issued_at, issuers=tuple(kept))


def retire_log_key(
    body: ManifestBody, region: str, new_key: bytes, at: int, issued_at: int
) -> ManifestBody:
    """The next version with ``region``'s log key replaced; the old key is kept as a
    retired key so checkpoints and receipts it signed keep verifying."""
    member = body.member(region)
    if member is None:
        raise fail(f"no member with region {region!r}")
    retired = RetiredLogKey(member.log_key, member.log_note_name, at)
    return _replace_member(
        body,
        region,
        issued_at,
        log_key=new_key,
        retired_log_keys=(*member.retired_log_keys, retired),
    )


def _added(
    body: ManifestBody, field: str, item: Recognition | Delegation, issued_at: int
) -> ManifestBody:
    current: tuple[Recognition | Delegation, ...] = getattr(body, field)
    if item in current:
        raise fail(f"{field[:-1]} already listed: {item.describe()}")
    return body.next_version(issued_at, **{field: (*current, item)})


def _removed(
    body: ManifestBody, field: str, items: Sequence[Recognition | Delegation], issued_at: int
) -> ManifestBody:
    current: tuple[Recognition | Delegation, ...] = getattr(body, field)
    for item in items:
        if item not in current:
            raise fail(f"no such {field[:-1]}: {item.describe()}")
    return body.next_version(issued_at, **{field: tuple(x for x in current if x not in items)})


def add_recognition(body: ManifestBody, agreement: Recognition, issued_at: int) -> ManifestBody:
    """The next version with one more recognition agreement.

    Raises:
        FormatError: the agreement is already listed, or names a region that is not a
            member.
    """
    return _added(body, "recognitions", agreement, issued_at)


def remove_recognitions(
    body: ManifestBody, agreements: Sequence[Recognition], issued_at: int
) -> ManifestBody:
    """The next version without ``agreements``. Derived records signed while one was
    listed keep verifying: the chain closes its window at this version's ``issued_at``.

    Raises:
        FormatError: one of them is not in ``body``.
    """
    return _removed(body, "recognitions", agreements, issued_at)


def remove_recognition(body: ManifestBody, agreement: Recognition, issued_at: int) -> ManifestBody:
    """``remove_recognitions`` of one agreement."""
    return remove_recognitions(body, [agreement], issued_at)


def add_delegation(body: ManifestBody, delegation: Delegation, issued_at: int) -> ManifestBody:
    """The next version with one more repair delegation.

    Raises:
        FormatError: the delegation is already listed, or names a region that is not a
            member or an issuer no member lists.
    """
    return _added(body, "delegations", delegation, issued_at)


def remove_delegations(
    body: ManifestBody, delegations: Sequence[Delegation], issued_at: int
) -> ManifestBody:
    """The next version without ``delegations``. Statements signed while one was listed
    stay authorised: the chain closes its window at this version's ``issued_at``.

    Raises:
        FormatError: one of them is not in ``body``.
    """
    return _removed(body, "delegations", delegations, issued_at)


def remove_delegation(body: ManifestBody, delegation: Delegation, issued_at: int) -> ManifestBody:
    """``remove_delegations`` of one delegation."""
    return remove_delegations(body, [delegation], issued_at)

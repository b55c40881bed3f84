"""Membership changes: the witness quorum and removing a member, each the next version.

``set_witness_quorum`` and ``remove_member_region`` check what the current version says
(a member, this node's own region, a quorum the members can meet: k counts cosignatures
of the *other* members, so it is at most n - 1) and hand the next version to
``manifests.propose`` like every change in ``admin``. Nothing here prints.
"""

from __future__ import annotations

from credex.ledger.errors import ConfigError, FormatError
from credex.ledger.manifest import ManifestBody, remove_member, set_quorum
from credex.node.federation.manifests import Proposal, load_manifest, propose
from credex.node.home import NodeHome

__all__ = ["remove_member_region", "set_witness_quorum"]


def _current(home: NodeHome) -> ManifestBody:
    return load_manifest(home).latest


def set_witness_quorum(home: NodeHome, *, quorum: int, now: int) -> Proposal:
    """The next version with witness quorum ``quorum``.

    Raises:
        ConfigError: more cosignatures than the other members can give, or negative.
    """
    current = _current(home)
    try:
        body = set_quorum(current, quorum, now)
    except FormatError as e:
        raise ConfigError(f"federation: {str(e).removeprefix('manifest: ')}") from e
    return propose(home, body, now)


def remove_member_region(
    home: NodeHome, *, region: str, now: int, quorum: int | None = None
) -> Proposal:
    """The next version without the member of ``region`` (and its agreements and
    delegations); ``quorum`` sets k at once.

    Raises:
        ConfigError: not a member, this node's own region, or a quorum the remaining
            members cannot meet (pass a lower ``quorum``).
    """
    current = _current(home)
    if current.member(region) is None:
        raise ConfigError(f"federation: {region} is not a member")
    if region == home.region:
        raise ConfigError(
            f"federation: {region} is this node's own region: another member's admin removes it"
        )
    try:
        body = remove_member(current, region, now, quorum=quorum)
    except FormatError as e:
        raise ConfigError(
            f"federation: removing {region}: {str(e).removeprefix('manifest: ')} (pass --quorum K)"
        ) from e
    return propose(home, body, now)

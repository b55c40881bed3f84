"""Bundles as the public HTTP side hands them out: the sharing rules of gRPC, and never a
personal body.

- Only records still shared (``credex.node.services.sharing.require_shared``): a repaired,
  withdrawn, corrected, superseded or (publication window) expired record is refused with
  ``RecordWithheldError`` (HTTP 410); lifecycle statements are always shared.
- Never a ``preimage``: a person's record leaves as its RFC 9995 hash envelope (bodies
  leave a node only through the authorised, audited Lookup over mTLS). ``without_bodies``
  strips every level of a bundle, and a test checks each bundle served.
- Read-only: a bundle is anchored to the latest *signed* checkpoint; an entry it does not
  cover yet is ``NotFoundError`` (the HTTP side never signs).
- A derived record's bundle carries its sources and policy when this node holds them (its
  own log or a mirror), so a verifier can check step 8's references.

This module does not render or encode HTTP responses (``api.py`` does).
"""

from __future__ import annotations

from dataclasses import replace

from credex.ledger.bundle import Bundle
from credex.ledger.errors import NotFoundError, RecordWithheldError
from credex.ledger.indexing import lifecycle_in
from credex.ledger.statement import Statement
from credex.node.federation.mirrors import MirrorBundles
from credex.node.local import LocalNode
from credex.node.services.sharing import require_shared

__all__ = ["covered_size", "public_bundle", "without_bodies"]


def without_bodies(bundle: Bundle) -> Bundle:
    """``bundle`` with no ``preimage`` at any level (status, sources, policy)."""
    return replace(
        bundle,
        status=tuple(without_bodies(b) for b in bundle.status),
        sources=tuple(without_bodies(b) for b in bundle.sources),
        policy=None if bundle.policy is None else without_bodies(bundle.policy),
        preimage=None,
    )


def covered_size(node: LocalNode) -> int:
    """The size of the latest signed checkpoint (0 without one)."""
    cp = node.store.latest_checkpoint()
    return 0 if cp is None else cp.tree_size


def _own_bundle(node: LocalNode, index: int, now: int) -> Bundle:
    size = covered_size(node)
    if index >= size:
        raise NotFoundError(
            f"bundle: entry {index} is not covered by a signed checkpoint yet "
            f"(latest size {size}); try again after the next checkpoint"
        )
    target = node.statement_at(index)
    require_shared(target, lifecycle_in(node.log, target.leaf_hash), now)
    return node.bundle_with_status(index, now, fresh=False)


def _find(node: LocalNode, mirrors: MirrorBundles | None, leaf: bytes, now: int) -> Bundle | None:
    """A shared bundle of ``leaf`` from this node's log or a mirror, else None."""
    try:
        return _own_bundle(node, node.log.index_of(leaf), now)
    except (NotFoundError, RecordWithheldError):
        pass
    for origin in [] if mirrors is None else mirrors.origins():
        try:
            return mirrors.bundle(origin, leaf)[1]  # type: ignore[union-attr]
        except (NotFoundError, RecordWithheldError):
            continue
    return None


def _with_derivation(
    node: LocalNode, mirrors: MirrorBundles | None, bundle: Bundle, now: int
) -> Bundle:
    st = Statement.from_bytes(bundle.statement)
    if not st.kind.startswith("derived.") or not st.has_body or len(st.record.refs) < 2:
        return bundle
    found = [_find(node, mirrors, ref, now) for ref in st.record.refs]
    if any(b is None for b in found):
        return bundle  # a verifier then names what is missing (step 8)
    sources = tuple(b for b in found[:-1] if b is not None)
    return replace(bundle, sources=sources, policy=found[-1])


def public_bundle(
    node: LocalNode,
    leaf: bytes,
    now: int,
    *,
    origin: str | None = None,
    mirrors: MirrorBundles | None = None,
) -> tuple[int, Bundle]:
    """(leaf index, bundle) of the record with leaf hash ``leaf`` in this node's log, or in
    its mirror of ``origin``; no body at any level.

    Raises:
        NotFoundError: no such leaf (or not covered by a checkpoint yet), or ``origin`` is
            not mirrored here.
        RecordWithheldError: the record is no longer shared.
    """
    if origin is not None and origin != node.home.origin:
        if mirrors is None:
            raise NotFoundError("bundle: this node mirrors no peer logs")
        index, mirrored = mirrors.bundle(origin, leaf)
        return index, without_bodies(mirrored)
    index = node.log.index_of(leaf)
    bundle = _with_derivation(node, mirrors, _own_bundle(node, index, now), now)
    return index, without_bodies(bundle)

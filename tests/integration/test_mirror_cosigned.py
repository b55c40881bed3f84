"""A mirror keeps the newest checkpoint of each peer that met the witness quorum, and
what a bank verifies with the quorum rests on it (three real nodes, gRPC over TLS, real
homes on SQLite and PostgreSQL).

Ningbo logs a record and signs a checkpoint its witnesses have not cosigned yet;
Hangzhou mirrors it. Hangzhou's ``report --federation``, the completeness proof of its
lookups and its bundles of Ningbo's records rest on the last mirrored checkpoint that
carries the quorum, with every proof at that size, and verify with the manifest at once
(no waiting for a later round). Once the witnesses cosign that checkpoint and Ningbo has
signed yet another, the mirror fetches the cosignatures of the older one by its size and
moves forward; the index versions it no longer needs are pruned.
"""

from __future__ import annotations

import time
from datetime import datetime

from credex.ledger.checkpoint import SignedNote
from credex.ledger.errors import IndexVersionError
from credex.ledger.report_verify import verify_report
from credex.ledger.storage.index_store import SqlNodeStore
from credex.ledger.verify import verify_bundle
from credex.node import federation as federate
from credex.node.federation.holdings import Holdings
from credex.node.federation.mirrors import MirrorBundles, meets_quorum
from credex.node.federation.peers import mirror_url
from credex.node.services.reports import compile_report, completeness_proof

from .test_federation import Federation, _round
from .test_report_federation import CST, USCC, _penalty, fed3

__all__ = ["fed3"]


def _now() -> int:
    return int(time.time())


def _sync(f: Federation, at: int, of: int) -> None:
    r = federate.sync_peer(f.nodes[at].home, f.nodes[of].origin, _now(), manifest=f.manifest)
    assert r.error is None, r.error


def _sizes(f: Federation) -> tuple[int, int, bool]:
    """Hangzhou's mirror of Ningbo: (latest size, anchored size, latest meets the quorum)."""
    a, b = f.nodes[0], f.nodes[1]
    with MirrorBundles(b.home).view(a.origin) as view:
        latest = SignedNote.from_text(view.log.checkpoint(view.size).note)
        anchored = view.anchored(f.manifest)
        assert anchored is not None
        return view.size, anchored.size, meets_quorum(latest, f.manifest, a.origin)


def _in_force(f: Federation, now: int) -> tuple[list[int], int]:
    """Ningbo's part of Hangzhou's federation report: records in force, and its size."""
    a, b = f.nodes[0], f.nodes[1]
    assert b.node is not None
    rep = compile_report(b.node, USCC, now, now, holdings=Holdings.of(b.node))
    checked = verify_report(rep.to_bytes(), f.manifest)  # every part with the quorum
    assert checked.not_covered == ()
    part = next(p for p in checked.parts if p.origin == a.origin)
    return [r.index for r in part.records], part.size


def test_a_mirror_rests_on_its_newest_cosigned_checkpoint(fed3: Federation) -> None:
    a, b, _ = fed3.nodes
    assert a.node is not None and b.node is not None
    now = int(datetime.now(tz=CST).timestamp())
    day = datetime.fromtimestamp(now - 86_400, tz=CST).date().isoformat()
    [first] = a.node.issue([_penalty(a.home.region, 7, day)], iat=now - 86_000)
    _round(fed3)
    _round(fed3)
    size, anchored, cosigned = _sizes(fed3)
    assert cosigned and anchored == size
    cosigned_before = anchored
    # Ningbo logs another record and signs a checkpoint nobody has cosigned yet
    [second] = a.node.issue([_penalty(a.home.region, 8, day)], iat=now - 80_000)
    a.node.publish_checkpoint(_now())
    _sync(fed3, 1, 0)
    size, anchored, cosigned = _sizes(fed3)
    assert size > second.index and not cosigned and anchored == cosigned_before
    # the report, the lookup's proof and a bundle verify with the quorum right away
    assert _in_force(fed3, now) == ([first.index], anchored)
    holdings = Holdings.of(b.node)
    _, bundle = holdings.bundle(a.origin, first.index)
    assert verify_bundle(bundle.to_bytes(), fed3.manifest).ok
    assert SignedNote.from_text(bundle.checkpoint).checkpoint.size == anchored
    with holdings.views() as views:
        proof = completeness_proof(b.node, holdings, views, USCC, now)
    checked = verify_report(proof, fed3.manifest, served={a.origin: [bundle.to_bytes()]})
    assert {p.origin: p.size for p in checked.parts}[a.origin] == anchored
    # the witnesses cosign that checkpoint, Ningbo signs another before Hangzhou syncs:
    # the mirror asks for the older one by its size and keeps its cosignatures
    assert a.collect(fed3.manifest) == {}
    cosigned_size = a.node.log.size
    [third] = a.node.issue([_penalty(a.home.region, 9, day)], iat=now - 70_000)
    a.node.publish_checkpoint(_now())
    _sync(fed3, 1, 0)
    size, anchored, cosigned = _sizes(fed3)
    assert size > third.index and not cosigned and anchored == cosigned_size
    assert _in_force(fed3, now) == ([first.index, second.index], cosigned_size)
    # and once more: the checkpoint kept two steps back has no index version left
    assert a.collect(fed3.manifest) == {}
    a.node.issue([_penalty(a.home.region, 10, day)], iat=now - 60_000)
    a.node.publish_checkpoint(_now())
    _sync(fed3, 1, 0)
    assert _sizes(fed3)[1] > cosigned_size
    with SqlNodeStore(mirror_url(b.home, a.origin)) as nodes:
        nodes.root(cosigned_size)  # the one kept before stays for readers
        try:
            nodes.root(cosigned_before)
        except IndexVersionError:
            pass
        else:
            raise AssertionError("the index version two kept checkpoints back was not pruned")

"""Attack: a member serves manifest versions that do not extend the federation's chain.

Hangzhou (B) is tampered with: next to its real chain it serves a version 2 signed by a key
that is no admin, then one signed by the real admin but naming another version 1 (a fork).
Xiamen (C), fetching over the Log port as its follow loop does, refuses each: the version
in force stays version 1, and the served bytes are kept as evidence with the reason and
who served them (``credex federation show`` lists them).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from integration.small_federation import Small, now, small_federation

from credex.ledger.keys import SigningKey
from credex.ledger.manifest import ManifestBody, SignedManifest
from credex.node.federation import manifests as fed
from credex.node.federation.travel import MAX_REFUSED, fetch_versions, refused_versions
from credex.node.federation.watch import ManifestWatch
from credex.node.rpc.client import PeerClient
from credex.node.rpc.tls import NodeTls


@pytest.fixture
def small(tmp_path: Path) -> Iterator[Small]:
    s = small_federation(tmp_path)
    try:
        yield s
    finally:
        s.close()


def _serve_as_b(small: Small, version: SignedManifest) -> None:
    """Put ``version`` where B's server reads its chain from (B's own files)."""
    path = small.b.home.path / fed.FEDERATION_DIR / "manifest-2.cbor"
    path.write_bytes(version.to_bytes())


def _fetch_from_b(small: Small) -> str | None:
    ca = NodeTls(small.b.home.path, name=small.b.home.region).ca_pem()
    with PeerClient(small.b.public, ca_pem=ca) as client:
        return fetch_versions(small.c.home, client, small.b.origin, now()).error


def test_versions_that_do_not_extend_the_chain_are_refused_with_evidence(small: Small) -> None:
    c = small.c
    watch = ManifestWatch(c.home)
    v1 = fed.load_chain(c.home)[0]
    body = v1.body.next_version(now(), quorum=0)
    # 1. signed by a key that is no admin
    _serve_as_b(small, SignedManifest.create(body, [SigningKey(b"\x09" * 32)]))
    error = _fetch_from_b(small)
    assert error is not None and error.startswith("refused version 2: manifest: not enough")
    # 2. signed by the real admin, but chained to another version 1 (a fork)
    admin = fed.admin_key(small.a.home)
    other_v1 = ManifestBody(
        v1.body.federation, 1, None, now(), v1.body.members, 0, (admin.public_key,), 1
    )
    fork = other_v1.next_version(now())
    _serve_as_b(small, SignedManifest.create(fork, [admin]))
    error = _fetch_from_b(small)
    assert error is not None and "does not chain" in error
    # the version in force stays version 1, at C's files and at its server's watch
    assert [v.hash for v in fed.load_chain(c.home)] == [v1.hash]
    m = watch.current()
    assert m is not None and m.latest.version == 1
    # and the evidence: both served versions, byte for byte, with reason and server
    kept = refused_versions(c.home)
    assert [r.version for r in kept] == [2, 2]
    assert {r.served_by for r in kept} == {small.b.origin}
    assert any("not enough admin signatures" in r.reason for r in kept)
    assert any("does not chain" in r.reason for r in kept)
    for r in kept:
        data = Path(r.file).read_bytes()
        assert SignedManifest.from_bytes(data).body.version == 2
    assert MAX_REFUSED >= 2
    meta = json.loads(Path(kept[0].file).with_suffix(".json").read_text(encoding="utf-8"))
    assert set(meta) == {"version", "served_by", "reason", "at"}

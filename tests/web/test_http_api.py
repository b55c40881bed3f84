"""The public JSON API over real HTTP: records, bundles (verified by the Python verifier),
proofs, trust, the sharing rules (a repaired record is withheld, its repair is not), and
bad input (a 4xx with a JSON error, never a 500)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cbor2
import httpx
import pytest

from credex.ledger.merkle import verify_consistency, verify_inclusion
from credex.ledger.trust import TrustStore
from credex.ledger.verify import run_verification
from credex.node.local import LocalNode
from credex.node.services.lifecycle import repair

from .nodes import NOW, T0, issue_penalties, issue_scores, json_logs, make_home, served

ID_NUMBER = "11010519491231002X"
FULL_WIDTH = "\uff10" * 64  # full-width digits


@pytest.fixture
def node(tmp_path: Path) -> Iterator[LocalNode]:
    with LocalNode(make_home(tmp_path / "home")) as n:
        issue_penalties(n, 3)
        issue_scores(n, 2)  # entries 3, 4: person envelopes, bodies held here
        n.publish_checkpoint(T0)
        yield n


@pytest.fixture
def client(node: LocalNode) -> Iterator[httpx.Client]:
    with served(node) as s, httpx.Client(base_url=s.url) as c:
        yield c


def _leaf(node: LocalNode, i: int) -> str:
    return node.log.entry(i).leaf_hash.hex()


def _keys_of(value: Any) -> set[str]:
    if isinstance(value, dict):
        return {str(k) for k in value} | {k for v in value.values() for k in _keys_of(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys_of(v)}
    return set()


def test_an_organisation_record_and_its_bundle_verify(
    node: LocalNode, client: httpx.Client
) -> None:
    leaf = _leaf(node, 0)
    r = client.get(f"/api/v1/records/{leaf}")
    assert r.status_code == 200
    rec = r.json()
    assert rec["kind"] == "penalty.admin" and rec["envelope"] is False
    assert rec["body"]["authority"] == "宁波市市场监督管理局"
    assert rec["status"]["state"] == "active" and rec["status"]["shared"] is True
    assert rec["covered"] is True and rec["index"] == 0
    assert client.get("/api/v1/entries/0").json() == rec
    b = client.get(f"/api/v1/bundles/{leaf}")
    assert b.status_code == 200 and b.headers["content-type"] == "application/octet-stream"
    report = run_verification(b.content, node.home.trust())
    assert report.ok, report.to_json_value()


def test_a_person_record_is_its_envelope_only(node: LocalNode, client: httpx.Client) -> None:
    """No body on the public side, ever: the record JSON has none, the bundle has no
    preimage at any level (though this node holds the body and a local bundle carries it)."""
    leaf = _leaf(node, 3)
    held = node.bundle(3, NOW, with_body=True)  # an authorised path's bundle
    assert held.preimage is not None  # the node holds the body ...
    assert node.bundle(3, NOW).preimage is None  # ... and by default leaves it out
    rec = client.get(f"/api/v1/records/{leaf}").json()
    assert rec["envelope"] is True and rec["body"] is None and rec["refs"] == []
    assert rec["valid_from"] is None and rec["valid_until"] is None
    assert rec["subject"].startswith("hmac:") and rec["status"]["reasons"] == []
    b = client.get(f"/api/v1/bundles/{leaf}")
    assert b.status_code == 200
    value = cbor2.loads(b.content)
    assert "preimage" not in _keys_of(value)  # ... and never hands it out here
    assert held.preimage not in b.content
    report = run_verification(b.content, node.home.trust())
    assert report.failed_step == 7 and "not in this bundle" in str(report.error)


def test_a_repaired_record_is_withheld_and_its_repair_is_shared(tmp_path: Path) -> None:
    with LocalNode(make_home(tmp_path / "home")) as n:
        target = issue_penalties(n, 1)[0].leaf_hash
        fix = repair(n, target, route="fine paid", now=T0).result
        n.publish_checkpoint(T0)
        with served(n) as s, httpx.Client(base_url=s.url) as c:
            rec = c.get(f"/api/v1/records/{target.hex()}").json()
            assert rec["status"]["state"] == "repaired" and rec["status"]["shared"] is False
            assert [e["leaf_hash"] for e in rec["status"]["evidence"]] == [fix.leaf_hash.hex()]
            r = c.get(f"/api/v1/bundles/{target.hex()}")
            assert r.status_code == 410 and r.json()["error"]["code"] == "record_withheld"
            ev = c.get(f"/api/v1/bundles/{fix.leaf_hash.hex()}")
            assert ev.status_code == 200
            assert c.get(f"/api/v1/records/{fix.leaf_hash.hex()}").json()["status"] is None


def test_a_bundle_needs_a_signed_checkpoint(node: LocalNode, client: httpx.Client) -> None:
    new = issue_penalties(node, 1, seed=5)[0]
    r = client.get(f"/api/v1/bundles/{new.leaf_hash.hex()}")
    assert r.status_code == 404 and "not covered by a signed checkpoint" in r.text
    assert client.get(f"/api/v1/records/{new.leaf_hash.hex()}").json()["covered"] is False
    assert node.log.size == 6 and node.latest_checkpoint().checkpoint.size == 5  # type: ignore[union-attr]


def test_proofs_verify_against_signed_checkpoints(node: LocalNode, client: httpx.Client) -> None:
    first = node.latest_checkpoint()
    assert first is not None
    issue_penalties(node, 4, seed=3)
    second = node.publish_checkpoint(NOW).checkpoint
    p = client.get("/api/v1/proofs/inclusion", params={"index": 2}).json()
    assert p["tree_size"] == second.size and p["root"] == second.root.hex()
    verify_inclusion(
        bytes.fromhex(p["leaf_hash"]), 2, second.size, [bytes.fromhex(h) for h in p["proof"]],
        second.root,
    )  # fmt: skip
    c = client.get("/api/v1/proofs/consistency", params={"old_size": 5}).json()
    verify_consistency(
        5, second.size, first.checkpoint.root, second.root, [bytes.fromhex(h) for h in c["proof"]]
    )
    receipt = client.get("/api/v1/receipts/1", params={"tree_size": 5})
    assert receipt.status_code == 200 and receipt.content == node.receipt(1, 5)
    history = client.get("/api/v1/checkpoints", params={"limit": 1}).json()
    assert [cp["tree_size"] for cp in history["checkpoints"]] == [9]
    assert history["next_below"] == 9
    older = client.get("/api/v1/checkpoints", params={"below": 9}).json()
    assert [cp["tree_size"] for cp in older["checkpoints"]] == [5] and older["next_below"] is None
    assert client.get("/api/v1/checkpoints/5").json()["root"] == first.checkpoint.root.hex()
    log = client.get("/api/v1/log").json()
    assert log["tree_size"] == 9 and log["checkpoint"]["tree_size"] == 9


def test_trust_and_federation(node: LocalNode, client: httpx.Client) -> None:
    trust = client.get("/api/v1/trust")
    assert trust.headers["content-type"] == "application/json"
    assert TrustStore.from_json(trust.text) == node.home.trust()
    for path in ("/api/v1/manifest", "/api/v1/federation"):
        r = client.get(path)
        assert r.status_code == 404 and "no federation manifest" in r.json()["error"]["message"]


BAD = [
    ("/api/v1/records/zz", 400),
    (f"/api/v1/records/{'a' * 63}", 400),
    (f"/api/v1/records/{'a' * 65}", 400),
    (f"/api/v1/records/{FULL_WIDTH}", 400),
    (f"/api/v1/records/{ID_NUMBER}", 400),  # an ID number typed where a leaf hash goes
    (f"/api/v1/records/{'ab' * 32}", 404),
    (f"/api/v1/bundles/{'ab' * 32}", 404),
    (f"/api/v1/bundles/{'ab' * 32}?origin=a+b", 400),
    (f"/api/v1/bundles/{'ab' * 32}?origin=peer.example/log", 404),
    ("/api/v1/entries/-1", 400),
    ("/api/v1/entries/5", 404),
    ("/api/v1/entries/1e3", 400),
    (f"/api/v1/entries/{2**64}", 400),
    ("/api/v1/proofs/inclusion", 400),
    ("/api/v1/proofs/inclusion?index=x", 400),
    ("/api/v1/proofs/inclusion?index=5", 404),
    ("/api/v1/proofs/inclusion?index=0&tree_size=6", 404),
    ("/api/v1/proofs/inclusion?index=0&tree_size=0", 400),
    ("/api/v1/proofs/consistency?old_size=6", 404),
    ("/api/v1/proofs/consistency?old_size=0", 400),
    ("/api/v1/receipts/0?tree_size=3", 404),
    ("/api/v1/checkpoints/4", 404),
    ("/api/v1/checkpoints?limit=0", 400),
    ("/api/v1/checkpoints?limit=101", 400),
    (f"/record/{ID_NUMBER}", 400),
    ("/entry/99", 404),
    (f"/search?q={ID_NUMBER}", 400),
    ("/api/v2/records", 404),
    ("/no/such/page", 404),
]


def test_bad_input_is_a_4xx_json_error_and_logs_nothing_personal(
    node: LocalNode, client: httpx.Client
) -> None:
    out = io.StringIO()
    with json_logs(out):
        for path, status in BAD:
            r = client.get(path)
            assert r.status_code == status, (path, r.text)
            body = r.json()
            assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, path
            assert "Traceback" not in r.text
        assert client.post("/api/v1/log").status_code == 405
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    requests = [x for x in lines if x["event"] == "http.request"]
    assert len(requests) == len(BAD) + 1
    assert all(len(x["request_id"]) == 32 for x in requests)
    assert {x["route"] for x in requests} >= {"/api/v1/records/{leaf_hash}", "<unmatched>"}
    assert ID_NUMBER not in out.getvalue()


def test_the_request_id_is_echoed_or_made(client: httpx.Client) -> None:
    r = client.get("/healthz", headers={"X-Request-Id": "bank-7.trace_1"})
    assert r.headers["x-request-id"] == "bank-7.trace_1"
    r = client.get("/healthz", headers={"X-Request-Id": "no spaces\u00e9".encode()})
    assert len(r.headers["x-request-id"]) == 32
    assert r.json() == {"status": "ok", "origin": "credex.ningbo.example/log", "tree_size": 5}

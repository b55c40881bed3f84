"""Attacks on a node's public HTTP side, each named after what it tries: getting a
person's body out, walking out of the static folder, injecting HTML or script through a
record's fields, oversized or odd requests. The answer is always a 4xx JSON error or a
page that shows the text as text; never a body, a key or a 500."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from pathlib import Path

import cbor2
import httpx
import pytest
from web.nodes import NOW, T0, issue_scores, make_home, served

from credex.ledger.record import Record, Subject
from credex.node.local import LocalNode
from credex.node.services.lifecycle import repair

SCRIPT = "</script><script>alert(1)</script><img src=x onerror=alert(2)>"


@pytest.fixture
def node(tmp_path: Path) -> Iterator[LocalNode]:
    with LocalNode(make_home(tmp_path / "home")) as n:
        issue_scores(n, 2)  # 0, 1: persons
        hostile = Record(
            kind="penalty.admin",
            region="cn-zj-ningbo",
            subject=Subject("org", "91330200MA0YX00163"),
            body={
                "decision_no": SCRIPT,
                "decision_date": "2025-01-10",
                "penalty_types": [SCRIPT],
                "content": SCRIPT,
                "authority": "宁波市市场监督管理局",
                "authority_uscc": "11330200002950433L",
            },
            valid_from=calendar.timegm((2025, 1, 10, 0, 0, 0)),
        )
        n.issue([hostile], iat=T0)  # 2
        repair(n, n.log.entry(0).leaf_hash, route="score corrected", now=T0)  # 3: about a person
        n.publish_checkpoint(T0)
        yield n


def _walk(value: object) -> Iterator[object]:
    yield value
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)
    elif isinstance(value, cbor2.CBORTag):
        yield from _walk(value.value)


def test_person_body_cannot_be_had_from_any_public_route(node: LocalNode) -> None:
    bodies = [node.bodies.get(node.log.entry(i).leaf_hash) for i in (0, 1)]
    assert all(b is not None for b in bodies)
    with served(node) as s, httpx.Client(base_url=s.url) as c:
        leafs = [node.log.entry(i).leaf_hash.hex() for i in range(4)]
        seen = b""
        for path in (
            *(f"/api/v1/records/{x}" for x in leafs),
            *(f"/api/v1/bundles/{x}" for x in leafs),
            *(f"/record/{x}" for x in leafs),
            "/api/v1/entries/0",
            "/api/v1/entries/1",
            "/tile/entries/000.p/4",
            f"/api/v1/bundles/{leafs[1]}?origin=credex.ningbo.example/log",
            "/",
        ):
            r = c.get(path)
            assert r.status_code in (200, 410), (path, r.status_code)
            seen += r.content
            if path.startswith("/api/v1/bundles/") and r.status_code == 200:
                keys = {x for x in _walk(cbor2.loads(r.content)) if isinstance(x, str)}
                assert "preimage" not in keys, path
    for body in bodies:
        assert body is not None and body not in seen
        record = cbor2.loads(body)
        for value in record["body"].values():  # every field value of the body
            text = str(value)
            if len(text) > 3:
                assert text.encode() not in seen, text


def test_static_folder_cannot_be_walked_out_of(node: LocalNode) -> None:
    log_key = (node.home.keys_dir / "log.key").read_text().strip()
    with served(node) as s, httpx.Client(base_url=s.url) as c:
        for path in (
            "/static/../../node.json",
            "/static/%2e%2e/%2e%2e/keys/log.key",
            "/static/..%2f..%2fkeys%2flog.key",
            "/static/explorer/../../../../../etc/passwd",
            "/static/verify/%00",
        ):
            r = c.get(path)
            assert r.status_code in (400, 404), (path, r.status_code)
            assert log_key not in r.text and "root:" not in r.text


def test_record_fields_cannot_inject_html_or_script(node: LocalNode) -> None:
    leaf = node.log.entry(2).leaf_hash.hex()
    with served(node) as s:
        html = httpx.get(f"{s.url}/record/{leaf}").text
    assert SCRIPT not in html and "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    data = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html, re.S)
    assert data is not None and "</script" not in data.group(1)


def test_oversized_and_odd_requests_are_4xx(node: LocalNode) -> None:
    with served(node) as s, httpx.Client(base_url=s.url) as c:
        for path in (
            "/tile/" + "0/" * 2000 + "000",
            "/api/v1/records/" + "a" * 10_000,
            "/search?q=" + "1" * 5000,
            "/api/v1/checkpoints?limit=" + "9" * 400,
            "/api/v1/proofs/consistency?old_size=1&new_size=1&new_size=2",
        ):
            r = c.get(path)
            assert 400 <= r.status_code < 500, (path[:40], r.status_code)
            assert r.json()["error"]["code"] in ("format", "not_found"), path[:40]
        r = c.get("/healthz", headers={"X-Request-Id": "a" * 65})
        assert r.headers["x-request-id"] != "a" * 65
        assert c.request("TRACE", "/api/v1/log").status_code == 405
    assert NOW > T0

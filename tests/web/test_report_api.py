"""The report and index routes of the JSON API on a served node: the report on an
organisation verifies with the Python verifier (complete as of the latest checkpoint);
the subject and status index proofs verify against the checkpoint's index root and chain
exactly the items listed; search takes an organisation id to its subject page, and a
record page links it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from credex.ledger.checkpoint import SignedNote
from credex.ledger.index_map import parse_index_extension, status_value, subject_value
from credex.ledger.report_verify import verify_report
from credex.ledger.vindex.proof import LookupProof
from credex.ledger.vindex.verify import verify_lookup
from credex.node.home import NodeHome
from credex.node.local import LocalNode
from credex.node.services.published import publish_report

from .nodes import served
from .reports import AS_OF, COMPANY, honest, make_report_home, report_scene


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> NodeHome:
    return report_scene(make_report_home(tmp_path_factory.mktemp("api") / "ningbo"))


def _check(info: dict[str, object]) -> tuple[LookupProof, bytes | None]:
    note = SignedNote.from_text(str(info["checkpoint"]))
    root = parse_index_extension(note.checkpoint.extensions)
    assert root is not None and note.checkpoint.size == info["tree_size"]
    proof = LookupProof.from_bytes(bytes.fromhex(str(info["proof"])))
    assert proof.key.hex() == info["key"]
    verify_lookup(root, proof.key, proof.value, proof)
    return proof, proof.value


def test_report_and_index_routes(home: NodeHome) -> None:
    with LocalNode(home) as node, served(node, clock=lambda: AS_OF) as s:
        r = httpx.get(f"{s.url}/api/v1/reports/subject/{COMPANY.id}")
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/vnd.credex.report+cbor"
        checked = verify_report(r.content, home.trust())
        [part] = checked.parts
        assert [x.index for x in part.records] == [1, 3] and part.size == 5

        info = httpx.get(f"{s.url}/api/v1/index/subject/{COMPANY.id}").json()
        _, value = _check(info)
        items = [(i["index"], bytes.fromhex(i["leaf_hash"]), i["kind"]) for i in info["items"]]
        assert [i[0] for i in items] == [0, 1, 3, 4] and value == subject_value(items)

        repaired = node.log.entry(0).leaf_hash.hex()
        info = httpx.get(f"{s.url}/api/v1/index/status/{repaired}").json()
        _, value = _check(info)
        assert [i["index"] for i in info["items"]] == [4]
        assert value == status_value([(4, bytes.fromhex(info["items"][0]["leaf_hash"]))])
        info = httpx.get(f"{s.url}/api/v1/index/status/{node.log.entry(1).leaf_hash.hex()}").json()
        assert _check(info)[1] is None and info["items"] == []  # absence proven

        assert httpx.get(f"{s.url}/api/v1/index/status/{'ab' * 32}").status_code == 404
        assert httpx.get(f"{s.url}/api/v1/reports/subject/{COMPANY.id}?x=1").status_code == 400


def test_published_report_is_served_as_published(home: NodeHome) -> None:
    data = honest(home).to_bytes()
    digest = publish_report(home, data)
    assert publish_report(home, data) == digest  # idempotent
    with LocalNode(home) as node, served(node, clock=lambda: AS_OF) as s:
        r = httpx.get(f"{s.url}/api/v1/reports/published/{digest}")
        assert r.content == data and "immutable" in r.headers["cache-control"]
        page = httpx.get(f"{s.url}/report/{digest}")
        assert page.status_code == 200 and digest in page.text
        assert httpx.get(f"{s.url}/api/v1/reports/published/{digest.upper()}").status_code == 400


def test_search_and_record_pages_lead_to_the_subject_page(home: NodeHome, tmp_path: Path) -> None:
    del tmp_path
    with LocalNode(home) as node, served(node, clock=lambda: AS_OF) as s:
        r = httpx.get(f"{s.url}/search", params={"q": COMPANY.id.lower()})
        assert r.status_code == 303 and r.headers["location"] == f"/subject/{COMPANY.id}"
        page = httpx.get(f"{s.url}/record/{node.log.entry(1).leaf_hash.hex()}").text
        assert f'href="/subject/{COMPANY.id}"' in page
        assert httpx.get(f"{s.url}/search", params={"q": "11010519491231002X"}).status_code == 400

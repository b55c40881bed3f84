"""The explorer's pages over real HTTP: the log (checkpoint history, witnesses, latest
entries), a record (status and evidence, the conversion chain), the federation (members,
keys, agreements, versions), in Chinese and English; search and redirects."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from credex.ledger.trust_material import load_trust
from credex.node.federation.admin import init_federation
from credex.node.local import LocalNode
from credex.node.services.lifecycle import repair

from .nodes import NOW, T0, issue_penalties, make_home, served


@pytest.fixture
def home_with_federation(tmp_path: Path) -> Path:
    home = make_home(tmp_path / "home")
    init_federation(home, "yangtze", endpoint="127.0.0.1:7420", quorum=0, now=int(time.time()))
    return home.path


def test_log_page_shows_checkpoints_witnesses_and_entries(home_with_federation: Path) -> None:
    with LocalNode.open(home_with_federation) as n:
        issue_penalties(n, 3)
        n.publish_checkpoint(T0)
        issue_penalties(n, 1, seed=2)
        n.publish_checkpoint(NOW)
        with served(n) as s, httpx.Client(base_url=s.url) as c:
            html = c.get("/").text
            assert "检查点历史 · Checkpoint history" in html and "见证节点 · Witnesses" in html
            assert html.count("<tr><td>") >= 2 + 5  # two checkpoints, five entries
            assert "行政处罚" in html and "联盟清单" in html  # kind names in Chinese
            fed = c.get("/federation").text
            assert "yangtze" in fed and "cn-zj-ningbo" in fed and 'id="pin"' in fed
            info = c.get("/api/v1/federation").json()
            assert info["federation"] == "yangtze" and info["versions"][0]["version"] == 1
            assert info["members"][0]["log_key"] == n.home.log_key().public_key.hex()
            chain = c.get("/api/v1/manifest").content
            trust = load_trust(chain, pin=bytes.fromhex(info["pin"]))
            assert trust.quorum_for(n.home.origin) == 0
            r = c.get("/search", params={"q": "2"}, follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"] == "/entry/2"
            r = c.get("/entry/2", follow_redirects=False)
            assert r.headers["location"] == f"/record/{n.log.entry(2).leaf_hash.hex()}"


def test_record_page_shows_status_evidence_in_plain_words(tmp_path: Path) -> None:
    with LocalNode(make_home(tmp_path / "home")) as n:
        target = issue_penalties(n, 1)[0].leaf_hash
        fix = repair(n, target, route="fine paid", now=T0).result.leaf_hash
        n.publish_checkpoint(T0)
        with served(n) as s:
            html = httpx.get(f"{s.url}/record/{target.hex()}").text
    assert 'data-state="repaired"' in html
    assert "已完成信用修复，不再公示" in html and "Repaired (信用修复)" in html
    assert f'data-leaf="{fix.hex()}"' in html and "信用修复" in html
    assert "no longer shared" in html
    assert f"/api/v1/bundles/{target.hex()}" not in html.split('id="page-data"')[0]

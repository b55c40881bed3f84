"""A36: a person's report on the public side. A person's report carries their records with
their bodies; it leaves a node only with the bank whose authorised lookup asked. So the
public HTTP side refuses every route that would compile, list or serve one (403, no
content), even a person's report file an operator dropped into the published folder;
``credex qr --report`` refuses to publish one (nothing is written), and a node publishes
only reports its own log key signed."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from credex.ledger.errors import PolicyError
from credex.node.home import NodeHome
from credex.node.local import LocalNode
from credex.node.services.published import PUBLISHED_DIR, publish_report
from credex.node.services.reports import compile_report
from tests.web.nodes import NOW, T0, issue_penalties, issue_scores, make_home, served


@pytest.fixture
def node(tmp_path: Path) -> Iterator[LocalNode]:
    with LocalNode(make_home(tmp_path / "home")) as n:
        issue_scores(n, 1)
        n.publish_checkpoint(T0)
        yield n


def _person_report(node: LocalNode) -> tuple[str, bytes]:
    subject = node.statement_at(0).claims.sub
    return subject, compile_report(node, subject, NOW, NOW, fresh=False).to_bytes()


def test_no_route_serves_a_persons_report(node: LocalNode) -> None:
    subject, data = _person_report(node)
    body = node.statement_at(0).record.body
    digest = hashlib.sha256(data).hexdigest()
    folder = node.home.path / PUBLISHED_DIR
    folder.mkdir(parents=True)
    (folder / f"{digest}.credex-report").write_bytes(data)  # planted by hand
    with served(node) as s:
        for path in (
            f"/api/v1/reports/subject/{subject}",
            f"/api/v1/index/subject/{subject}",
            f"/subject/{subject}",
            f"/api/v1/reports/published/{digest}",
            f"/report/{digest}",
        ):
            r = httpx.get(s.url + path)
            assert r.status_code == 403, (path, r.status_code)
            assert r.json()["error"]["code"] == "policy", path
            assert "never on the public side" in r.json()["error"]["message"]
            assert f'"score": {body["score"]}' not in r.text and data[-64:] not in r.content


def test_qr_refuses_to_publish_a_persons_report(node: LocalNode, tmp_path: Path) -> None:
    from credex.cli.main import main

    _, data = _person_report(node)
    f = tmp_path / "person.credex-report"
    f.write_bytes(data)
    code = tmp_path / "c.png"
    argv = ["qr", "--report", str(f), "-o", str(code), "--base-url", "https://x.example"]
    with pytest.raises(SystemExit) as e:
        main([*argv, "--home", str(node.home.path)])
    assert e.value.code != 0
    assert not (node.home.path / PUBLISHED_DIR).exists() and not code.exists()


def test_a_report_another_log_key_signed_is_not_published(node: LocalNode, tmp_path: Path) -> None:
    issue_penalties(node, 1)
    node.publish_checkpoint(NOW)
    org = node.statement_at(1).claims.sub
    data = compile_report(node, org, NOW, NOW, fresh=False).to_bytes()
    publish_report(node.home, data)  # its own: fine
    other = NodeHome.init(
        tmp_path / "other",
        region="cn-zj-ningbo",
        origin="credex.ningbo.example/log",
        db=None,
        now=T0,
        log_seed=b"\x09" * 32,
        subject_secret=b"\x02" * 32,
        platform_seed=b"\x03" * 32,
    )
    with pytest.raises(PolicyError, match="not signed by this node's log key"):
        publish_report(other, data)
    assert not (other.path / PUBLISHED_DIR).exists()

"""A37: a resident ID number typed (or scanned) into a subject URL: ``/subject/<id>``,
``/api/v1/reports/subject/<id>``, ``/api/v1/index/subject/<id>``. A person is never a
subject there: the number (it passes the USCC grammar, and its own GB 11643 check) is
refused as an organisation id (400), never echoed in the answer, and the request's log
line carries the route template, never the path typed."""

from __future__ import annotations

import io
from pathlib import Path

import httpx

from credex.node.local import LocalNode
from tests.web.nodes import T0, issue_penalties, json_logs, make_home, served

RESIDENT_ID = "11010519491231002X"


def test_a_resident_id_in_a_subject_url_is_refused_and_never_echoed(tmp_path: Path) -> None:
    stream = io.StringIO()
    with LocalNode(make_home(tmp_path / "home")) as node:
        issue_penalties(node, 1)
        node.publish_checkpoint(T0)
        with json_logs(stream), served(node) as s:
            for path in ("/subject/", "/api/v1/reports/subject/", "/api/v1/index/subject/"):
                r = httpx.get(f"{s.url}{path}{RESIDENT_ID}", headers={"X-Request-Id": "a37"})
                assert r.status_code == 400, (path, r.status_code)
                assert r.json()["error"]["code"] == "identifier", path
                assert RESIDENT_ID not in r.text and RESIDENT_ID[:17] not in r.text, path
    logged = stream.getvalue()
    assert "a37" in logged and "/subject/{subject}" in logged
    assert RESIDENT_ID[:17] not in logged and RESIDENT_ID[6:14] not in logged

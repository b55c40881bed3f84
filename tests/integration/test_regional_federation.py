"""One source per fact and evaluations across regions, on two real nodes with TLS
servers, a signed manifest, cosignatures and verified mirrors (issue #12 points 1, 5).

Ningbo imports a penalty and a court list; Hangzhou mirrors Ningbo. Hangzhou's own feed
then reports the same decisions: each is linked to Ningbo's report and not logged; one
with other values is refused naming the field. Hangzhou evaluates a Ningbo company
under a purpose rule from Ningbo's mirrored records, and a bank holding only the
manifest verifies the decision with its evidence (steps 1-8). Hangzhou runs on SQLite
and PostgreSQL (``store_url``)."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import credex.adapters
from credex.adapters.registry import ADAPTERS
from credex.adapters.sample import PENALTY_HEADER
from credex.ledger.record import Subject
from credex.ledger.verify import run_verification
from credex.node.services.importer import import_bytes
from credex.node.services.rules import add_rule, check_purpose

from .test_conflicts import Pair, _drop_mirror_schemas, _pair

RULES = Path(credex.adapters.__file__).parent / "rules"
SAMPLES = Path(credex.adapters.__file__).parent / "samples"
COMPANY = "91330200MA0YX00163"


@pytest.fixture
def pair(tmp_path: Path, store_url: str) -> Iterator[Pair]:
    p = _pair(tmp_path, None if store_url.startswith("sqlite") else store_url)
    try:
        yield p
    finally:
        p.ningbo.close()
        p.hangzhou.close()
        if not store_url.startswith("sqlite"):
            _drop_mirror_schemas(store_url)


def _now() -> int:
    return int(time.time())


def _penalties(*contents: str, number: str = "甬市监罚〔2026〕88号") -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(PENALTY_HEADER)
    for content in contents:
        row = {
            "行政相对人名称": "示例贸易有限公司",
            "行政相对人类别": "法人及非法人组织",
            "行政相对人代码_1（统一社会信用代码）": COMPANY,
            "行政处罚决定书文号": number,
            "处罚类别": "罚款",
            "处罚内容": content,
            "处罚决定日期": "2026-05-02",
            "处罚机关": "宁波市市场监督管理局",
            "处罚机关统一社会信用代码": "11330200MA0YX8018B",
        }
        w.writerow([row.get(h, "") for h in PENALTY_HEADER])
    return b"\xef\xbb\xbf" + out.getvalue().encode()


def test_the_same_decision_from_two_regions_is_one_fact(pair: Pair) -> None:
    nb, hz = pair.ningbo.node, pair.hangzhou.node
    assert nb is not None and hz is not None
    first = import_bytes(nb, ADAPTERS["penalty-csv"], _penalties("罚款人民币一万元"), iat=_now())
    assert first.imported == 1
    court = (SAMPLES / "court_list.csv").read_bytes()
    assert import_bytes(nb, ADAPTERS["court-list-csv"], court, iat=_now()).imported == 4
    pair.round((pair.hangzhou, pair.ningbo))
    size = hz.log.size
    # Hangzhou's platform receives the same decision (another bracket form) and the court
    # list: every row is a fact Ningbo already reported
    again = import_bytes(
        hz,
        ADAPTERS["penalty-csv"],
        _penalties("罚款人民币一万元", number="甬市监罚[2026]88号"),
        iat=_now(),
    )
    assert again.imported == 0 and len(again.duplicates) == 1
    assert again.duplicates[0].first.startswith("credex.ningbo.example/log#")
    assert "cn-zj-ningbo" in again.duplicates[0].first
    listed = import_bytes(hz, ADAPTERS["court-list-csv"], court, iat=_now())
    # the person's entry cannot be compared: Hangzhou's mirror holds its envelope only
    assert listed.imported == 1 and len(listed.duplicates) == 3
    assert all(i >= size for i in listed.indices)
    conflict = import_bytes(hz, ADAPTERS["penalty-csv"], _penalties("罚款人民币两万元"), iat=_now())
    assert conflict.imported == 0 and "content differ" in conflict.errors[0].reason
    assert hz.log.size == size + 1  # only the person's court entry, whose twin is not readable


def test_a_decision_from_mirrored_evidence_verifies_with_the_manifest(pair: Pair) -> None:
    nb, hz = pair.ningbo.node, pair.hangzhou.node
    assert nb is not None and hz is not None
    court = (SAMPLES / "court_list.csv").read_bytes()
    assert import_bytes(nb, ADAPTERS["court-list-csv"], court, iat=_now()).imported == 4
    pair.round((pair.hangzhou, pair.ningbo))
    rule = json.loads((RULES / "restricted_high_consumption.json").read_text(encoding="utf-8"))
    add_rule(hz, rule, now=_now())
    done = check_purpose(
        hz,
        Subject("org", "91330200MA0YX0059G"),
        "RESTRICTED_HIGH_CONSUMPTION",
        asker="rail:hangzhou",
        now=_now(),
    )
    assert done.decision.prepared.result == "deny"
    assert [f.origin for f in done.decision.prepared.found] == ["credex.ningbo.example/log"]
    pair.round((pair.ningbo, pair.hangzhou))  # Hangzhou's checkpoint gets cosigned
    own = hz.bundle(done.decision.result.index, _now())
    bundle = type(done.decision.bundle)(
        own.statement,
        own.checkpoint,
        sources=done.decision.bundle.sources,
        policy=hz.bundle(hz.log.index_of(done.decision.prepared.rule_leaf), _now()),
    )
    report = run_verification(bundle.to_bytes(), pair.manifest)
    assert report.ok, report.error
    assert "deny [published]" in report.steps[-1].detail

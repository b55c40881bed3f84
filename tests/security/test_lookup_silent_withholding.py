"""A node that silently withholds from a bank's lookup (docs/spec.md §5.4, Query.Lookup's
``completeness``): three real nodes over gRPC with TLS; Hangzhou answers a bank's lookup
on a Ningbo company from its mirror. The honest answer's completeness proof checks; an
answer with a served record dropped, or a proof about another subject, or no proof at
all is caught by ``credex lookup --trust``'s check, naming what is missing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from credex.ledger.record import Record, Subject
from credex.node.services.banking import check_completeness
from tests.integration.test_federation import Federation, _federation, _round

USCC = "91330100MA0YX0016X"
OTHER = "91330200MA2H2F1A1Q"
CST = timezone(timedelta(hours=8))


def _unix(d: str) -> int:
    return int(datetime.fromisoformat(d).replace(tzinfo=CST).timestamp())


def _penalty(number: int, subject: str = USCC) -> Record:
    body: dict[str, object] = {
        "decision_no": f"甬市监罚〔2026〕{number}号",
        "decision_date": "2026-05-10",
        "penalty_types": ["罚款"],
        "content": "罚款",
        "authority": "宁波市市场监督管理局",
        "authority_uscc": "11330200MB1234567X",
    }
    return Record(
        "penalty.admin", "cn-zj-ningbo", Subject("org", subject), body, _unix("2026-05-10")
    )


@pytest.fixture
def fed3(tmp_path: Path) -> Iterator[Federation]:
    f = _federation(tmp_path, None)
    try:
        yield f
    finally:
        for n in f.nodes:
            n.close()


def _served(answer: object) -> dict[str, list[bytes]]:
    out: dict[str, list[bytes]] = {}
    for r in answer.records:  # type: ignore[attr-defined]
        if r.bundle is not None:
            out.setdefault(r.origin, []).append(r.bundle)
    return out


def test_lookup_that_silently_withholds_a_record_is_caught(fed3: Federation) -> None:
    a, b, _ = fed3.nodes
    assert a.node is not None
    first, second = a.node.issue([_penalty(7), _penalty(8)], iat=_unix("2026-05-11"))
    a.node.issue([_penalty(9, OTHER)], iat=_unix("2026-05-11"))
    _round(fed3)
    _round(fed3)
    with b.bank() as bank:
        answer = bank.lookup(subject=USCC, purpose="eligibility", authorisation="loan:HZ-1")
        other = bank.lookup(subject=OTHER, purpose="eligibility", authorisation="loan:HZ-2")
    served = _served(answer)
    assert len(served[a.origin]) == 2
    honest = check_completeness(answer.completeness, USCC, fed3.manifest, served)
    assert honest["ok"], honest
    assert a.origin in [p["origin"] for p in honest["covered"]]
    # the node drops the second penalty from its answer: the proof still lists it
    dropped = {**served, a.origin: served[a.origin][:1]}
    caught = check_completeness(answer.completeness, USCC, fed3.manifest, dropped)
    assert not caught["ok"] and caught["code"] == "report_incomplete"
    assert (
        f"record at index {second.index} is listed in force but its bundle is not served"
        in (caught["error"])
    ), caught
    assert first.index != second.index
    # a record of another subject slipped in
    mixed = {**served, a.origin: [*served[a.origin], *_served(other)[a.origin]]}
    caught = check_completeness(answer.completeness, USCC, fed3.manifest, mixed)
    assert not caught["ok"] and "about another subject" in caught["error"]
    # the proof of another subject's lookup, or none at all
    caught = check_completeness(other.completeness, USCC, fed3.manifest, served)
    assert not caught["ok"] and caught["code"] in ("report_subject", "verification")
    caught = check_completeness(b"", USCC, fed3.manifest, served)
    assert not caught["ok"] and "no completeness proof" in caught["error"]

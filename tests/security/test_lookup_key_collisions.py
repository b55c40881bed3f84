"""A53: lookups by 4-byte keys (issue #16, the PostgreSQL layout): an entry keeps the first
4 bytes of a hash of its subject (``subject_key``) and of its record (``record_key``),
not the subject or the record hash. Two subjects, or two records, that share a key are
found by constructed collisions (a brute-force search of a few seconds, done once; each
test checks that its pair does collide) and then:

- a lookup by one subject must never return the other subject's entries (each candidate
  is confirmed by its statement's ``sub``), on SQLite and on PostgreSQL;
- a record whose key is already in the log (another record's) must still be logged: the
  record lookup before signing confirms each candidate against the statement's issuer
  and payload, so a collision can never make the import skip a record that is not
  logged; and each record is then logged once.
"""

from __future__ import annotations

from pathlib import Path

from credex.ledger.indexing import leaf_for
from credex.ledger.keys import SigningKey
from credex.ledger.log import AppendOnlyLog
from credex.ledger.record import Record, Subject
from credex.ledger.statement import sign_statement
from credex.ledger.storage.sql import record_key, subject_key
from credex.node.local import LocalNode, create_home, record_hash

T0 = 1_790_000_000
KEY = SigningKey(bytes(range(32)))
ISSUER = "cn-zj-hangzhou/platform"
#: two valid organisation codes with the same ``subject_key``
SUBJECTS = ("913301000007338459", "91330100001053235R")
#: ``valid_from`` offsets of two records of SUBJECTS[0] with the same ``record_key``
#: under ISSUER
COLLIDING_FROM = (13156, 84805)


def _score(org: str, valid_from: int, score: int = 700) -> Record:
    body = {
        "scheme": "HANGZHOU_QIANJIANG",
        "score": score,
        "band": "良好",
        "as_of": "2026-11-01",
        "level": "L3",
    }
    return Record("score.city", "cn-zj-hangzhou", Subject("org", org), body, valid_from)


def test_a_subject_key_collision_never_returns_another_subjects_entries(
    log: AppendOnlyLog,
) -> None:
    a, b = SUBJECTS
    assert a != b and subject_key(a) == subject_key(b)
    leaves = [
        leaf_for(sign_statement(_score(org, T0 + i, 600 + i), ISSUER, KEY, T0 + i))
        for i, org in enumerate([a, b, a, b, b])
    ]
    log.append_many(leaves)
    found_a = log.by_subject(a)
    found_b = log.by_subject(b)
    assert [e.index for e in found_a] == [0, 2]
    assert [e.index for e in found_b] == [1, 3, 4]
    assert [e.index for e in log.by_subject(b, end=4)] == [1, 3]
    assert [e.index for e in log.by_subject(a, ["score.city"])] == [0, 2]
    # a third subject with neither key, and a key no entry has
    assert log.by_subject("91330100MA0YX1000K") == []


def test_a_record_key_collision_never_skips_a_record_not_logged(
    tmp_path: Path, store_url: str
) -> None:
    first, second = (_score(SUBJECTS[0], T0 + v) for v in COLLIDING_FROM)
    assert first.to_bytes() != second.to_bytes()
    h1, h2 = (record_hash(ISSUER, r.to_bytes()) for r in (first, second))
    assert h1 != h2 and record_key(h1) == record_key(h2)
    home = create_home(
        tmp_path / "home", region="cn-zj-hangzhou", origin="a53.example/log", db=store_url,
        now=T0,
    )  # fmt: skip
    with LocalNode(home) as node:
        assert node.home.platform_issuer == ISSUER
        (one,) = node.issue([first], iat=T0)
        assert one.is_new
        # the store finds the first record's entry for the second one's key...
        assert [e.index for e in node.store.find_records({h2: SUBJECTS[0]}).get(h2, [])] == [
            one.index
        ]
        # ...and the second record is logged all the same, in the same batch as a copy
        # of the first (found) and of itself (logged once)
        results = node.issue([second, first, second], iat=T0 + 1)
        assert [r.is_new for r in results] == [True, False, False]
        assert results[1].index == one.index
        assert results[0].index == results[2].index != one.index
        again = node.issue([first, second], iat=T0 + 2)
        assert [r.is_new for r in again] == [False, False]
        assert node.log.size == 2
